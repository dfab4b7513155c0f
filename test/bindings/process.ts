/** Running the tools of the bindings test: commands with their output shown, steps with their outcome and time. */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
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

/** A directory holding only `node`: the Node.js running this script (git-ignored). */
const NODE_BIN = path.join(ROOT, '.bindings', 'node-bin');

/**
 * The environment of every child process. The jsii runtime of each language starts `node` (`JSII_NODE`, else from
 * PATH), and so do the CDK CLI and npm: all of them get the Node.js running this script. Only `node` is put in front
 * of PATH, so every other tool (python3, java, mvn, go) is found as on the caller's PATH.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const node = path.join(NODE_BIN, 'node');
  if (!fs.existsSync(node) || fs.realpathSync(node) !== fs.realpathSync(process.execPath)) {
    fs.mkdirSync(NODE_BIN, { recursive: true });
    fs.rmSync(node, { force: true });
    fs.symlinkSync(process.execPath, node);
  }
  return {
    ...process.env,
    PATH: [NODE_BIN, process.env.PATH ?? ''].join(path.delimiter),
    JSII_NODE: process.execPath,
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
