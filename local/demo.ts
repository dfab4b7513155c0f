/**
 * `npm run demo`: the example app end to end on this machine — no AWS account, no credentials, nothing but
 * 127.0.0.1.
 *
 * Synthesizes the example app, starts the local stand-ins (DynamoDB, the Redshift Data API on embedded PostgreSQL,
 * the Step Functions callback endpoint, SQS with the event source mapping, the CloudFormation ResponseURL), loads the
 * bundled Lambda handlers as Lambda would, then creates the custom resources, runs every example state machine on
 * its own and then the chained machine, updates and deletes the custom resources (a failing one included), prints a
 * trace and a summary of expected against actual outcomes, and exits non-zero on any mismatch. Everything it
 * starts is stopped before it exits.
 *
 * Options: --phases=createStack,machines,chain,updates,failures,deleteStack (default: all, in that order)
 *          --quiet (no trace, only progress and the summary)   --logs (print every line the functions log)
 */
import { LocalCloud } from './cloud';
import { ensureBundles, synthesizeExample } from './example';
import { ALL_PHASES, Phase, runScenarios, ScenarioResult } from './scenarios';
import { StatementRecord } from './servers/redshift-data';
import { TraceEvent } from './stepfunctions/runner';

const PROGRESS_EVERY_MS = 5000;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
const dim = paint(2);
const bold = paint(1);
const green = paint(32);
const red = paint(31);
const cyan = paint(36);
const yellow = paint(33);

interface Args {
  phases: Phase[];
  quiet: boolean;
  logs: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { phases: [...ALL_PHASES], quiet: false, logs: false };
  for (const arg of argv) {
    if (arg === '--quiet') {args.quiet = true;} else if (arg === '--logs') {args.logs = true;} else if (arg.startsWith('--phases=')) {
      const phases = arg.slice('--phases='.length).split(',').filter(Boolean);
      const unknown = phases.filter((p) => !ALL_PHASES.includes(p as Phase));
      if (unknown.length) throw new Error(`Unknown phase(s) ${unknown.join(', ')}; choose from ${ALL_PHASES.join(', ')}`);
      args.phases = phases as Phase[];
    } else {
      throw new Error(`Unknown option ${arg}. Options: --phases=${ALL_PHASES.join(',')} --quiet --logs`);
    }
  }
  return args;
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const args = parseArgs(process.argv.slice(2));
  const startedAt = performance.now();
  const elapsed = () => `+${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)}s`;
  let lastOutput = performance.now();
  const print = (line: string) => {
    lastOutput = performance.now();
    console.log(`${dim(elapsed())} ${line}`);
  };

  console.log(bold('cdk-stepfunctions-redshift — the example app, run locally (no AWS account; 127.0.0.1 only)'));
  if (ensureBundles((line) => print(line))) print('Lambda bundles built.');
  const example = synthesizeExample();
  print(`Synthesized the example app: ${Object.keys(example.template.template.Resources).length} resources, `
    + `${Object.keys(example.machineLogicalIds).length} state machines, ${example.template.customResourceWaves().flat().length} custom resources.`);

  // Labels for the trace: state machines by construct id, statements by who started them.
  const machineByLogicalId = new Map(Object.entries(example.machineLogicalIds).map(([id, logicalId]) => [logicalId, id]));
  const labelOf = (executionArn: string) => {
    const machine = executionArn.split(':')[6];
    return machineByLogicalId.get(machine) ?? machine;
  };
  const trace: TraceEvent[] = [];
  const currentState = new Map<string, { state: string; since: number }>();
  const waiting = new Map<string, number>();

  let endedAt: (statementId: string) => number | undefined = () => undefined;
  const onTrace = (event: TraceEvent) => {
    trace.push(event);
    const label = labelOf(event.executionArn);
    if (event.kind === 'StateEntered') currentState.set(event.executionArn, { state: event.state ?? '', since: performance.now() });
    if (event.kind === 'TaskWaiting') waiting.set(`${event.executionArn}/${event.state}`, performance.now());
    if (event.kind === 'TaskCallback' || event.kind === 'TaskTimedOut') waiting.delete(`${event.executionArn}/${event.state}`);
    if (/^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(event.kind)) currentState.delete(event.executionArn);
    if (args.quiet) return;
    const indent = '  '.repeat(event.depth);
    const who = cyan(`${indent}${label}`);
    switch (event.kind) {
      case 'ExecutionStarted': print(`${who} ▶ execution started`); break;
      case 'ExecutionSucceeded': print(`${who} ${green('✔ SUCCEEDED')}`); break;
      case 'ExecutionFailed':
      case 'ExecutionTimedOut':
      case 'ExecutionAborted': print(`${who} ${red(`✘ ${event.kind.replace('Execution', '').toUpperCase()}`)} ${event.detail ?? ''}`); break;
      case 'StateEntered': print(`${who} → ${event.state}`); break;
      case 'StateCaught': print(`${who}   ${yellow(`caught in ${event.state}`)} ${event.detail}`); break;
      case 'StateRetried': print(`${who}   ${yellow(`retry ${event.state}`)} (${event.detail})`); break;
      case 'TaskWaiting': print(`${who}   ${dim(`${event.state}: waiting for the callback (task token)`)}`); break;
      case 'TaskCallback': {
        const ended = event.statementId ? endedAt(event.statementId) : undefined;
        const latency = ended !== undefined ? `, ${Math.round(event.at.getTime() - ended)} ms after the statement ended` : '';
        print(`${who}   ${event.state}: ${event.detail} (waited ${(Math.round(event.latencyMs ?? 0) / 1000).toFixed(1)} s${latency})`);
        break;
      }
      case 'TaskTimedOut': print(`${who}   ${yellow(`${event.state}: ${event.detail}; token closed`)}`); break;
      default: break;
    }
  };

  const running = new Map<string, StatementRecord>();
  const statementLabel = (statement: StatementRecord) => {
    const name = statement.statementName ?? '';
    const execution = /^(arn:aws:states:[^:]+:[^:]+:execution:[^:]+:[^:]+):/.exec(name);
    if (execution) return labelOf(execution[1]);
    if (name.startsWith('arn:::')) return 'ad hoc';
    return name.split(':')[0] || 'ad hoc';
  };
  const onStatement = (statement: StatementRecord, status: string) => {
    if (status === 'STARTED') running.set(statement.id, statement);
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(status)) running.delete(statement.id);
    if (args.quiet) return;
    const sql = (statement.isBatch ? statement.subStatements.map((s) => s.queryString).join('; ') : statement.queryString).replace(/\s+/g, ' ');
    const state = status === 'FAILED' || status === 'ABORTED' ? red(status.padEnd(9)) : status === 'FINISHED' ? green(status.padEnd(9)) : status.padEnd(9);
    const error = status === 'FAILED' ? ` ${dim(statement.error?.split('\n')[0] ?? '')}` : '';
    print(`${dim('  sql')} ${statement.id.slice(0, 8)} ${state} ${dim(`[${statementLabel(statement)}]`)} ${sql.slice(0, 70)}${sql.length > 70 ? '…' : ''}${error}`);
  };

  const cloud = await LocalCloud.start({
    template: example.template,
    assets: example.assets,
    onTrace,
    onStatement,
    onLog: (line, fn) => {
      if (args.logs || /"level":"ERROR"/.test(line)) print(dim(`  log ${fn}: ${line.slice(0, 400)}`));
    },
    onCustomResource: (event) => {
      if (args.quiet) return;
      if (event.phase === 'request') {print(`${cyan(event.logicalId)} ⇢ CloudFormation ${event.requestType} request`);} else if (event.outcome) {
        const o = event.outcome;
        const status = o.status === 'SUCCESS' ? green(o.status) : red(o.status);
        print(`${cyan(event.logicalId)} ⇠ ${o.requestType} ${status} after ${Math.round(o.latencyMs)} ms${o.reason ? dim(`: ${o.reason.replace(/\s+/g, ' ').slice(0, 140)}`) : ''}`);
      }
    },
  });
  endedAt = (statementId) => {
    const statement = cloud.redshift.statement(statementId);
    const final = statement?.history.find((h) => ['FINISHED', 'FAILED', 'ABORTED'].includes(h.status));
    return final?.at.getTime();
  };
  print(`Started: DynamoDB ${cloud.dynamo.endpoint}, Redshift Data API ${cloud.redshift.endpoint}, Step Functions callbacks `
    + `${cloud.callbacks.endpoint}, ResponseURL ${cloud.responses.endpoint}; ${cloud.lambda.all().length} functions.`);
  for (const skipped of cloud.skippedFunctions) print(yellow(`Not run locally: ${skipped.logicalId} (${skipped.reason})`));

  // A progress line when a step runs long without output.
  const progress = setInterval(() => {
    if (performance.now() - lastOutput < PROGRESS_EVERY_MS) return;
    const now = performance.now();
    const executions = [...currentState.entries()].map(([arn, s]) => {
      const waits = [...waiting.entries()].filter(([key]) => key.startsWith(`${arn}/`));
      if (waits.length) {
        return waits.map(([key, since]) => `${labelOf(arn)}: ${key.slice(arn.length + 1)} waiting for its callback ${Math.round((now - since) / 1000)}s`).join('; ');
      }
      return `${labelOf(arn)} in ${s.state} ${Math.round((now - s.since) / 1000)}s`;
    });
    const statements = [...running.values()].map((s) => `statement ${s.id.slice(0, 8)} running ${Math.round((Date.now() - s.history.find((h) => h.status === 'STARTED')!.at.getTime()) / 1000)}s`);
    print(yellow(`… ${[...executions, ...statements].join('; ') || 'waiting'}`));
  }, 1000);

  let results: ScenarioResult[] = [];
  let cancelTimings: ReturnType<typeof cloud.redshift.cancelTimings> = [];
  let statements: StatementRecord[] = [];
  let dlq = 0;
  try {
    results = await runScenarios({
      cloud,
      example,
      trace,
      onPhase: (phase) => print(bold(`— ${PHASE_TITLES[phase]} —`)),
      onResult: (result) => print(`${result.ok ? green('✔') : red('✘')} ${bold(result.name)}: ${result.actual}`),
    }, args.phases);
  } finally {
    clearInterval(progress);
    cancelTimings = cloud.redshift.cancelTimings();
    statements = cloud.redshift.statements();
    dlq = [...cloud.queues.values()].reduce((n, q) => n + q.deadLetters.length, 0);
    await cloud.close();
    example.dispose();
  }
  // Callback latency: from the statement's end (FINISHED/FAILED/ABORTED in the Data API) to the task being called
  // back — the event, the queue, the completer and SendTaskSuccess/SendTaskFailure.
  const endTimes = new Map(statements.map((st) => [st.id, st.history.find((h) => ['FINISHED', 'FAILED', 'ABORTED'].includes(h.status))?.at.getTime()]));
  const latencies = trace.filter((e) => e.kind === 'TaskCallback' && e.statementId && endTimes.get(e.statementId) !== undefined)
    .map((e) => e.at.getTime() - endTimes.get(e.statementId!)!).sort((a, b) => a - b);
  const wallSeconds = (performance.now() - startedAt) / 1000;

  // ---- Summary ----
  console.log();
  console.log(bold('Summary'));
  const nameWidth = Math.max(...results.map((r) => r.name.length), 8);
  for (const r of results) {
    console.log(`${r.ok ? green(' ✔ ') : red(' ✘ ')} ${bold(r.name.padEnd(nameWidth))} ${dim(`${(r.durationMs / 1000).toFixed(1)} s`)}`);
    console.log(`     ${dim('expected')} ${r.expected}`);
    console.log(`     ${dim('actual  ')} ${r.ok ? r.actual : red(r.actual)}`);
  }
  const failed = results.filter((r) => !r.ok);
  console.log();
  const median = latencies.length ? latencies[Math.floor(latencies.length / 2)] : 0;
  console.log(`Statements run: ${statements.length} (${statements.filter((s) => s.status === 'FINISHED').length} FINISHED, `
    + `${statements.filter((s) => s.status === 'FAILED').length} FAILED, ${statements.filter((s) => s.status === 'ABORTED').length} ABORTED); `
    + `completion messages in the DLQ: ${dlq}.`);
  if (latencies.length) {
    console.log('Callback latency (statement ended → waiting task called back: event, queue, completer, SendTask*): '
      + `min ${Math.round(latencies[0])} ms, median ${Math.round(median)} ms, max ${Math.round(latencies[latencies.length - 1])} ms over ${latencies.length} callbacks.`);
  }
  for (const timing of cancelTimings) {
    console.log(`Cancel of a running statement: stopped in ${Math.round(timing.stoppedMs)} ms, database ready again after ${Math.round(timing.readyAgainMs)} ms.`);
  }
  console.log(`${failed.length ? red(`${failed.length} of ${results.length} scenarios did not match`) : green(`All ${results.length} scenarios as expected`)} — wall time ${wallSeconds.toFixed(1)} s.`);
  return failed.length || results.length === 0 ? 1 : 0;
}

const PHASE_TITLES: Record<Phase, string> = {
  createStack: 'CloudFormation: create the custom resources',
  machines: 'Step Functions: every example machine on its own (concurrently)',
  chain: 'Step Functions: the chained machine (each machine as a nested startExecution.sync:2)',
  updates: 'CloudFormation: updates',
  failures: 'CloudFormation: failures are reported, never left waiting',
  deleteStack: 'CloudFormation: delete the custom resources',
};

main().then((code) => {
  process.exitCode = code;
  // Everything was closed; if a handle were still open the process would not end: say so instead of hanging.
  setTimeout(() => {
    console.error('Something is still running after the demo closed everything; exiting.');
    process.exit(code || 1);
  }, 10_000).unref();
}, (error: Error) => {
  console.error(red(`The demo could not run: ${error.stack ?? error.message}`));
  process.exit(1);
});
