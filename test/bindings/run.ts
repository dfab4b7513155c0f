/**
 * The library from Python, Java and Go, cfn-lint over every synthesized template, and checkov over the two
 * security-scan variants (docs/bindings.md, docs/reliability.md).
 *
 *   npm run test:bindings [-- --only python,java,go,cfn-lint,checkov] [--strict] [--keep]
 *
 * Needs a compiled library (`npx projen build` or `npx projen compile`). Builds the wheel, the jar and the Go module
 * with jsii-pacmak, runs each language's test app against them, then lints the construct variants, the example app
 * and every template the test apps wrote, and scans the default and the hardened template with checkov. A step
 * whose toolchain is missing is reported NOT RUN with the reason; with --strict that fails the run. --keep keeps the synthesized templates (their directory is printed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lintTemplates } from './cfn-lint';
import { scanTemplates } from './checkov';
import { Language, Packages, buildPackages, humanSize, testGo, testJava, testPython } from './languages';
import { Interrupted, Outcome, ROOT, StepFailure, step } from './process';
import * as toolchains from './toolchains';

const STEPS = ['python', 'java', 'go', 'cfn-lint', 'checkov'] as const;
type Step = typeof STEPS[number];

interface Options {
  readonly only: readonly Step[];
  readonly strict: boolean;
  readonly keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let only: Step[] = [...STEPS];
  let strict = false;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--strict') {
      strict = true;
    } else if (arg === '--keep') {
      keep = true;
    } else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] ?? '' : arg.slice('--only='.length);
      const wanted = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const unknown = wanted.filter((s) => !(STEPS as readonly string[]).includes(s));
      if (wanted.length === 0 || unknown.length > 0) {
        throw new Error(`--only takes a comma-separated list of ${STEPS.join(', ')}; got ${JSON.stringify(value)}`);
      }
      only = wanted as Step[];
    } else {
      throw new Error(`Unknown argument ${JSON.stringify(arg)}. Usage: run.ts [--only ${STEPS.join(',')}] [--strict] [--keep]`);
    }
  }
  return { only, strict, keep };
}

/** Newest modification time under `dir` of files ending in `suffix`. */
function newest(dir: string, suffix: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return Math.max(latest, newest(file, suffix));
    return entry.name.endsWith(suffix) ? Math.max(latest, fs.statSync(file).mtimeMs) : latest;
  }, 0);
}

/** The compiled library (.jsii, lib/) and the handler bundle must exist and be newer than src/. */
function checkCompiled(): void {
  const missing = ['.jsii', 'lib/index.js', 'assets/handler/index.js', 'example/.bundles/manage-user/index.js']
    .filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length > 0) {
    throw new Error(`The library is not compiled (missing ${missing.join(', ')}). Run \`npx projen build\` (or \`npx projen pre-compile && npx projen compile\`) first.`);
  }
  if (fs.statSync(path.join(ROOT, '.jsii')).mtimeMs < newest(path.join(ROOT, 'src'), '.ts')) {
    throw new Error('src/ changed after the last compile (.jsii is older). Run `npx projen compile` first.');
  }
}

function main(): number {
  const options = parseArgs(process.argv.slice(2));
  checkCompiled();
  const outcomes: Outcome[] = [];
  const notRun = (name: string, reason: string) => outcomes.push({ step: name, status: 'not run', detail: reason });

  // Toolchains: a language runs when its toolchain is here; cfn-lint and checkov need Python.
  const found: Record<Language, toolchains.Toolchain> = {
    python: toolchains.python(), java: toolchains.java(), go: toolchains.go(),
  };
  console.log('Toolchains:');
  for (const [language, toolchain] of Object.entries(found)) {
    console.log(`  ${language}: ${toolchain.found ? toolchain.version : `missing (${toolchain.reason})`}`);
  }
  const languages = (['python', 'java', 'go'] as const).filter((l) => options.only.includes(l) && found[l].found);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-sfn-redshift-bindings-'));
  const cleanUp = () => fs.rmSync(tmp, { recursive: true, force: true });
  const onSignal = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    let packages: Packages = {};
    let packaged = true;
    if (languages.length > 0) {
      const outcome = step(`package (${languages.join(', ')})`, () => {
        packages = buildPackages(languages);
        return Object.entries(packages).filter(([, file]) => file).map(([kind, file]) => `${kind} ${path.relative(ROOT, file!)} (${humanSize(file!)})`).join('; ');
      });
      outcomes.push(outcome);
      packaged = outcome.status === 'passed';
    }

    const languageOut: Record<string, string> = {};
    const tests: Record<Language, (p: Packages, out: string) => string> = { python: testPython, java: testJava, go: testGo };
    for (const language of ['python', 'java', 'go'] as const) {
      if (!options.only.includes(language)) continue;
      const toolchain = found[language];
      if (!toolchain.found) {
        notRun(language, toolchain.reason);
      } else if (!packaged) {
        notRun(language, 'packaging failed (see above)');
      } else {
        const outcome = step(language, () => tests[language](packages, tmp));
        outcomes.push(outcome);
        if (outcome.status === 'passed') languageOut[`${language} app`] = path.join(tmp, language);
      }
    }

    if (options.only.includes('cfn-lint')) {
      const python = found.python;
      if (!python.found) notRun('cfn-lint', `cfn-lint is installed with pip: ${python.reason}`);
      else outcomes.push(step('cfn-lint', () => lintTemplates(tmp, languageOut)));
    }
    if (options.only.includes('checkov')) {
      const python = found.python;
      if (!python.found) notRun('checkov', `checkov is installed with pip: ${python.reason}`);
      else outcomes.push(step('checkov', () => scanTemplates(tmp)));
    }
    if (options.only.some((s) => s !== 'cfn-lint' && s !== 'checkov')) notRun('dotnet', toolchains.dotnet());
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    if (options.keep) console.log(`\nSynthesized templates kept in ${tmp}`);
    else cleanUp();
  }

  console.log('\n==== Summary ====');
  for (const o of outcomes) {
    const time = o.seconds !== undefined ? ` (${o.seconds} s)` : '';
    console.log(`${o.status.toUpperCase().padEnd(8)} ${o.step}${time}: ${o.detail}`);
  }
  const failed = outcomes.filter((o) => o.status === 'failed');
  // .NET has no test app: its NOT RUN is a statement, never a gap --strict should fail on.
  const skipped = outcomes.filter((o) => o.status === 'not run' && o.step !== 'dotnet');
  if (failed.length > 0) {
    console.log(`\nFAILED: ${failed.map((o) => o.step).join(', ')}`);
    return 1;
  }
  if (skipped.length > 0) {
    console.log(`\nNOT everything ran: ${skipped.map((o) => o.step).join(', ')} did not run (reasons above).`
      + (options.strict ? ' --strict: failing.' : ''));
    return options.strict ? 1 : 0;
  }
  console.log('\nAll selected steps passed.');
  return 0;
}

try {
  process.exitCode = main();
} catch (error) {
  if (error instanceof Interrupted) {
    console.error(`\nInterrupted: ${error.message}`);
    process.exitCode = 130;
  } else if (error instanceof StepFailure || error instanceof Error) {
    console.error(`\n${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
