/**
 * Benchmark 2: cold start of the bundled handler. A fresh Node.js process loads `assets/handler/index.js` (config,
 * SDK clients, logger: the Lambda INIT phase) and runs one invocation, against a bare Node.js process; the median of
 * many runs, alternating so both see the same machine state. Also: the bundle's size on disk and gzipped.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { median, percentile, round } from './stats';
import { startLocalAws } from '../local/aws';
import { PROJECT_ROOT as ROOT } from '../local/bundles';
import { HANDLER_BUNDLE as BUNDLE } from '../local/lambda/handler';

export interface ColdStartResult {
  readonly runs: number;
  /** Wall time of `node -e 0` (process start to exit), median and p90, ms. */
  readonly bareNodeMs: { readonly median: number; readonly p90: number };
  /** Wall time of a process that loads the bundle and handles an invalid request (no network), ms. */
  readonly handlerInvalidRequestMs: { readonly median: number; readonly p90: number };
  /** Wall time of a process that loads the bundle and starts a statement against the local endpoints, ms. */
  readonly handlerFirstStartMs: { readonly median: number; readonly p90: number };
  /** Inside the process: time to load the bundle (module scope), ms (median). */
  readonly loadMs: number;
  /** Inside the process: the first invocation that calls AWS (PutItem + ExecuteStatement, first connections), ms. */
  readonly firstStartInvocationMs: number;
  /** Median(handler, invalid request) / median(bare). */
  readonly ratio: number;
  /** Median(handler, invalid request) − median(bare), ms. */
  readonly differenceMs: number;
  readonly bundleBytes: number;
  readonly bundleGzipBytes: number;
}

const PROBE = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const bundle = require(process.env.BENCH_BUNDLE);
const loaded = performance.now();
const event = process.env.BENCH_EVENT ? JSON.parse(process.env.BENCH_EVENT) : {};
bundle.handler(event).then(() => 'ok', (e) => e.name).then((outcome) => {
  process.stdout.write(JSON.stringify({ loadMs: loaded - t0, invokeMs: performance.now() - loaded, outcome }));
});
`;

interface Run {
  readonly wallMs: number;
  readonly inner?: { loadMs: number; invokeMs: number; outcome: string };
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`exit code ${code}: ${out}`));
      resolve({ wallMs, inner: out ? JSON.parse(out) : undefined });
    });
  });
}

export async function measureColdStart(runs = 30): Promise<ColdStartResult> {
  const aws = await startLocalAws();
  try {
    const base = { ...aws.env(), BENCH_BUNDLE: BUNDLE };
    const start = JSON.stringify({ sqlStatement: 'select 1' });
    const bare: number[] = [];
    const invalid: Run[] = [];
    const firstStart: Run[] = [];
    // One warm-up of each, not counted (file-system cache).
    await run(['-e', '0'], {});
    await run(['-e', PROBE], base);
    for (let i = 0; i < runs; i++) {
      bare.push((await run(['-e', '0'], {})).wallMs);
      invalid.push(await run(['-e', PROBE], base));
      firstStart.push(await run(['-e', PROBE], { ...base, BENCH_EVENT: start }));
    }
    for (const r of invalid) if (r.inner?.outcome !== 'InvalidRequest') throw new Error(`unexpected outcome ${r.inner?.outcome}`);
    for (const r of firstStart) if (r.inner?.outcome !== 'ok') throw new Error(`unexpected outcome ${r.inner?.outcome}`);
    const stats = (values: number[]) => ({ median: round(median(values)), p90: round(percentile(values, 90)) });
    const bareMedian = median(bare);
    const invalidMedian = median(invalid.map((r) => r.wallMs));
    const bytes = readFileSync(BUNDLE);
    return {
      runs,
      bareNodeMs: stats(bare),
      handlerInvalidRequestMs: stats(invalid.map((r) => r.wallMs)),
      handlerFirstStartMs: stats(firstStart.map((r) => r.wallMs)),
      loadMs: round(median(invalid.map((r) => r.inner!.loadMs))),
      firstStartInvocationMs: round(median(firstStart.map((r) => r.inner!.invokeMs))),
      ratio: round(invalidMedian / bareMedian, 2),
      differenceMs: round(invalidMedian - bareMedian),
      bundleBytes: statSync(BUNDLE).size,
      bundleGzipBytes: gzipSync(bytes, { level: 9 }).length,
    };
  } finally {
    await aws.close();
  }
}

if (require.main === module) {
  measureColdStart(Number(process.argv[2] ?? 30)).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
