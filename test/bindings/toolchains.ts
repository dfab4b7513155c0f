/** Which language toolchains this machine has, and if one is missing or too old, why. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, capture } from './process';

/** A toolchain found (with its version) or not (with the reason). */
export type Toolchain = { readonly found: true; readonly version: string } | { readonly found: false; readonly reason: string };

/** The oldest Python the wheel supports (its `Requires-Python`, set by jsii-pacmak). */
const MIN_PYTHON: readonly number[] = [3, 10];
/** The oldest Java the test app compiles for (maven.compiler.release in test/bindings/java/pom.xml). */
const MIN_JAVA = 11;

const older = (version: readonly number[], minimum: readonly number[]): boolean => {
  for (let i = 0; i < minimum.length; i++) {
    const [a, b] = [version[i] ?? 0, minimum[i]];
    if (a !== b) return a < b;
  }
  return false;
};

const numbers = (text: string): number[] => text.split('.').map((n) => Number.parseInt(n, 10));

/** Python 3 with the venv module and pip (for the wheel's test app and cfn-lint). */
export function python(): Toolchain {
  const result = capture('python3', ['-c', 'import sys, venv, ensurepip; print("%d.%d.%d" % sys.version_info[:3])']);
  if (result.missing) return { found: false, reason: 'python3 is not on PATH' };
  if (result.status !== 0) {
    return { found: false, reason: `python3 has no venv/ensurepip module (Debian: apt-get install python3-venv): ${result.stderr.trim().split('\n').pop()}` };
  }
  const version = result.stdout.trim();
  if (older(numbers(version), MIN_PYTHON)) return { found: false, reason: `python3 is ${version}; the wheel needs ${MIN_PYTHON.join('.')} or later` };
  return { found: true, version: `Python ${version}` };
}

/** A JDK and Maven (for the jar's test app). */
export function java(): Toolchain {
  const javac = capture('javac', ['-version']);
  if (javac.missing) return { found: false, reason: 'javac (a JDK) is not on PATH' };
  const version = /javac (\d+)[.\d]*/.exec(`${javac.stdout}${javac.stderr}`)?.[0];
  const major = Number.parseInt(/javac (\d+)/.exec(version ?? '')?.[1] ?? '0', 10);
  if (major < MIN_JAVA) return { found: false, reason: `the JDK is ${version ?? 'of unknown version'}; the test app needs Java ${MIN_JAVA} or later` };
  const mvn = capture('mvn', ['-v']);
  if (mvn.missing) return { found: false, reason: 'mvn (Apache Maven) is not on PATH' };
  const maven = /Apache Maven [\d.]+/.exec(mvn.stdout)?.[0] ?? 'Apache Maven';
  return { found: true, version: `${version}, ${maven}` };
}

/** Go, at least the version the test module declares (its `go` directive). */
export function go(): Toolchain {
  const result = capture('go', ['env', 'GOVERSION']);
  if (result.missing) return { found: false, reason: 'go is not on PATH' };
  const version = result.stdout.trim().replace(/^go/, '');
  const goMod = fs.readFileSync(path.join(ROOT, 'test', 'bindings', 'go', 'go.mod'), 'utf8');
  const required = /^go (\S+)$/m.exec(goMod)?.[1] ?? '0';
  if (older(numbers(version), numbers(required))) return { found: false, reason: `go is ${version}; the test module needs ${required} or later` };
  return { found: true, version: `Go ${version}` };
}

/** The .NET SDK: there is no .NET test app, only the generated code of the `bindings` task. */
export function dotnet(): string {
  const result = capture('dotnet', ['--version']);
  const sdk = result.missing || result.status !== 0 ? 'no .NET SDK on PATH' : `.NET SDK ${result.stdout.trim()} found`;
  return `.NET is generated as code only (npx projen bindings), there is no .NET test app (${sdk})`;
}
