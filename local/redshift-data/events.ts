/**
 * The "Redshift Data Statement Status Change" events of statements started with `WithEvent: true`: built when a
 * statement ends, handed to the subscribers (an EventBridge rule, a queue) after a short delay — unless a drop
 * filter loses it on purpose (EventBridge delivery is not guaranteed; the reliability suite loses a share of the
 * events to show that nothing waits forever).
 */
import { randomUUID } from 'node:crypto';
import { DataApiLimits, StatementRecord, StatusChangeEvent } from './types';
import { StatusChangeEvent as StatusChangeEventNames } from '../../src/contract';

/** Decides whether an event is lost (`true`) instead of delivered. */
export type EventDropFilter = (event: StatusChangeEvent) => boolean;

/** Loses `fraction` (0–1) of the events, chosen by a seeded generator (the same seed loses the same events). */
export function dropFraction(fraction: number, seed = 1): EventDropFilter {
  const modulus = 2_147_483_647;
  let state = (Math.abs(Math.floor(seed)) % (modulus - 1)) + 1;
  return () => {
    state = (state * 48_271) % modulus;
    return (state - 1) / (modulus - 1) < fraction;
  };
}

/** Loses the events of the given statements. */
export function dropStatements(statementIds: Iterable<string>): EventDropFilter {
  const ids = new Set(statementIds);
  return (event) => ids.has(event.detail.statementId);
}

export class StatusEvents {
  /** Every event delivered, in order. */
  public readonly delivered: StatusChangeEvent[] = [];
  /** Every event lost on purpose, in order. */
  public readonly dropped: StatusChangeEvent[] = [];
  private readonly listeners = new Set<(event: StatusChangeEvent) => void>();
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly accountId: string, private readonly delayMs: number, public drop?: EventDropFilter) {}

  subscribe(listener: (event: StatusChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Emits the event of a statement that just ended. */
  emit(record: StatementRecord, time: Date): void {
    const event = this.build(record, time);
    if (this.drop?.(event)) {
      this.dropped.push(event);
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (this.closed) return;
      this.delivered.push(event);
      for (const listener of this.listeners) listener(event);
    }, this.delayMs);
    this.pending.add(timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  private build(record: StatementRecord, time: Date): StatusChangeEvent {
    const { region } = record.caller;
    return {
      'version': '0',
      'id': randomUUID(),
      'detail-type': StatusChangeEventNames.DETAIL_TYPE,
      'source': StatusChangeEventNames.SOURCE,
      'account': this.accountId,
      'time': time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': region,
      'resources': [record.clusterIdentifier
        ? `arn:aws:redshift:${region}:${this.accountId}:cluster:${record.clusterIdentifier}`
        : `arn:aws:redshift-serverless:${region}:${this.accountId}:workgroup/${record.workgroupName}`],
      'detail': {
        principal: record.caller.principal,
        statementName: record.statementName ?? '',
        statementId: record.id,
        redshiftQueryId: record.redshiftQueryId > 0 ? record.redshiftQueryId : -1,
        state: record.status as 'FINISHED' | 'FAILED' | 'ABORTED',
        rows: record.status === 'FINISHED' ? record.resultRows : -1,
        expireAt: Math.floor(record.createdAt.getTime() / 1000) + DataApiLimits.RETENTION_SECONDS,
      },
    };
  }
}
