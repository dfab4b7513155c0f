/**
 * `npm run bench`: runs every benchmark against local stand-ins of the AWS services, prints a summary table and
 * writes `docs/benchmarks.json` (all figures) and `docs/benchmarks.md` (method and figures).
 *
 * Options: `--quick` (fewer samples, for a smoke run; writes to .bench/ instead of docs/), `--only=calls,cold,
 * throughput,synth,latency,fastpath,sessions,results,demo,localpackage` (the cost model needs `calls`; writes to .bench/, or, with `--update-docs`, replaces
 * those sections in docs/), `--render` (rewrites docs/benchmarks.md
 * from docs/benchmarks.json).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measureCalls } from './calls';
import { measureColdStart, readBaseline } from './cold-start';
import { computeCost } from './cost';
import { measureDemo } from './demo';
import { measureFastPath } from './fast-path';
import { measureEndToEndLatency, measureLatency } from './latency';
import { measureLocalPackage } from './local-package';
import { describeMachine } from './machine';
import { renderMarkdown } from './report';
import { BenchResults } from './results';
import { measureResultsExport } from './results-export';
import { measureSessions } from './sessions';
import { measureSynth } from './synth';
import { measureThroughput } from './throughput';
import { PROJECT_ROOT as ROOT } from '../local/bundles';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--render')) {
    const saved = JSON.parse(readFileSync(join(ROOT, 'docs', 'benchmarks.json'), 'utf8')) as BenchResults;
    writeFileSync(join(ROOT, 'docs', 'benchmarks.md'), renderMarkdown(saved));
    return;
  }
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const wanted = (name: string) => only === undefined || only.includes(name);
  const settings = {
    workers: [1, 4, 8],
    addedLatencyMs: [0, 10],
    ...quick
      ? { coldStartRuns: 5, throughputEvents: 300, synthRepeats: 1, latencySamples: 30, endToEndExecutions: 10, fastPathSamples: 2 }
      : { coldStartRuns: 30, throughputEvents: 2000, synthRepeats: 3, latencySamples: 300, endToEndExecutions: 100, fastPathSamples: 10 },
  };
  const step = (name: string) => console.error(`[bench] ${name} ...`);

  // The bundles under test are the current sources'.
  step('bundling the handlers (npx projen bundle:lambda)');
  execFileSync('npx', ['projen', 'bundle:lambda'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

  const machine = describeMachine();
  let results: BenchResults = { machine, settings };
  if (wanted('calls')) {
    step('AWS calls per lifecycle');
    const calls = await measureCalls();
    results = { ...results, calls, cost: computeCost(calls) };
  }
  if (wanted('cold')) {
    step('cold start');
    // The handler before the cold-start work, side by side, when its bundle is at hand (see the baseline file).
    const baseline = readBaseline(join(ROOT, 'bench', 'cold-start-before.json'));
    results = { ...results, coldStart: await measureColdStart(settings.coldStartRuns, baseline) };
  }
  if (wanted('throughput')) {
    step('completion throughput');
    results = { ...results, throughput: await measureThroughput(settings.throughputEvents, settings.workers, settings.addedLatencyMs) };
  }
  if (wanted('synth')) {
    step('synthesis at scale');
    results = { ...results, synth: measureSynth([1, 10, 50], settings.synthRepeats) };
  }
  if (wanted('latency')) {
    step('callback latency');
    results = { ...results, latency: await measureLatency(settings.latencySamples) };
    step('callback latency, local end-to-end run');
    results = { ...results, endToEndLatency: await measureEndToEndLatency(settings.endToEndExecutions) };
  }
  if (wanted('fastpath')) {
    step('fast path vs event path');
    results = { ...results, fastPath: await measureFastPath(settings.fastPathSamples) };
  }
  if (wanted('sessions')) {
    step('sessions and serialization conflicts');
    results = { ...results, sessions: await measureSessions(quick ? 5 : 20, quick ? [4] : [4, 8, 16]) };
  }
  if (wanted('results')) {
    step('results: exports to S3, bytes per row');
    results = { ...results, resultsExport: await measureResultsExport(quick ? [1] : [1, 50, 500]) };
  }
  if (wanted('demo')) {
    step('npm run demo');
    results = { ...results, demo: await measureDemo() };
  }
  if (wanted('localpackage')) {
    step('the local runner for users\' apps (cdk-stepfunctions-redshift-local)');
    results = { ...results, localPackage: await measureLocalPackage(quick ? 1 : 3) };
  }

  printSummary(results);
  // `--only=... --update-docs`: the sections measured now replace theirs in docs/benchmarks.json; the rest is kept.
  const updateDocs = only !== undefined && !quick && args.includes('--update-docs');
  if (updateDocs) {
    const saved = JSON.parse(readFileSync(join(ROOT, 'docs', 'benchmarks.json'), 'utf8')) as BenchResults;
    const measured = Object.fromEntries(Object.entries(results).filter(([key]) => key !== 'machine' && key !== 'settings'));
    results = { ...saved, ...measured };
  }
  const outdir = (quick || only !== undefined) && !updateDocs ? join(ROOT, '.bench') : join(ROOT, 'docs');
  mkdirSync(outdir, { recursive: true });
  writeFileSync(join(outdir, 'benchmarks.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outdir, 'benchmarks.md'), renderMarkdown(results));
  console.error(`[bench] wrote ${join(outdir, 'benchmarks.json')} and benchmarks.md`);
}

function printSummary(results: BenchResults): void {
  const rows: Array<[string, string]> = [];
  for (const c of results.calls ?? []) {
    rows.push([`calls: ${c.lifecycle}`, `${c.startTotal} + ${c.completionTotal} = ${c.total} (original ${c.original.total})`]);
  }
  const cold = results.coldStart;
  if (cold) {
    rows.push([`cold start: bare node ${cold.node} (median)`, `${cold.bareNodeMs.median} ms`]);
    for (const [path, r] of Object.entries(cold.paths)) {
      rows.push([`cold start: handler + ${path} (median)`, `${r.wallMs.median} ms (x${r.ratio}, +${r.differenceMs} ms, ${r.loaded.bytes} bytes of JS)`]);
    }
    rows.push(['bundle size', `${cold.bundleBytes} bytes (${cold.bundleGzipBytes} gzipped)`]);
  }
  for (const run of results.throughput?.runs ?? []) {
    rows.push([`throughput: ${run.workers} worker(s), +${run.addedLatencyMs} ms/call`, `${run.eventsPerSecond} events/s (${run.callbacks} callbacks, ${run.duplicateCallbacks} duplicates, ${run.deadLetters} DLQ)`]);
  }
  for (const s of results.throughput?.scaling ?? []) {
    rows.push([`throughput scaling (+${s.addedLatencyMs} ms/call)`, `x${s.ratio4} at 4, x${s.ratio8} at 8 (original: x1, concurrency 1)`]);
  }
  for (const s of results.synth ?? []) {
    rows.push([`synth: ${s.taskers} tasker(s)`, `${s.synthMs} ms, ${s.templateBytes} bytes, ${s.resources} resources, ${s.lambdaCodeAssets} code asset(s)`]);
  }
  const latency = results.latency;
  if (latency) {
    rows.push(['latency: event → SendTaskSuccess', `p50 ${latency.eventToCallbackMs.p50} ms, p95 ${latency.eventToCallbackMs.p95} ms`]);
    rows.push(['latency: start → SendTaskSuccess', `p50 ${latency.startToCallbackMs.p50} ms, p95 ${latency.startToCallbackMs.p95} ms`]);
  }
  const e2e = results.endToEndLatency;
  if (e2e) {
    rows.push(['latency (end-to-end run): statement end → SendTaskSuccess', `p50 ${e2e.endToCallbackMs.p50} ms, p95 ${e2e.endToCallbackMs.p95} ms (${e2e.fastPathCallbacks} by the fast path)`]);
  }
  for (const run of results.fastPath?.runs ?? []) {
    for (const row of run.rows) {
      rows.push([`fast path, ${row.statementMs} ms statement, event after ${run.eventDelayMs} ms`,
        `callback p50 ${row.fastPath.callbackLatencyMs.p50} ms vs ${row.eventPath.callbackLatencyMs.p50} ms by event; +${row.addedBilledMs} ms billed`]);
    }
  }
  for (const v of results.sessions?.workflow.variants ?? []) {
    rows.push([`3-step workflow, ${v.variant}`, `${v.callsTotal} calls, p50 ${v.wallMs.p50} ms`]);
  }
  for (const run of results.sessions?.conflicts ?? []) {
    rows.push([`${run.writers} concurrent writers`, `${run.succeeded} SUCCEEDED, ${run.conflicts} conflicts retried, at most ${run.maxRetries} retries per writer`]);
  }
  for (const run of results.resultsExport?.runs ?? []) {
    rows.push([`export to S3: ${run.targetMb} MB (${run.rows} rows)`, `${run.mbPerSecond} MB/s, ${run.rowsPerSecond} rows/s, peak RSS ${run.peakRssMb} MB (floor ${results.resultsExport!.floorRssMb} MB)`]);
  }
  if (results.resultsExport) {
    const b = results.resultsExport.bytesPerRow;
    rows.push(['output bytes per row', `${b.objects} as plain objects, ${b.typedCells} as typed cells`]);
  }
  if (results.demo) {
    rows.push(['npm run demo', `${results.demo.wallSeconds} s, ${results.demo.scenarios} scenarios${results.demo.allAsExpected ? ' as expected' : ', NOT all as expected'} (before: ${results.demo.before.wallSeconds} s)`]);
  }
  const lp = results.localPackage;
  if (lp) {
    rows.push(['local runner: one-state machine, CLI in a fresh process (cold)', `${lp.oneStateColdCliMs} ms (${lp.cli})`]);
    rows.push(['local runner: one-state machine, run on a started LocalApp (warm)', `${lp.oneStateWarmMs} ms`]);
    rows.push(['local runner: LocalApp.start + stop', `${lp.startMs} ms + ${lp.stopMs} ms`]);
    rows.push(['local runner: example chained machine, cold / warm', `${lp.longestColdMs} ms / ${lp.longestWarmMs} ms`]);
    rows.push(['local runner: memory', `${lp.rssMb} MB resident, ${lp.functionEnvironments} function environments`]);
  }
  for (const line of results.cost?.lines ?? []) {
    rows.push([`cost: ${line.design}${line.statementMinutes === 'any' ? '' : `, ${line.statementMinutes} min`}`, `$${line.perStatementUsd.toExponential(2)} per statement`]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
