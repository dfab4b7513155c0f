/**
 * Completions this function rebuilds instead of receiving an event: the reconciler's `DescribeStatement` of a
 * statement whose event was lost, the fast path's start answer (`WaitTimeSeconds`) for a statement that ended within
 * the wait, and a sweep's failure of a statement the Data API does not know. The first two call back with the event
 * the Data API would have sent and claim with the same owner, so a crash between claim and callback is finished by
 * the next sweep (the claim is kept in the `inFlight` index until the callback succeeded).
 */
import { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { MAX_ERROR_TEXT_BYTES } from './describe-via';
import { truncateBytes } from './plain';
import { StatusChangeEvent } from './status-event';
import { ErrorName, FinalState, StatusChangeEvent as EventNames } from '../src/contract';

/** The Data API's horizon: it keeps (and runs) statements at most 24 hours. */
const DATA_API_HORIZON_MS = 24 * 3600 * 1000;

/** The claim owner of a completion read from the Data API (stable for the statement: any sweep can finish it). */
export function describedOwner(statementId: string): string {
  return `reconciler:${statementId}`;
}

/** When a described statement ended (ms), or `undefined` when the answer does not say. */
export function describedEnd(described: DescribeStatementResponse): number | undefined {
  return described.UpdatedAt ? new Date(described.UpdatedAt).getTime() : undefined;
}

/** A status-change event rebuilt by this function (its `id` starts with `reconciled-`), at `time` (ms). */
function rebuiltEvent(deps: Deps, id: string, time: number, detail: StatusChangeEvent['detail']): StatusChangeEvent {
  return {
    'version': '0',
    'id': `reconciled-${id}`.slice(0, 200),
    'detail-type': EventNames.DETAIL_TYPE,
    'source': EventNames.SOURCE,
    // Whole seconds, as the Data API's own events.
    'time': new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'region': deps.config.region,
    detail,
  };
}

/** The status-change event the Data API would have sent for a statement that ended (from `DescribeStatement`). */
export function describedEvent(deps: Deps, statementName: string, described: DescribeStatementResponse): StatusChangeEvent {
  const state = described.Status as FinalState;
  const createdAt = described.CreatedAt ? new Date(described.CreatedAt).getTime() : deps.now();
  return rebuiltEvent(deps, described.Id!, describedEnd(described) ?? deps.now(), {
    statementName,
    statementId: described.Id!,
    redshiftQueryId: described.RedshiftQueryId ?? -1,
    state,
    rows: state === 'FINISHED' ? described.ResultRows ?? -1 : -1,
    expireAt: Math.floor((createdAt + DATA_API_HORIZON_MS) / 1000),
    ...state !== 'FINISHED' ? {
      error: truncateBytes(described.Error ?? (state === 'ABORTED' ? 'The statement was cancelled (ABORTED).' : 'No error text.'), MAX_ERROR_TEXT_BYTES),
    } : {},
  });
}

/** The failure a sweep calls back for a registered statement the Data API does not know (`StatementNotFound`). */
export function notFoundEvent(deps: Deps, statementName: string, statementId: string | undefined, registeredAt: number): StatusChangeEvent {
  const age = Math.round((deps.now() - registeredAt) / 60_000);
  return rebuiltEvent(deps, `not-found-${statementName}`, deps.now(), {
    statementName,
    statementId: statementId ?? '',
    redshiftQueryId: -1,
    state: 'FAILED',
    rows: -1,
    error: `${ErrorName.STATEMENT_NOT_FOUND}: the Redshift Data API does not know statement ${statementName} (registered `
      + `${age} minutes ago): it keeps statements 24 hours, or the statement never started. Its outcome is unknown.`,
  });
}
