/**
 * Benchmark: the wall time of `npm run demo` (every example scenario end to end on the local stand-ins), run as a
 * newcomer runs it, in a child process, next to the figure before the demo was made faster (issue #12).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { round } from './stats';
import { PROJECT_ROOT as ROOT } from '../local/bundles';

/** `npm run demo` before: the Data API stand-in ran a database's statements one at a time, phases one after another. */
export const DEMO_BEFORE = { wallSeconds: 92.8, scenarios: 20 } as const;

export interface DemoResult {
  /** The demo's own wall time (its summary line), seconds. */
  readonly wallSeconds: number;
  /** The child process from spawn to exit (bundling, synthesis and start-up included), seconds. */
  readonly processSeconds: number;
  readonly scenarios: number;
  readonly allAsExpected: boolean;
  readonly before: typeof DEMO_BEFORE;
}

export function measureDemo(): Promise<DemoResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/demo.ts', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const processSeconds = round((performance.now() - started) / 1000, 1);
      // eslint-disable-next-line no-control-regex
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const summary = /(All (\d+) scenarios as expected|(\d+) of (\d+) scenarios did not match) — wall time ([\d.]+) s/.exec(plain);
      if (!summary) return reject(new Error(`the demo printed no summary (exit code ${code}): ${plain.slice(-500)}`));
      resolve({
        wallSeconds: Number(summary[5]),
        processSeconds,
        scenarios: Number(summary[2] ?? summary[4]),
        allAsExpected: summary[2] !== undefined && code === 0,
        before: DEMO_BEFORE,
      });
    });
  });
}
