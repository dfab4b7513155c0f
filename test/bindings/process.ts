/** Running the tools of the bindings test: commands with their output shown, steps with their outcome and time. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.join(__dirname, '..', '..');

/** What became of one step. */
export interface Outcome {
  readonly step: string;
  readonly status: 'passed' | 'failed' | 'not run';
  /** What was checked, why it failed, or why it did not run. */
  readonly detail: string;
  readonly seconds?: number;
}

/** A step that failed; the message says what failed and how to look closer. */
export class StepFailure extends Error {
  public readonly name = 'StepFailure';
}

/** The run was interrupted (a child process ended by a signal). */
export class Interrupted extends Error {
  public readonly name = 'Interrupted';
}

/**
 * The environment of every child process: the jsii runtime of each language starts `node`, so the directory of the
 * node running this script comes first on PATH (the same Node.js version for every language).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
    JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1',
    ...extra,
  };
}

/** Runs a command with its output shown; throws `StepFailure` when it exits non-zero. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): void {
  const cwd = options.cwd ?? ROOT;
  console.log(`\n$ ${[command, ...args].join(' ')}${cwd === ROOT ? '' : `   (in ${path.relative(ROOT, cwd)})`}`);
  const result = spawnSync(command, args, { cwd, env: childEnv(options.env), stdio: 'inherit' });
  if (result.signal) throw new Interrupted(`${command} ended by ${result.signal}`);
  if (result.error) throw new StepFailure(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new StepFailure(`${[command, ...args].join(' ')} exited with ${result.status} (output above)`);
}

/** Runs a command and returns its exit status and output (nothing shown). */
export function capture(command: string, args: readonly string[], options: { cwd?: string } = {}):
{ status: number | null; stdout: string; stderr: string; missing: boolean } {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? ROOT, env: childEnv(), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
  });
  if (result.signal) throw new Interrupted(`${command} ended by ${result.signal}`);
  const missing = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '', missing };
}

/** Runs a step: its outcome with the time it took; a `StepFailure` becomes a failed outcome. */
export function step(name: string, body: () => string): Outcome {
  console.log(`\n==== ${name} ====`);
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 100) / 10;
  try {
    return { step: name, status: 'passed', detail: body(), seconds: seconds() };
  } catch (error) {
    if (!(error instanceof StepFailure)) throw error;
    return { step: name, status: 'failed', detail: error.message, seconds: seconds() };
  }
}
