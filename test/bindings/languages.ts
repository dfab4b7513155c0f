/**
 * Building the Python wheel, the Java jar and the Go module with jsii-pacmak, and running each language's test app
 * (test/bindings/{python,java,go}) against them.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, StepFailure, run } from './process';

export type Language = 'python' | 'java' | 'go';

const BINDINGS = path.join(ROOT, 'test', 'bindings');
/** Git-ignored and npm-ignored: the Python virtual environment and Maven's build output. */
export const WORK = path.join(ROOT, '.bindings');
const VENV = path.join(WORK, 'venv');
const REQUIREMENTS = path.join(BINDINGS, 'python', 'requirements.txt');
const DIST = path.join(ROOT, 'dist');

/** The package's version (package.json), which every built package carries. */
const version = (): string => JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

/** What jsii-pacmak built. */
export interface Packages {
  readonly wheel?: string;
  readonly jar?: string;
  readonly jarPom?: string;
  readonly goModule?: string;
}

/** Total size of a file or directory, in bytes. */
function size(file: string): number {
  const stat = fs.statSync(file);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(file).reduce((sum, entry) => sum + size(path.join(file, entry)), 0);
}

/** `1.2 MB` / `850 KB`. */
export function humanSize(file: string): string {
  const bytes = size(file);
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`;
}

/**
 * Builds the packages of the given languages into dist/<language> with one jsii-pacmak run (targets in parallel).
 * Java dependencies resolve through ~/.m2/repository, so Maven downloads are cached between runs.
 */
export function buildPackages(languages: readonly Language[]): Packages {
  for (const language of languages) fs.rmSync(path.join(DIST, language), { recursive: true, force: true });
  const args = languages.flatMap((language) => ['--target', language]);
  if (languages.includes('java')) args.push('--maven-local-repository', path.join(os.homedir(), '.m2', 'repository'));
  run(path.join(ROOT, 'node_modules', '.bin', 'jsii-pacmak'), ['-v', ...args]);

  const only = (dir: string, suffix: string): string => {
    const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(suffix)) : [];
    if (found.length !== 1) throw new StepFailure(`expected one *${suffix} in ${path.relative(ROOT, dir)}, found ${found.join(', ') || 'none'}`);
    return path.join(dir, found[0]);
  };
  const jarDir = path.join(DIST, 'java', 'io', 'github', 'cdkstepfunctionsredshift', 'cdk-stepfunctions-redshift', version());
  const goModule = path.join(DIST, 'go', 'cdkstepfunctionsredshift');
  return {
    wheel: languages.includes('python') ? only(path.join(DIST, 'python'), '.whl') : undefined,
    jar: languages.includes('java') ? path.join(jarDir, `cdk-stepfunctions-redshift-${version()}.jar`) : undefined,
    jarPom: languages.includes('java') ? path.join(jarDir, `cdk-stepfunctions-redshift-${version()}.pom`) : undefined,
    goModule: languages.includes('go') ? (fs.existsSync(path.join(goModule, 'go.mod')) ? goModule : undefined) : undefined,
  };
}

const venvBin = (tool: string): string => path.join(VENV, 'bin', tool);

/**
 * The virtual environment with test/bindings/python/requirements.txt installed (aws-cdk-lib, pytest, cfn-lint, checkov).
 * Reinstalled only when the requirements change (their hash is kept in the environment).
 */
export function ensureVenv(): void {
  const stamp = path.join(VENV, '.requirements-sha256');
  const wanted = createHash('sha256').update(fs.readFileSync(REQUIREMENTS)).digest('hex');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return;
  fs.mkdirSync(WORK, { recursive: true });
  if (!fs.existsSync(venvBin('python'))) run('python3', ['-m', 'venv', VENV]);
  run(venvBin('python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS]);
  fs.writeFileSync(stamp, wanted);
}

/** cfn-lint of the virtual environment. */
export const cfnLint = (): string => venvBin('cfn-lint');

/** checkov of the virtual environment. */
export const checkov = (): string => venvBin('checkov');

/** The wheel installed over the pinned aws-cdk-lib, then the Python test app (pytest). */
export function testPython(packages: Packages, cdkOut: string): string {
  if (!packages.wheel) throw new StepFailure('jsii-pacmak built no wheel');
  ensureVenv();
  // The same version number every build: force the reinstall, then check the wheel's requirements are met.
  run(venvBin('python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--force-reinstall', packages.wheel]);
  run(venvBin('python'), ['-m', 'pip', 'check']);
  run(venvBin('python'), ['-m', 'pytest', '-p', 'no:cacheprovider', '-v', path.join(BINDINGS, 'python')], {
    env: { BINDINGS_CDK_OUT: cdkOut, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return `pytest passed with ${path.basename(packages.wheel)} (${humanSize(packages.wheel)})`;
}

/** The jar installed into ~/.m2 (replacing an earlier build of the same version), then the Java test app (JUnit 5). */
export function testJava(packages: Packages, cdkOut: string): string {
  if (!packages.jar || !fs.existsSync(packages.jar) || !packages.jarPom) throw new StepFailure('jsii-pacmak built no jar');
  const pom = path.join(BINDINGS, 'java', 'pom.xml');
  const maven = ['--batch-mode', '--no-transfer-progress', '-f', pom];
  run('mvn', [...maven, '--quiet', 'install:install-file', `-Dfile=${packages.jar}`, `-DpomFile=${packages.jarPom}`]);
  run('mvn', [...maven, 'test', `-Dtasker.version=${version()}`], { env: { BINDINGS_CDK_OUT: cdkOut } });
  return `JUnit passed with ${path.basename(packages.jar)} (${humanSize(packages.jar)})`;
}

/** The Go test app against the module in dist/go (a `replace` directive in its go.mod). */
export function testGo(packages: Packages, cdkOut: string): string {
  if (!packages.goModule) throw new StepFailure('jsii-pacmak built no Go module');
  try {
    run('go', ['test', '-count=1', '-v', './...'], { cwd: path.join(BINDINGS, 'go'), env: { BINDINGS_CDK_OUT: cdkOut } });
  } catch (error) {
    if (error instanceof StepFailure) {
      throw new StepFailure(`${error.message}; if go.sum is missing entries after a jsii or aws-cdk-lib update, run \`go mod tidy\` in test/bindings/go`);
    }
    throw error;
  }
  return `go test passed with the module in dist/go (${humanSize(packages.goModule)})`;
}
