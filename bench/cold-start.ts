/**
 * Benchmark 2: cold start of the bundled handler, per path. A fresh Node.js process (the project's Node.js 24, the
 * major version of the Lambda runtime nodejs24.x) loads `assets/handler/index.js` (Lambda's INIT phase: config,
 * logger, whatever the module scope does) and runs one invocation, side by side with a bare `node -e 0`, in one run,
 * interleaved so every path sees the same machine state. Paths:
 * - `invalid`: an invalid request (no network);
 * - `start`: `executeStatement` with a task token (PutItem + ExecuteStatement on the local endpoints);
 * - `completion`: an SQS batch holding the status-change event of the statement the start run before it started
 *   (claim in DynamoDB, then SendTaskSuccess to the local Step Functions endpoint);
 * - `reconcile`: a reconciler sweep with nothing to do (one query of the in-flight index).
 * Per path: median and p90 wall time, the difference and ratio to bare Node.js, and the bytes of JavaScript the path
 * evaluates (see `loaded-bytes.ts`). Also the bundle's size on disk and gzipped, and, in the same loop, the floor: the
 * SDK clients of the start and completion paths alone making the same calls (`cold-start-floor.ts`), bundled from the
 * SDK packages' CommonJS builds (esbuild's default for Node.js, as the handler) and from their ES module builds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { LoadedBytes, loadedBytes, mapBundle } from './loaded-bytes';
import { median, percentile, round } from './stats';
import { LocalAws, startLocalAws } from '../local/aws';
import { PROJECT_ROOT as ROOT } from '../local/bundles';
import { HANDLER_BUNDLE as BUNDLE } from '../local/lambda/handler';
import { sqsRecord } from '../local/servers/sqs-queue';
import { LAMBDA_NODE_TARGET } from '../projenrc/bundle-handler';

export const COLD_PATHS = ['invalid', 'start', 'completion', 'reconcile'] as const;
export type ColdPath = typeof COLD_PATHS[number];

export interface Timing {
  readonly median: number;
  readonly p90: number;
}

export interface ColdPathResult {
  /** Wall time of the process (spawn to exit), ms. */
  readonly wallMs: Timing;
  /** Median(path) − median(bare), ms. */
  readonly differenceMs: number;
  /** Median(path) / median(bare). */
  readonly ratio: number;
  /** Inside the process: loading the bundle (module scope), ms (median). */
  readonly loadMs: number;
  /** Inside the process: the invocation (first connections included), ms (median). */
  readonly invokeMs: number;
  /** The JavaScript this path evaluates. */
  readonly loaded: LoadedBytes;
}

/** A path of the floor: the SDK clients alone (see `cold-start-floor.ts`). */
export type FloorPathResult = Omit<ColdPathResult, 'loaded'>;

export const FLOOR_PATHS = ['start', 'completion'] as const;
export type FloorPath = typeof FLOOR_PATHS[number];

/**
 * How a floor bundle is built: `commonjs` from the packages' CommonJS builds (`main`: esbuild's default for Node.js,
 * as the handler's bundle, one wrapped module per file); `modules` from their ES module builds (`module` first:
 * esbuild hoists the modules into one scope, no wrappers, and keeps only what the two commands use).
 */
export const FLOOR_BUILDS = ['commonjs', 'modules'] as const;
export type FloorBuild = typeof FLOOR_BUILDS[number];

export type FloorResult = Record<FloorPath, FloorPathResult> & { readonly bundleBytes: Record<FloorPath, number> };

export interface ColdStartResult {
  readonly runs: number;
  /** The Node.js that ran the processes (`process.version`). */
  readonly node: string;
  /** When the run started. */
  readonly date: string;
  /** The machine's 1-minute load average at the run's start and end (other work on the machine adds noise). */
  readonly loadAverage?: { readonly atStart: number; readonly atEnd: number };
  /** Wall time of `node -e 0` (process start to exit), ms. */
  readonly bareNodeMs: Timing;
  readonly paths: Record<ColdPath, ColdPathResult>;
  readonly bundleBytes: number;
  readonly bundleGzipBytes: number;
  /** The SDK clients of the start and completion paths alone, same calls, measured in the same loop. */
  readonly floor: Record<FloorBuild, FloorResult>;
  /** The same figures for a baseline bundle measured side by side in the same run (see `readBaseline`), if any. */
  readonly before?: Omit<ColdStartResult, 'before' | 'floor'> & { readonly label: string };
}

const PROBE = `
const { performance } = require('node:perf_hooks');
const t0 = performance.now();
const bundle = require(process.env.BENCH_BUNDLE);
const loaded = performance.now();
const event = process.env.BENCH_EVENT ? JSON.parse(process.env.BENCH_EVENT) : {};
bundle.handler(event).then((result) => ({ outcome: 'ok', result }), (e) => ({ outcome: e.name })).then((answer) => {
  process.stdout.write('\\n' + JSON.stringify({ loadMs: loaded - t0, invokeMs: performance.now() - loaded, ...answer }));
});
`;

interface Run {
  readonly wallMs: number;
  readonly inner: { loadMs: number; invokeMs: number; outcome: string; result?: any };
}

function spawnNode(args: string[], env: Record<string, string>): Promise<{ wallMs: number; out: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`exit code ${code}: ${out}`));
      resolve({ wallMs, out });
    });
  });
}

async function probe(env: Record<string, string>, event: unknown): Promise<Run> {
  const { wallMs, out } = await spawnNode(['-e', PROBE], { ...env, BENCH_EVENT: JSON.stringify(event) });
  // The function's own output (its EMF metric lines) shares stdout: the probe's answer is the line with `loadMs`.
  const answer = out.split('\n').find((line) => line.startsWith('{"loadMs"'));
  if (answer === undefined) throw new Error(`the probe gave no answer: ${out.slice(0, 300)}`);
  return { wallMs, inner: JSON.parse(answer) };
}

/** One cold invocation of each path, in order (the completion consumes the statement the start started). */
class PathRunner {
  private n = 0;
  constructor(private readonly aws: LocalAws) {}

  async invalid(env: Record<string, string>): Promise<Run> {
    const run = await probe(env, {});
    if (run.inner.outcome !== 'InvalidRequest') throw new Error(`invalid request: unexpected outcome ${run.inner.outcome}`);
    return run;
  }

  async start(env: Record<string, string>): Promise<Run & { token: string; id: string }> {
    const token = this.aws.sfn.issueToken();
    const executionArn = `arn:aws:states:eu-west-1:123456789012:execution:ColdStart:run-${++this.n}`;
    const run = await probe(env, { sqlStatement: `select ${this.n}`, taskToken: token, executionArn });
    if (run.inner.outcome !== 'ok' || typeof run.inner.result?.Id !== 'string') throw new Error(`start: unexpected outcome ${run.inner.outcome}`);
    return { ...run, token, id: run.inner.result.Id };
  }

  async completion(env: Record<string, string>, started: { token: string; id: string }): Promise<Run> {
    const deadline = Date.now() + 20_000;
    let event = this.aws.dataApi.events.find((e) => e.detail.statementId === started.id);
    while (!event) {
      if (Date.now() > deadline) throw new Error(`no status-change event for ${started.id}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      event = this.aws.dataApi.events.find((e) => e.detail.statementId === started.id);
    }
    const body = JSON.stringify(event);
    const record = sqsRecord({ messageId: `cold-${started.id}`, body, receiveCount: 1, sentAt: Date.now() }, 'arn:aws:sqs:eu-west-1:123456789012:cold-start');
    const run = await probe(env, { Records: [record] });
    if (run.inner.outcome !== 'ok' || run.inner.result?.batchItemFailures?.length) throw new Error(`completion: unexpected outcome ${JSON.stringify(run.inner)}`);
    const callbacks = this.aws.sfn.calls.filter((call) => call.taskToken === started.token && call.operation === 'SendTaskSuccess' && call.answer === 'accepted');
    if (callbacks.length !== 1) throw new Error(`completion: ${callbacks.length} accepted callbacks for the statement's token, expected 1`);
    return run;
  }

  async reconcile(env: Record<string, string>): Promise<Run> {
    const run = await probe(env, { action: 'reconcile' });
    if (run.inner.outcome !== 'ok' || run.inner.result?.examined !== 0) throw new Error(`reconcile: unexpected outcome ${JSON.stringify(run.inner)}`);
    return run;
  }

  /** The floor's start: PutItem and ExecuteStatement from the clients alone. */
  async floorStart(env: Record<string, string>): Promise<Run> {
    const run = await probe(env, { sqlStatement: `select ${++this.n}` });
    if (run.inner.outcome !== 'ok' || typeof run.inner.result?.Id !== 'string') throw new Error(`floor start: unexpected outcome ${JSON.stringify(run.inner)}`);
    return run;
  }

  /** The floor's completion: UpdateItem and SendTaskSuccess from the clients alone. */
  async floorCompletion(env: Record<string, string>): Promise<Run> {
    const token = this.aws.sfn.issueToken();
    const run = await probe(env, { taskToken: token });
    const accepted = this.aws.sfn.calls.filter((call) => call.taskToken === token && call.answer === 'accepted').length;
    if (run.inner.outcome !== 'ok' || accepted !== 1) throw new Error(`floor completion: unexpected outcome ${JSON.stringify(run.inner)}, ${accepted} accepted callbacks`);
    return run;
  }

  /** One run of every path in order. */
  async all(env: Record<string, string>): Promise<Record<ColdPath, Run>> {
    const invalid = await this.invalid(env);
    const start = await this.start(env);
    const completion = await this.completion(env, start);
    const reconcile = await this.reconcile(env);
    return { invalid, start, completion, reconcile };
  }
}

/** Runs every path once on the unminified twin with V8 coverage: the bytes each evaluates. */
async function measureLoaded(runner: PathRunner, base: Record<string, string>): Promise<Record<ColdPath, LoadedBytes>> {
  const map = await mapBundle(join(ROOT, '.bench', 'cold-start'));
  const dirs = Object.fromEntries(COLD_PATHS.map((path) => [path, mkdtempSync(join(tmpdir(), `cold-${path}-`))])) as Record<ColdPath, string>;
  try {
    const env = (path: ColdPath) => ({ ...base, BENCH_BUNDLE: map.twin, NODE_V8_COVERAGE: dirs[path] });
    await runner.invalid(env('invalid'));
    const started = await runner.start(env('start'));
    await runner.completion(env('completion'), started);
    await runner.reconcile(env('reconcile'));
    const loaded = Object.fromEntries(COLD_PATHS.map((path) => [path, loadedBytes(map, dirs[path])])) as Record<ColdPath, LoadedBytes>;
    if (map.bytes !== statSync(BUNDLE).size) {
      throw new Error(`the measured bundle (${map.bytes} bytes) differs from ${BUNDLE} (${statSync(BUNDLE).size}): rebuild it (npx projen bundle:lambda)`);
    }
    return loaded;
  } finally {
    for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  }
}

/** A bundle to measure side by side with the current one (the same paths, interleaved in the same run). */
export interface ColdStartBaseline {
  readonly label: string;
  readonly bundle: string;
  /** The JavaScript each path of that bundle evaluates (measured with it, see `loaded-bytes.ts`). */
  readonly loaded: Record<ColdPath, LoadedBytes>;
}

type Samples = Record<ColdPath, Run[]>;
const stats = (values: number[]): Timing => ({ median: round(median(values)), p90: round(percentile(values, 90)) });

function summarisePath(runs: Run[], bareMedian: number): FloorPathResult {
  const wall = runs.map((r) => r.wallMs);
  return {
    wallMs: stats(wall),
    differenceMs: round(median(wall) - bareMedian),
    ratio: round(median(wall) / bareMedian, 2),
    loadMs: round(median(runs.map((r) => r.inner.loadMs))),
    invokeMs: round(median(runs.map((r) => r.inner.invokeMs))),
  };
}

/**
 * Bundles one path of `cold-start-floor.ts` as its own bundle's `handler` (minified CommonJS for the handler's Node.js
 * target; the other path's client is left out), from the packages' CommonJS or ES module builds (see `FloorBuild`).
 */
export async function buildFloorBundle(path: FloorPath, how: FloorBuild, outfile: string): Promise<string> {
  const exported = path === 'start' ? 'floorStart' : 'floorCompletion';
  await build({
    absWorkingDir: ROOT,
    stdin: { contents: `export { ${exported} as handler } from './bench/cold-start-floor';`, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: LAMBDA_NODE_TARGET,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    outfile,
    logLevel: 'warning',
    ...how === 'modules' ? { mainFields: ['module', 'main'] } : {},
  });
  return outfile;
}

function summarise(samples: Samples, bare: number[], loaded: Record<ColdPath, LoadedBytes>): Record<ColdPath, ColdPathResult> {
  const bareMedian = median(bare);
  return Object.fromEntries(COLD_PATHS.map((path) => {
    const result: ColdPathResult = { ...summarisePath(samples[path], bareMedian), loaded: loaded[path] };
    return [path, result];
  })) as Record<ColdPath, ColdPathResult>;
}

const sizes = (bundle: string) => ({ bundleBytes: statSync(bundle).size, bundleGzipBytes: gzipSync(readFileSync(bundle), { level: 9 }).length });

/** Runs every path `runs` times (and the baseline's, interleaved, alternating which goes first), with bare Node.js. */
export async function measureColdStart(runs = 30, baseline?: ColdStartBaseline): Promise<ColdStartResult> {
  const date = new Date().toISOString();
  const loadAtStart = round(loadavg()[0], 2);
  const aws = await startLocalAws();
  try {
    // Lambda sets the function's name (a sweep needs it: statements are indexed by the function that started them).
    // Without the fast path, so the start and the completion are each their own path (with it, a short statement's
    // start also runs the completion's code: `fast-path.ts` measures that).
    const base = aws.env({ AWS_LAMBDA_FUNCTION_NAME: 'cold-start-tasker', FAST_PATH_WAIT_SECONDS: '0' });
    const env = { ...base, BENCH_BUNDLE: BUNDLE };
    const baselineEnv = baseline && { ...base, BENCH_BUNDLE: baseline.bundle };
    const runner = new PathRunner(aws);
    // Every floor bundle (build × path), with its samples.
    const floors: Array<{ how: FloorBuild; path: FloorPath; bundle: string; runs: Run[] }> = [];
    for (const how of FLOOR_BUILDS) {
      for (const path of FLOOR_PATHS) {
        floors.push({ how, path, bundle: await buildFloorBundle(path, how, join(ROOT, '.bench', 'cold-start-floor', how, path, 'index.js')), runs: [] });
      }
    }
    const runFloor = (floor: typeof floors[number]) => {
      const floorEnv = { ...base, BENCH_BUNDLE: floor.bundle };
      return floor.path === 'start' ? runner.floorStart(floorEnv) : runner.floorCompletion(floorEnv);
    };
    const bare: number[] = [];
    const empty = (): Samples => ({ invalid: [], start: [], completion: [], reconcile: [] });
    const samples = empty();
    const baselineSamples = empty();
    // One warm-up of each, not counted (file-system cache, the local services' first requests).
    await spawnNode(['-e', '0'], {});
    await runner.all(env);
    if (baselineEnv) await runner.all(baselineEnv);
    for (const floor of floors) await runFloor(floor);
    const record = async (into: Samples, pathEnv: Record<string, string>) => {
      const one = await runner.all(pathEnv);
      for (const path of COLD_PATHS) into[path].push(one[path]);
    };
    for (let i = 0; i < runs; i++) {
      bare.push((await spawnNode(['-e', '0'], {})).wallMs);
      if (baselineEnv && i % 2 === 0) await record(baselineSamples, baselineEnv);
      await record(samples, env);
      if (baselineEnv && i % 2 === 1) await record(baselineSamples, baselineEnv);
      for (const floor of floors) floor.runs.push(await runFloor(floor));
    }
    const loaded = await measureLoaded(runner, base);
    const loadAverage = { atStart: loadAtStart, atEnd: round(loadavg()[0], 2) };
    const common = { runs, node: process.version, date, loadAverage, bareNodeMs: stats(bare) };
    return {
      ...common,
      paths: summarise(samples, bare, loaded),
      floor: Object.fromEntries(FLOOR_BUILDS.map((how) => {
        const of = (path: FloorPath) => floors.find((floor) => floor.how === how && floor.path === path)!;
        const result: FloorResult = {
          start: summarisePath(of('start').runs, median(bare)),
          completion: summarisePath(of('completion').runs, median(bare)),
          bundleBytes: { start: statSync(of('start').bundle).size, completion: statSync(of('completion').bundle).size },
        };
        return [how, result];
      })) as Record<FloorBuild, FloorResult>,
      ...sizes(BUNDLE),
      ...baseline ? {
        before: { label: baseline.label, ...common, paths: summarise(baselineSamples, bare, baseline.loaded), ...sizes(baseline.bundle) },
      } : {},
    };
  } finally {
    await aws.close();
  }
}

/**
 * A baseline from `file` (a JSON `{ label, bundle, loaded }`, `bundle` relative to the file), when it and its bundle
 * exist: `npm run bench` then measures that bundle side by side with the current one.
 */
export function readBaseline(file: string): ColdStartBaseline | undefined {
  if (!existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as ColdStartBaseline;
  const bundle = resolvePath(dirname(file), saved.bundle);
  return existsSync(bundle) ? { ...saved, bundle } : undefined;
}

if (require.main === module) {
  const baseline = process.argv[3] ? readBaseline(process.argv[3]) : undefined;
  if (process.argv[3] && !baseline) throw new Error(`no baseline (or no bundle of it) at ${process.argv[3]}`);
  measureColdStart(Number(process.argv[2] ?? 30), baseline).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
