/**
 * What `npm run demo` prints: a timestamped trace (states entered, task tokens waiting and called back, statement
 * status changes, custom-resource requests and responses), a progress line when nothing was printed for a while,
 * and the summary of expected against actual outcomes with the measured figures.
 */
import { CustomResourceOutcome, RequestType } from './cloudformation/driver';
import { CancelTiming } from './redshift-data/engine';
import { ScenarioResult } from './scenarios';
import { StatementRecord } from './servers/redshift-data';
import { TraceEvent } from './stepfunctions/runner';

const PROGRESS_EVERY_MS = 5000;
const FINAL = ['FINISHED', 'FAILED', 'ABORTED'];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
export const dim = paint(2);
export const bold = paint(1);
export const green = paint(32);
export const red = paint(31);
const cyan = paint(36);
export const yellow = paint(33);

export class DemoOutput {
  public readonly trace: TraceEvent[] = [];
  private readonly startedAt = performance.now();
  private lastOutput = performance.now();
  private readonly currentState = new Map<string, { state: string; since: number }>();
  private readonly waiting = new Map<string, number>();
  private readonly running = new Map<string, StatementRecord>();
  private progressTimer?: NodeJS.Timeout;
  private machineByLogicalId = new Map<string, string>();

  constructor(private readonly quiet: boolean) {}

  /** When a statement ended (for the callback latency in the trace). */
  public endedAt: (statementId: string) => number | undefined = () => undefined;

  /** Labels state machines by construct id in the trace. */
  setMachineLabels(machineLogicalIds: Record<string, string>): void {
    this.machineByLogicalId = new Map(Object.entries(machineLogicalIds).map(([id, logicalId]) => [logicalId, id]));
  }

  print(line: string): void {
    this.lastOutput = performance.now();
    console.log(`${dim(`+${((performance.now() - this.startedAt) / 1000).toFixed(1).padStart(5)}s`)} ${line}`);
  }

  get wallSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  readonly onTrace = (event: TraceEvent): void => {
    this.trace.push(event);
    if (event.kind === 'StateEntered') this.currentState.set(event.executionArn, { state: event.state ?? '', since: performance.now() });
    if (event.kind === 'TaskWaiting') this.waiting.set(`${event.executionArn}/${event.state}`, performance.now());
    if (event.kind === 'TaskCallback' || event.kind === 'TaskTimedOut') this.waiting.delete(`${event.executionArn}/${event.state}`);
    if (/^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(event.kind)) this.currentState.delete(event.executionArn);
    if (!this.quiet) this.printTrace(event);
  };

  readonly onStatement = (statement: StatementRecord, status: string): void => {
    if (status === 'STARTED') this.running.set(statement.id, statement);
    if (FINAL.includes(status)) this.running.delete(statement.id);
    if (this.quiet) return;
    const sql = (statement.isBatch ? statement.subStatements.map((s) => s.queryString).join('; ') : statement.queryString).replace(/\s+/g, ' ');
    const state = status === 'FAILED' || status === 'ABORTED' ? red(status.padEnd(9)) : status === 'FINISHED' ? green(status.padEnd(9)) : status.padEnd(9);
    const error = status === 'FAILED' ? ` ${dim(statement.error?.split('\n')[0] ?? '')}` : '';
    const label = dim(`[${this.statementLabel(statement)}]`);
    this.print(`${dim('  sql')} ${statement.id.slice(0, 8)} ${state} ${label} ${sql.slice(0, 70)}${sql.length > 70 ? '…' : ''}${error}`);
  };

  readonly onCustomResource = (event: { phase: 'request' | 'response'; logicalId: string; requestType: RequestType; outcome?: CustomResourceOutcome }): void => {
    if (this.quiet) return;
    if (event.phase === 'request') {
      this.print(`${cyan(event.logicalId)} ⇢ CloudFormation ${event.requestType} request`);
    } else if (event.outcome) {
      const o = event.outcome;
      const status = o.status === 'SUCCESS' ? green(o.status) : red(o.status);
      this.print(`${cyan(event.logicalId)} ⇠ ${o.requestType} ${status} after ${Math.round(o.latencyMs)} ms${o.reason ? dim(`: ${o.reason.replace(/\s+/g, ' ').slice(0, 140)}`) : ''}`);
    }
  };

  /** Prints a progress line whenever nothing was printed for 5 s. */
  startProgress(): void {
    this.progressTimer = setInterval(() => {
      if (performance.now() - this.lastOutput < PROGRESS_EVERY_MS) return;
      this.print(yellow(`… ${this.progressLine() || 'waiting'}`));
    }, 1000);
  }

  stopProgress(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
  }

  /** The summary: every scenario against its expectation, the statements, the callback latency, the cancels. */
  summary(results: ScenarioResult[], statements: StatementRecord[], cancelTimings: CancelTiming[], dlq: number): void {
    console.log();
    console.log(bold('Summary'));
    const nameWidth = Math.max(...results.map((r) => r.name.length), 8);
    for (const r of results) {
      console.log(`${r.ok ? green(' ✔ ') : red(' ✘ ')} ${bold(r.name.padEnd(nameWidth))} ${dim(`${(r.durationMs / 1000).toFixed(1)} s`)}`);
      console.log(`     ${dim('expected')} ${r.expected}`);
      console.log(`     ${dim('actual  ')} ${r.ok ? r.actual : red(r.actual)}`);
    }
    console.log();
    const count = (status: string) => statements.filter((s) => s.status === status).length;
    console.log(`Statements run: ${statements.length} (${count('FINISHED')} FINISHED, ${count('FAILED')} FAILED, ${count('ABORTED')} ABORTED); `
      + `completion messages in the DLQ: ${dlq}.`);
    for (const [described, path] of [[true, 'fast path: from the start\'s answer, DescribeStatement, claim, SendTask*'],
      [false, 'event path: event, queue, completer, claim, SendTask*']] as const) {
      const latencies = this.callbackLatencies(statements, described);
      if (!latencies.length) continue;
      const median = latencies[Math.floor(latencies.length / 2)];
      console.log(`Callback latency, statement ended → task called back (${path}): `
        + `min ${Math.round(latencies[0])} ms, median ${Math.round(median)} ms, max ${Math.round(latencies[latencies.length - 1])} ms over ${latencies.length} callbacks.`);
    }
    for (const timing of cancelTimings) {
      console.log(`Cancel of a running statement: stopped in ${Math.round(timing.stoppedMs)} ms, database ready again after ${Math.round(timing.readyAgainMs)} ms.`);
    }
    const failed = results.filter((r) => !r.ok);
    console.log(`${failed.length ? red(`${failed.length} of ${results.length} scenarios did not match`) : green(`All ${results.length} scenarios as expected`)}`
      + ` — wall time ${this.wallSeconds.toFixed(1)} s.`);
  }

  /**
   * From a statement's end (FINISHED/FAILED/ABORTED in the Data API) to its task being called back, sorted: by the
   * fast path (`described`), or by the event, the queue, the completer and SendTaskSuccess/SendTaskFailure.
   */
  private callbackLatencies(statements: StatementRecord[], described: boolean): number[] {
    const endTimes = new Map(statements.map((st) => [st.id, st.history.find((h) => FINAL.includes(h.status))?.at.getTime()]));
    return this.trace.filter((e) => e.kind === 'TaskCallback' && e.statementId && endTimes.get(e.statementId) !== undefined
      && Boolean(e.described) === described)
      .map((e) => e.at.getTime() - endTimes.get(e.statementId!)!).sort((a, b) => a - b);
  }

  private labelOf(executionArn: string): string {
    // A Distributed Map's children run as `<machine>/<state>`.
    const [machine, ...map] = (executionArn.split(':')[6] ?? '').split('/');
    const label = this.machineByLogicalId.get(machine) ?? machine;
    return map.length > 0 ? `${label}/${map.join('/')}` : label;
  }

  private statementLabel(statement: StatementRecord): string {
    const name = statement.statementName ?? '';
    const execution = /^(arn:aws:states:[^:]+:[^:]+:execution:[^:]+:[^:]+):/.exec(name);
    if (execution) return this.labelOf(execution[1]);
    if (name.startsWith('arn:::')) return 'ad hoc';
    return name.split(':')[0] || 'ad hoc';
  }

  private printTrace(event: TraceEvent): void {
    const who = cyan(`${'  '.repeat(event.depth)}${this.labelOf(event.executionArn)}`);
    switch (event.kind) {
      case 'ExecutionStarted': this.print(`${who} ▶ execution started`); break;
      case 'ExecutionSucceeded': this.print(`${who} ${green('✔ SUCCEEDED')}`); break;
      case 'ExecutionFailed':
      case 'ExecutionTimedOut':
      case 'ExecutionAborted': this.print(`${who} ${red(`✘ ${event.kind.replace('Execution', '').toUpperCase()}`)} ${event.detail ?? ''}`); break;
      case 'StateEntered': this.print(`${who} → ${event.state}`); break;
      case 'StateCaught': this.print(`${who}   ${yellow(`caught in ${event.state}`)} ${event.detail}`); break;
      case 'StateRetried': this.print(`${who}   ${yellow(`retry ${event.state}`)} (${event.detail})`); break;
      case 'TaskWaiting': this.print(`${who}   ${dim(`${event.state}: waiting for the callback (task token)`)}`); break;
      case 'TaskCallback': {
        const ended = event.statementId ? this.endedAt(event.statementId) : undefined;
        const latency = ended !== undefined ? `, ${Math.round(event.at.getTime() - ended)} ms after the statement ended` : '';
        this.print(`${who}   ${event.state}: ${event.detail} (waited ${(Math.round(event.latencyMs ?? 0) / 1000).toFixed(1)} s${latency})`);
        break;
      }
      case 'TaskTimedOut': this.print(`${who}   ${yellow(`${event.state}: ${event.detail}; token closed`)}`); break;
      case 'MapRunStarted':
      case 'MapRunSucceeded': this.print(`${who}   ${event.state}: map run ${event.kind === 'MapRunStarted' ? 'started' : 'ended'}, ${event.detail}`); break;
      case 'MapRunFailed': this.print(`${who}   ${red(`${event.state}: map run failed, ${event.detail}`)}`); break;
      default: break;
    }
  }

  private progressLine(): string {
    const now = performance.now();
    const executions = [...this.currentState.entries()].map(([arn, s]) => {
      const waits = [...this.waiting.entries()].filter(([key]) => key.startsWith(`${arn}/`));
      if (waits.length) {
        return waits.map(([key, since]) => `${this.labelOf(arn)}: ${key.slice(arn.length + 1)} waiting for its callback ${Math.round((now - since) / 1000)}s`).join('; ');
      }
      return `${this.labelOf(arn)} in ${s.state} ${Math.round((now - s.since) / 1000)}s`;
    });
    const statements = [...this.running.values()].map((s) => {
      const started = s.history.find((h) => h.status === 'STARTED')?.at.getTime() ?? Date.now();
      return `statement ${s.id.slice(0, 8)} running ${Math.round((Date.now() - started) / 1000)}s`;
    });
    return [...executions, ...statements].join('; ');
  }
}
