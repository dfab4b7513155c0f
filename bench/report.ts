/** Renders `docs/benchmarks.md` from the results of `bench/run.ts`. */
import { COLD_PATHS, FLOOR_BUILDS, FLOOR_PATHS, type ColdPath, type ColdStartResult, type FloorBuild, type FloorPath, type FloorPathResult } from './cold-start';
import { renderFastPath } from './fast-path';
import type { BenchResults } from './results';
import { renderSessions } from './sessions-report';
import { round } from './stats';

const fmt = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => (n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(7).replace(/0+$/, '')}` : `$${n.toFixed(2)}`);

function table(header: string[], rows: Array<Array<string | number>>): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function callList(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return '—';
  return entries.map(([call, n]) => `${call.replace(/^[a-zA-Z]+:/, '')}${n > 1 ? ` ×${n}` : ''}`).join(', ');
}

/** The cold-start goal of issue #12: loading the handler plus one invocation, over bare Node.js, ms. */
const COLD_START_GOAL_MS = 45;

const PATH_LABELS: Record<ColdPath, string> = {
  invalid: 'invalid request (no network)',
  start: 'start: `executeStatement` with a task token (PutItem, ExecuteStatement)',
  completion: 'completion: SQS batch of 1 status-change event (claim, SendTaskSuccess)',
  reconcile: 'reconcile: a sweep with nothing to do (one index query)',
};

/** The cold-start section: per path against bare Node.js, before and after the cold-start work when both are known. */
function renderColdStart(cold: ColdStartResult): string[] {
  const out: string[] = [];
  const before = cold.before;
  const kb = (bytes: number) => `${fmt(Math.round(bytes / 1000))} kB`;
  out.push('## 2. Cold start and bundle size');
  out.push('');
  out.push(`A fresh Node.js process (${cold.node}, the major version of Lambda's nodejs24.x runtime) loads the bundle (Lambda's INIT`);
  out.push('phase: configuration, logger, whatever module scope does) and runs one invocation of a path against the local');
  out.push('endpoints; side by side with a bare `node -e 0`, in the same run. Wall time from spawning the process until it');
  out.push(`exits, ${cold.runs} runs of each, interleaved, after one unmeasured warm-up. The completion run handles the status-change`);
  out.push('event of the statement the start run before it started. **JS loaded**: the bytes of the shipped (minified) bundle');
  out.push('the path evaluates: esbuild\'s runtime helpers and the modules that run at load, plus every module whose wrapper');
  out.push('ran (its `bytesInOutput` in esbuild\'s metafile); which wrappers ran is read from V8\'s coverage of an unminified twin');
  out.push('of the bundle run through the same path (`bench/loaded-bytes.ts`). **Floor**: the SDK v3 clients of the start (or');
  out.push('completion) path alone, making the same two calls with their default configuration chain and retries, nothing of');
  out.push('the handler (`bench/cold-start-floor.ts`), in the same loop; bundled from the packages\' CommonJS builds (esbuild\'s');
  out.push('default for Node.js, as the handler\'s bundle: one wrapped module per file) and from their ES module builds (esbuild');
  out.push('hoists them into one scope and keeps only what the two commands use).');
  const load = cold.loadAverage ? `, load average ${cold.loadAverage.atStart} → ${cold.loadAverage.atEnd}` : '';
  out.push('');
  out.push(`Measured ${cold.date.slice(0, 16).replace('T', ' ')} UTC${load} (the machine is shared: compare the differences to bare`);
  out.push('Node.js, measured side by side).');
  if (before) {
    out.push(`"${before.label}": the handler's bundle before the cold-start work (issue #12), run in the same loop as the current`);
    out.push('one (interleaved, alternating which goes first), against the same bare Node.js runs.');
  }
  out.push('');
  const vsBare = (r: FloorPathResult) => `+${r.differenceMs} ms (×${r.ratio})`;
  const floorLabel = (how: FloorBuild, path: FloorPath) => `floor, ${how === 'commonjs' ? 'CommonJS builds' : 'ES module builds'}: ${path === 'start'
    ? 'DynamoDB + Redshift Data clients alone (PutItem, ExecuteStatement)'
    : 'DynamoDB + Step Functions clients alone (UpdateItem, SendTaskSuccess)'}`;
  const floor = cold.floor;
  const floorRows = (cells: (r: FloorPathResult, label: string, bytes: number) => string[]) => floor
    ? FLOOR_BUILDS.flatMap((how) => FLOOR_PATHS.map((path) => cells(floor[how][path], floorLabel(how, path), floor[how].bundleBytes[path])))
    : [];
  if (before) {
    out.push(table(['Path', 'Median / p90, before', 'Median / p90, now', 'vs bare, before', 'vs bare, now', 'Load / invoke now (in process)', 'JS loaded, before → now'], [
      ['bare Node.js (`node -e 0`)', `${cold.bareNodeMs.median} / ${cold.bareNodeMs.p90} ms`, 'same runs', '—', '—', '—', '—'],
      ...COLD_PATHS.map((path) => {
        const [was, now] = [before.paths[path], cold.paths[path]];
        return [PATH_LABELS[path], `${was.wallMs.median} / ${was.wallMs.p90} ms`, `${now.wallMs.median} / ${now.wallMs.p90} ms`, vsBare(was),
          `**${vsBare(now)}**`, `${now.loadMs} / ${now.invokeMs} ms`, `${kb(was.loaded.bytes)} → **${kb(now.loaded.bytes)}** (${now.loaded.modules} modules)`];
      }),
      ...floorRows((r, label, bytes) => [label, '—', `${r.wallMs.median} / ${r.wallMs.p90} ms`, '—', vsBare(r), `${r.loadMs} / ${r.invokeMs} ms`,
        `bundle of ${kb(bytes)}, all evaluated at load`]),
    ]));
  } else {
    out.push(table(['Path', 'Median', 'p90', 'vs bare Node.js', 'Load / invoke (in process)', 'JS loaded'], [
      ['bare Node.js (`node -e 0`)', `${cold.bareNodeMs.median} ms`, `${cold.bareNodeMs.p90} ms`, '—', '—', '—'],
      ...COLD_PATHS.map((path) => {
        const r = cold.paths[path];
        return [PATH_LABELS[path], `${r.wallMs.median} ms`, `${r.wallMs.p90} ms`, `**${vsBare(r)}**`, `${r.loadMs} / ${r.invokeMs} ms`, `${kb(r.loaded.bytes)} (${r.loaded.modules} modules)`];
      }),
      ...floorRows((r, label, bytes) => [label, `${r.wallMs.median} ms`, `${r.wallMs.p90} ms`, vsBare(r), `${r.loadMs} / ${r.invokeMs} ms`,
        `bundle of ${kb(bytes)}, all evaluated at load`]),
    ]));
  }
  out.push('');
  const was = before ? ` (${before.label}: ${fmt(before.bundleBytes)} bytes, ${fmt(before.bundleGzipBytes)} gzipped)` : '';
  out.push(`- Bundle: **${fmt(cold.bundleBytes)} bytes** on disk (minified, SDK v3 clients included), ${fmt(cold.bundleGzipBytes)} bytes gzipped${was}.`);
  const over = (path: ColdPath) => Math.max(0, round(cold.paths[path].differenceMs - COLD_START_GOAL_MS));
  const reached = over('start') === 0 && over('completion') === 0;
  out.push(`- Goal (issue #12): at most +${COLD_START_GOAL_MS} ms over bare Node.js on the start and completion paths: ${reached ? '**reached**' : `**not reached**, by ${over('start')} ms (start) and ${over('completion')} ms (completion)`}.`);
  if (!reached && floor) {
    const lowest = (path: FloorPath) => Math.min(...FLOOR_BUILDS.map((how) => floor[how][path].differenceMs));
    const fromFloor = (path: FloorPath) => round(cold.paths[path].differenceMs - floor.commonjs[path].differenceMs);
    const modulesGain = (path: FloorPath) => round(floor.commonjs[path].differenceMs - floor.modules[path].differenceMs);
    out.push('  The SDK v3 clients these paths keep cost more than the goal by themselves: their two calls with nothing of the');
    out.push(`  handler cost at least +${lowest('start')} ms (start) and +${lowest('completion')} ms (completion) in the same runs, whichever build of the`);
    out.push(`  packages is bundled. The handler's paths are ${fromFloor('start')} and ${fromFloor('completion')} ms from the floor of the same (CommonJS) builds (logger,`);
    out.push('  metrics, validation, tracking-table code, and V8 parsing the bundle\'s other paths). Where the floor\'s time goes (V8');
    out.push('  CPU profile): compiling the clients\' code (the file at load, then each function on first call) is about half;');
    out.push('  running the Smithy runtime (client and middleware construction, configuration chain, schema serde, signing),');
    out.push('  Node.js built-ins (http/https/tls, crypto) and the first connections share the rest.');
    out.push(`  The ES module builds save ${modulesGain('start')} ms (start) and ${modulesGain('completion')} ms (completion) on the floor. The handler cannot take that`);
    out.push('  by switching builds alone: it creates each client on first use, and esbuild wraps an ES module loaded on demand');
    out.push('  from a CommonJS bundle in a function per module, which measured slower than the CommonJS builds when tried;');
    out.push('  keeping both the hoisting and the per-path loading needs an ES module handler split into per-path chunks that the');
    out.push('  router loads with `import()`: the next lever, bounded by the ES module floor above.');
    out.push('  A V8 code cache of the bundle cut loading by about 30 ms here, but V8 refuses a cache built by another V8 build or');
    out.push('  with other code-relevant flags (`--expose-gc` is one), both chosen by the Lambda runtime, so its effect there cannot');
    out.push('  be checked offline; not shipped. Going below the floor needs other clients than SDK v3\'s.');
  }
  for (const path of ['start', 'completion'] as const) {
    out.push(`- ${path === 'start' ? 'Start' : 'Completion'} path loads: ${cold.paths[path].loaded.packages.filter((p) => /client-|lib-|powertools/.test(p)).map((p) => `\`${p}\``).join(', ')}.`);
  }
  return out;
}

export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push('Figures measured by the project itself with `npm run bench` (`bench/`), against local stand-ins of the AWS');
  out.push('services on 127.0.0.1: DynamoDB (dynalite), the Redshift Data API (embedded PostgreSQL), an SQS queue with');
  out.push('a Lambda event source mapping, the Step Functions task-callback API, and a CloudFormation response URL. The');
  out.push('bundled handler (`assets/handler/index.js`, exactly what the construct deploys) runs in separate Node.js processes,');
  out.push('one invocation at a time each, like Lambda execution environments. All figures are also in');
  out.push('[`benchmarks.json`](benchmarks.json). They are figures, not pass/fail checks; the reliability suite');
  out.push('([reliability.md](reliability.md)) is what CI asserts.');
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(table(['Date', 'CPUs (`nproc`)', 'CPU model', 'Memory', 'Node.js (`node -v`)', 'OS', 'Load average at start'], [[
    machine.date.slice(0, 10), machine.cpus, machine.cpuModel, `${machine.memoryGb} GB`, machine.node, machine.platform, machine.loadAverageAtStart,
  ]]));
  out.push('');
  out.push('The machine is shared: other work running at the same time makes the timings noisier (the call counts, sizes');
  out.push('and cost model are exact). Lambda runs the handler on Node.js 24 (arm64); this machine runs the same bundle on');
  out.push(`Node.js ${machine.node.replace(/^v/, '')}.`);
  out.push('');

  if (results.calls) {
    out.push('## 1. AWS calls per statement');
    out.push('');
    out.push('Every call the handler makes passes a counting proxy in front of the local DynamoDB, Data API and Step');
    out.push('Functions endpoints. Each lifecycle is real end to end: the handler starts the SQL, the Data API stand-in runs it');
    out.push('and emits its status-change event, the event goes through the local queue to the handler, which calls back.');
    out.push('The original design\'s calls are read from its source (`index.py`, `ddb_state_table.py`, `redshift_data/api.py`,');
    out.push('`step_function/api.py`): start = PutItem + ExecuteStatement (a singleton adds 3 ListStatements pages), completion');
    out.push('= GetItem + SendTask* + UpdateItem.');
    out.push('');
    out.push(table(['Lifecycle', 'Start (measured)', 'Completion (measured)', 'Total', 'Original design', 'Original total'],
      results.calls.map((c) => [
        c.lifecycle, `${callList(c.start)} (${c.startTotal})`, `${callList(c.completion)} (${c.completionTotal})`, `**${c.total}**`,
        `${c.original.start.length ? c.original.start.map((s) => s.replace(/^[a-zA-Z]+:/, '')).join(', ') : '—'} / ${c.original.completion.map((s) => s.replace(/^[a-zA-Z]+:/, '')).join(', ')}`,
        c.original.total,
      ])));
    out.push('');
    const plain = results.calls.find((c) => c.lifecycle.startsWith('plain'));
    if (plain) {
      out.push(`A plain lifecycle takes **${plain.total} AWS calls** (${plain.startTotal} to start, ${plain.completionTotal} to complete;`);
      out.push(`target ≤ 5), the original ${plain.original.total}: the start records the statement's id on its registration (an \`UpdateItem\`), so`);
      out.push('that a completion is claimed only for the statement that was started (a forged or foreign event with a waiting');
      out.push('statement\'s name is refused); the completion claims the statement and reads its callback details in one');
      out.push('conditional `UpdateItem` (which also makes it exactly-once) instead of `GetItem` + `UpdateItem`. The singleton start');
      out.push('replaces three unpaginated `ListStatements` pages by a conditional lock write, its confirmation and its release;');
      out.push('a duplicate event costs the refused conditional write and the read that tells why, and no callback. The');
      out.push('CloudFormation answer is an HTTP PUT to the pre-signed S3 URL, not an AWS API call.');
      out.push('');
    }
    const sized = results.calls.filter((c) => c.itemBytes);
    if (sized.length) {
      out.push('State-table item sizes (DynamoDB\'s size rules, with a 1,024-character task token; they set the write units in');
      out.push('the cost model): ' + sized.map((c) => `${c.lifecycle.split(' (')[0]}: ${fmt(c.itemBytes!.registered)} bytes registered, ${fmt(c.itemBytes!.completed)} bytes completed`).join('; ') + '.');
      out.push('');
    }
  }

  if (results.coldStart) out.push(...renderColdStart(results.coldStart), '');

  const tp = results.throughput;
  if (tp) {
    out.push('## 3. Completion throughput');
    out.push('');
    out.push(`${fmt(tp.runs[0]?.events ?? 0)} statements are started through the handler (real registrations, real ExecuteStatement`);
    out.push('calls) and run on the Data API stand-in; their real status-change events are then put on the local SQS queue at');
    out.push('once. The event source mapping delivers batches of 10 to 1, 4 or 8 handler instances (processes). Measured from');
    out.push('the first delivery until the queue is empty, with every task checked to be called back exactly once. The local');
    out.push('services answer in well under a millisecond, so a second series adds 10 ms to every DynamoDB and Step Functions');
    out.push('call at the endpoints, a round trip closer to a real region.');
    out.push('');
    out.push(table(['Instances', 'Added latency per call', 'Events/s', 'Starts/s', 'Median batch', 'Handler CPU per event', 'Local services CPU per event', 'Callbacks', 'Duplicates', 'DLQ'],
      tp.runs.map((r) => [r.workers, `${r.addedLatencyMs} ms`, `**${fmt(r.eventsPerSecond)}**`, fmt(r.startsPerSecond), `${r.medianBatchMs} ms`,
        `${r.handlerCpuMsPerEvent} ms`, `${r.localServicesCpuMsPerEvent} ms`, fmt(r.callbacks), r.duplicateCallbacks, r.deadLetters])));
    out.push('');
    out.push(table(['Added latency per call', 'Scaling 1 → 4 instances', 'Scaling 1 → 8 instances', 'Original design'],
      tp.scaling.map((s) => [`${s.addedLatencyMs} ms`, `×${s.ratio4}`, `**×${s.ratio8}**`, '×1 (reserved concurrency 1)'])));
    out.push('');
    const cpu = tp.runs.find((r) => r.workers === 1 && r.addedLatencyMs === 0);
    if (cpu) {
      const perEvent = cpu.handlerCpuMsPerEvent + cpu.localServicesCpuMsPerEvent;
      const best = Math.max(...tp.runs.map((r) => r.eventsPerSecond));
      out.push('How to read this: everything — the handler instances, dynalite, the Data API and Step Functions stand-ins and the');
      out.push(`queue — shares this machine's ${machine.cpus} CPUs. One event costs about ${perEvent.toFixed(1)} ms of CPU in total`);
      out.push(`(${cpu.handlerCpuMsPerEvent} ms in the handler, ${cpu.localServicesCpuMsPerEvent} ms in the local services, with one instance), so this`);
      out.push(`machine cannot go beyond about ${fmt(Math.round((machine.cpus * 1000) / perEvent))} events/s whatever the number of instances (best run: ${fmt(best)}); more instances`);
      out.push('help as long as the calls wait on I/O (the +10 ms series). On AWS each instance has its own CPU and DynamoDB and');
      out.push('Step Functions are not on the same machine, so instances add throughput until the event source mapping\'s');
      out.push('`maxConcurrency` (`completerMaxConcurrency`) or an account quota is reached. The original design cannot scale at');
      out.push('all: its function has reserved concurrency 1, shared with the starts, so its completion rate is at most the');
      out.push('1-instance rate, and throttled deliveries count towards the dead-letter queue\'s `maxReceiveCount`.');
      out.push('');
    }
  }

  if (results.synth) {
    out.push('## 4. Synthesis at scale');
    out.push('');
    out.push('Apps with 1, 10 and 50 taskers in one stack: the first creates the callback infrastructure (table, queue, DLQ, key,');
    out.push('rule, event source mapping), the others share its table with `createCallbackInfra: false`, each on its own cluster');
    out.push(`and database. Each app is synthesised in a fresh process (median of ${results.settings.synthRepeats} runs).`);
    out.push('');
    out.push(table(['Taskers', 'Synthesis (`app.synth()`)', 'Whole process', 'Template', 'Resources', 'Lambda functions', 'Lambda code assets'],
      results.synth.map((s) => [s.taskers, `${fmt(s.synthMs)} ms`, `${fmt(s.processMs)} ms`, `${fmt(s.templateBytes)} bytes`, s.resources, s.lambdaFunctions, `**${s.lambdaCodeAssets}**`])));
    out.push('');
    const one = results.synth.find((s) => s.taskers === 1);
    const fifty = results.synth.find((s) => s.taskers === 50);
    if (one && fifty) {
      out.push(`Every tasker beyond the first adds ${((fifty.resources - one.resources) / 49).toFixed(0)} resources (function, role, policy, log group), and all`);
      out.push('functions share one code asset (the bundle is uploaded once per app). 50 taskers stay well within CloudFormation\'s');
      out.push('500-resource limit; templates above 51,200 bytes are uploaded through the bootstrap bucket, which `cdk deploy` does.');
      out.push('');
    }
  }

  const latency = results.latency;
  const e2e = results.endToEndLatency;
  if (e2e) {
    out.push('## 5. Callback latency (local run)');
    out.push('');
    out.push('The local end-to-end run (the stack of `npm run demo`: the example app synthesized, its functions, rule, queue, event');
    out.push('source mapping and state machines wired to the stand-ins). The single-success example machine (run the statement, wait');
    out.push(`for the callback, read the result with \`LATEST\`) runs ${e2e.executions} times, one after another, after 3 unmeasured runs,`);
    out.push(`with the construct's defaults: ${e2e.fastPathCallbacks} of ${e2e.executions} tasks were called back by the fast path, the others by the event:`);
    out.push('');
    out.push(table(['Interval', 'p50', 'p95', 'max'], [
      ['statement ended in the Data API stand-in → `SendTaskSuccess` received', `**${e2e.endToCallbackMs.p50} ms**`, `**${e2e.endToCallbackMs.p95} ms**`, `${e2e.endToCallbackMs.max} ms`],
      ['whole execution (start, statement, callback, result)', `${e2e.executionMs.p50} ms`, `${e2e.executionMs.p95} ms`, '—'],
    ]));
    out.push('');
    out.push(`The local queue collects a batch for ${e2e.queueBatchingWindowMs} ms before delivering it; the construct's event source`);
    out.push('mapping has no batching window, so on AWS that part is SQS → Lambda delivery instead (below).');
    out.push('');
  }
  if (latency) {
    out.push(e2e ? '### The completer alone (event path)' : '## 5. Callback latency (local run)');
    out.push('');
    out.push(`${latency.samples} statements, one after another: each is started through a warm handler instance, runs on the Data`);
    out.push('API stand-in, whose status-change event goes through the local queue (batching window 0, as the construct\'s event');
    out.push('source mapping) to a handler instance, which claims the statement in DynamoDB and calls the Step Functions endpoint');
    out.push('back. Measured with the monotonic clock of the process hosting the stand-ins:');
    out.push('');
    out.push(table(['Interval', 'p50', 'p95', 'max'], [
      ['status event emitted → `SendTaskSuccess` received', `**${latency.eventToCallbackMs.p50} ms**`, `**${latency.eventToCallbackMs.p95} ms**`, `${latency.eventToCallbackMs.max} ms`],
      ['start invocation → `SendTaskSuccess` received (includes running the SQL)', `${latency.startToCallbackMs.p50} ms`, `${latency.startToCallbackMs.p95} ms`, `${latency.startToCallbackMs.max} ms`],
      ['status event emitted → completer invocation begins', `${latency.eventToInvokeMs.p50} ms`, `${latency.eventToInvokeMs.p95} ms`, '—'],
    ]));
    out.push('');
    out.push('This is the tasker\'s own share of the latency. On AWS, delivery adds EventBridge → SQS → Lambda (public measurements:');
    out.push('SQS → Lambda p50 16 ms / p99 105 ms, EventBridge delivery p50 ≈ 150 ms), about 0.2–0.5 s in total, plus Redshift\'s');
    out.push('own, undocumented, delay in emitting the event. A polling design adds half its polling interval on average');
    out.push('(5 s at a 10 s interval) and a full interval in the worst case.');
    out.push('');
  }

  if (results.fastPath) out.push(...renderFastPath(results.fastPath, '## 5b. Fast path vs event path'));
  const demo = results.demo;
  if (demo) {
    out.push('## 5c. The local run (`npm run demo`)', '');
    out.push(`Every example scenario end to end on the local stand-ins (${demo.scenarios} scenarios, ${demo.allAsExpected ? 'all as expected' : '**not all as expected**'}):`);
    out.push(`**${demo.wallSeconds} s** wall time (the demo's own figure; ${demo.processSeconds} s for the process with synthesis and start-up),`);
    out.push(`against ${demo.before.wallSeconds} s before (${demo.before.scenarios} scenarios) when the Data API stand-in ran the statements of a database`);
    out.push('one at a time, the phases ran one after another and the example machines used their deployed durations.', '');
  }
  if (results.sessions) out.push(...renderSessions(results.sessions, '## 5d. Sessions and serialization conflicts'));
  const lp = results.localPackage;
  if (lp) {
    out.push('## 5e. The local runner for your app (`cdk-stepfunctions-redshift-local`)', '');
    out.push('See [docs/local-testing.md](local-testing.md). A one-state machine (a `RedshiftSqlTask` inserting a row, its table created by');
    out.push('`RedshiftSql`) and the example app\'s longest machine (the chained machine: the six example machines one after the other).', '');
    out.push('| Measure | Figure |', '| --- | --- |');
    out.push(`| one-state machine, \`run\` by the CLI in a fresh process (start, custom resource, run, stop), cold (median) | ${lp.oneStateColdCliMs} ms (${lp.cli === 'package' ? 'the built package' : 'the sources through tsx'}) |`);
    out.push(`| one-state machine, \`run\` → outcome on a started \`LocalApp\`, warm (median) | ${lp.oneStateWarmMs} ms |`);
    out.push(`| \`LocalApp.start\` (with the custom resource) + \`stop\`, as a test suite does (medians) | ${lp.startMs} ms + ${lp.stopMs} ms |`);
    out.push(`| example chained machine, first run after start / second run | ${lp.longestColdMs} ms / ${lp.longestWarmMs} ms |`);
    out.push(`| memory: resident set of the process after the runs; function environments started | ${lp.rssMb} MB; ${lp.functionEnvironments} |`, '');
    out.push(`Measured with a 1-minute load average of ${lp.loadAverage ?? 'unknown'} on the machine above (the figures grow with the load).`, '');
  }

  const cost = results.cost;
  if (cost) {
    out.push('## 6. Cost per statement');
    out.push('');
    out.push('From the measured calls and item sizes (section 1) and us-east-1 list prices: Step Functions $0.025 per 1,000 state');
    out.push('transitions; Lambda $0.20 per million requests and $0.0000166667 per GB-second (x86; arm64, the construct\'s default,');
    out.push('is cheaper); SQS $0.40 per million requests; DynamoDB on demand $0.625 per million write units and $0.125 per million');
    out.push('read units; KMS $1 per key and month; EventBridge events from AWS services are free; Data API calls have no price');
    out.push('of their own (Redshift compute is the same in every design). Assumptions: the tasker\'s function has 256 MB and');
    out.push(`bills ${cost.assumptions.taskerBilledMs} ms per invocation (conservative; the warm local invocations take a few ms of CPU), one completion`);
    out.push(`invocation per statement (no batching), ${cost.assumptions.sqsRequestsPerEvent} SQS requests per event; the polling designs poll every`);
    out.push(`${cost.assumptions.pollIntervalSeconds} s with ${cost.assumptions.transitionsPerPollCycle} transitions per cycle (Wait, DescribeStatement, Choice); the Lambda poller has 128 MB and`);
    out.push(`bills ${cost.assumptions.pollerBilledMs} ms. The waiting task's own transition exists in every design and is left out. Per month: ${fmt(cost.assumptions.statementsPerDay)}`);
    out.push('statements a day.');
    out.push('');
    out.push(table(['Design', 'Statement duration', 'Per statement', 'Per month'],
      cost.lines.map((line) => [line.design, line.statementMinutes === 'any' ? 'any' : `${line.statementMinutes} min`, usd(line.perStatementUsd), usd(line.perMonthUsd)])));
    out.push('');
    out.push(`Plus, for the callback design, a fixed ${usd(cost.fixedMonthlyUsd)} a month for the queues' KMS key, and the SQS requests of the event`);
    out.push('source mapping\'s long polling while the queue is empty (not modelled). The callback\'s cost does not depend on how long');
    out.push('the statement runs;');
    out.push('a polling loop\'s grows with every cycle. The original design costs the same as this one per statement (2 + 3 calls,');
    out.push('a consistent `GetItem` instead of nothing), but cannot scale (section 3).');
    out.push('');
  }

  const exp = results.resultsExport;
  if (exp) {
    out.push('## Results: exports to S3 and rows in the output');
    out.push('');
    out.push('The bundled handler, in its own Node.js process, writes a finished statement\'s result to the S3 stand-in with');
    out.push('`exportResult` (what a completion does for `resultExport`): JSON Lines, page by page (1,000 rows a page), 8 MiB parts,');
    out.push('the next page asked for while a page is written and a part sent. The process runs with V8\'s old space limited to');
    out.push(`${exp.heapLimitMb ?? '?'} MB, 90% of the tasker function's default memory (${exp.functionMemoryMb ?? '?'} MB): garbage is collected before it outgrows the`);
    out.push(`function. Rows: ${exp.bytesPerRow.columns}. A handler process that only answered an`);
    out.push(`invalid request peaks at ${exp.floorRssMb} MB RSS. The Data API stand-in (which reads a result from PostgreSQL as it comes and`);
    out.push('keeps one over 4 MiB in a file) and the S3 stand-in run on the same machine, in the benchmark\'s process.');
    out.push('');
    out.push(table(['Result', 'Rows', 'Bytes', 'Seconds', 'MB/s', 'Rows/s', 'Peak live memory', 'Peak RSS', 'Data API wait', 'S3 wait', 'Handler CPU', 'S3 calls'],
      exp.runs.map((run) => [
        `${run.targetMb} MB`, fmt(run.rows), fmt(run.bytes), run.seconds, run.mbPerSecond, fmt(run.rowsPerSecond), `${run.peakLiveMb} MB`, `${run.peakRssMb} MB`,
        run.time ? `${run.time.dataApi} s` : '', run.time ? `${run.time.s3} s` : '', run.time ? `${run.time.handlerCpu} s` : '',
        Object.entries(run.s3Calls).map(([name, count]) => `${name} ${count}`).join(', '),
      ])));
    out.push('');
    out.push('Peak live memory (V8 heap in use plus Buffers, sampled after a full garbage collection every 50 ms, in a second');
    out.push('run of the same export: the collections slow it down) is what the export keeps alive: a page being written and the');
    out.push('next one, the part being filled and the one being sent. It does not grow with the result; neither does the peak');
    out.push('RSS, under the function\'s heap limit.');
    out.push('');
    out.push('Where the time goes: the handler waits for the Data API\'s pages and for S3, and works (its CPU time). They overlap,');
    out.push('so they add up to more than the wall time. On these stand-ins the handler\'s CPU is the bound; a CPU profile of the');
    out.push('handler (`node --cpu-prof`) puts most of it in the AWS SDK\'s parsing of the Data API\'s typed pages and in reading');
    out.push('response bodies, a small part in the tasker\'s conversion of rows. Against the real Data API, whose pages come over');
    out.push('the network, the overlap hides the wait for the next page.');
    out.push('');
    out.push(`A task's output per row (\`rowFormat\`): ${exp.bytesPerRow.objects} bytes as plain objects, ${exp.bytesPerRow.typedCells} bytes as the Data`);
    out.push('API\'s typed cells — the 200 KiB budget of `resultRows` holds about');
    out.push(`${fmt(Math.floor(204800 / exp.bytesPerRow.objects))} such rows as objects (${fmt(Math.floor(204800 / exp.bytesPerRow.typedCells))} as typed cells).`);
    out.push('');
  }

  out.push('## Reproduce');
  out.push('');
  out.push('```sh');
  out.push('npm run bench              # bundles the handlers, measures, writes docs/benchmarks.md and docs/benchmarks.json');
  out.push('npm run bench -- --quick   # a smoke run with fewer samples, written to .bench/');
  out.push('npm run bench -- --render  # rewrites docs/benchmarks.md from docs/benchmarks.json');
  out.push('```');
  out.push('');
  return `${out.join('\n')}`;
}
