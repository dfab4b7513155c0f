/**
 * Completions read from the Data API's own answer rather than from an event: the reconciler's `DescribeStatement` of
 * a statement whose event was lost, and the fast path's start answer (`WaitTimeSeconds`) for a statement that ended
 * within the wait. Both call back with the event the Data API would have sent, and claim with the same owner, so a
 * crash between claim and callback is finished by the next sweep (the claim is kept in the `inFlight` index until the
 * callback succeeded).
 */
import { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { MAX_ERROR_TEXT_BYTES } from './describe-via';
import { truncateBytes } from './plain';
import { StatusChangeEvent } from './status-event';
import { FinalState, StatusChangeEvent as EventNames } from '../src/contract';

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

/** The status-change event the Data API would have sent for a statement that ended (from `DescribeStatement`). */
export function describedEvent(deps: Deps, statementName: string, described: DescribeStatementResponse): StatusChangeEvent {
  const state = described.Status as FinalState;
  const createdAt = described.CreatedAt ? new Date(described.CreatedAt).getTime() : deps.now();
  const updatedAt = new Date(describedEnd(described) ?? deps.now());
  return {
    'version': '0',
    'id': `reconciled-${described.Id}`,
    'detail-type': EventNames.DETAIL_TYPE,
    'source': EventNames.SOURCE,
    'time': updatedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'region': deps.config.region,
    'detail': {
      statementName,
      statementId: described.Id!,
      redshiftQueryId: described.RedshiftQueryId ?? -1,
      state,
      rows: state === 'FINISHED' ? described.ResultRows ?? -1 : -1,
      expireAt: Math.floor((createdAt + DATA_API_HORIZON_MS) / 1000),
      ...state !== 'FINISHED' ? {
        error: truncateBytes(described.Error ?? (state === 'ABORTED' ? 'The statement was cancelled (ABORTED).' : 'No error text.'), MAX_ERROR_TEXT_BYTES),
      } : {},
    },
  };
}
