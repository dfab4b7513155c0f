/** The trace of local executions: what the demo prints and the scenarios check. */

/** One line of an execution's trace. */
export interface TraceEvent {
  readonly executionArn: string;
  /** 0 for a top-level execution, 1 for a nested one, … */
  readonly depth: number;
  readonly at: Date;
  readonly kind: 'ExecutionStarted' | 'ExecutionSucceeded' | 'ExecutionFailed' | 'ExecutionTimedOut' | 'ExecutionAborted'
  | 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' | 'StateCaught'
  | 'TaskInvoked' | 'TaskWaiting' | 'TaskCallback' | 'TaskTimedOut'
  /** A Distributed Map's run: its items and child executions, then how they ended. */
  | 'MapRunStarted' | 'MapRunSucceeded' | 'MapRunFailed';
  readonly state?: string;
  readonly detail?: string;
  /** For `TaskCallback`: time from the start of the wait to the callback. */
  readonly latencyMs?: number;
  /** For `TaskCallback`: the statement the callback reports (`detail.statementId` of the event it carries). */
  readonly statementId?: string;
  /** For `TaskCallback`: the event was rebuilt from the Data API's answer (the fast path, or a sweep), not delivered. */
  readonly described?: boolean;
}

/**
 * Holds trace events briefly and releases them in time order. The interpreter's events (StateEntered, ...) reach the
 * runner a few ticks late; on ties the interpreter's come first, so the trace reads in the order things happened.
 */
export class TraceBuffer {
  private pending: Array<{ event: TraceEvent; rank: number; seq: number }> = [];
  private seq = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly release: (event: TraceEvent) => void) {}

  push(event: TraceEvent, fromInterpreter: boolean): void {
    this.pending.push({ event, rank: fromInterpreter ? 0 : 1, seq: this.seq++ });
    this.timer ??= setTimeout(() => this.flush(), 15);
  }

  /** Releases every held event now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ready = this.pending.sort((a, b) => a.event.at.getTime() - b.event.at.getTime() || a.rank - b.rank || a.seq - b.seq);
    this.pending = [];
    for (const { event } of ready) this.release(event);
  }
}
