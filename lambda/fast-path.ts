/**
 * The fast path: a start that someone waits for asks the Data API to wait up to `FAST_PATH_WAIT_SECONDS` for the
 * statement to end (`WaitTimeSeconds`). When the start's answer is final, the statement is described (rows, error
 * text, times) and completed at once through `completeStatement`, the exactly-once claim every source uses: its
 * caller is called back without the event's trip through EventBridge, SQS and the event source mapping. The event
 * still comes (`WithEvent`) and finds the completion settled (or, while the fast path is still calling back, waits
 * for it and is retried).
 *
 * The claim is this attempt's, with a lease: it keeps the statement in the `inFlight` index until the callback went
 * out and the claim is settled. A fast path whose callback fails gives the claim back, and the event (or a sweep)
 * completes the statement; one that dies between claim and settle leaves a claim that the event's redelivery or a
 * sweep takes over once the lease has passed. The wait (at most 30 s) is shorter than a sweep's threshold
 * (`olderThanSeconds`, 60 s by default), so no sweep describes a statement whose start is still waiting. A fast path
 * that fails is logged and left to the event: the start itself still succeeds.
 */
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { completeStatement } from './completion';
import { Deps } from './deps';
import { describedEnd, describedEvent } from './described-event';
import { describeError } from './errors';
import { StatementName, formatStatementName } from './statement-name';
import { Defaults, isFinalState } from '../src/contract';


/** The `WaitTimeSeconds` of a start: the configured wait, cut to the invocation's remaining time; 0 means none. */
export function fastPathWait(deps: Deps): number {
  const configured = deps.config.fastPathWaitSeconds;
  if (configured <= 0 || deps.remainingTimeMs === undefined) return configured;
  return Math.max(0, Math.min(configured, Math.floor((deps.remainingTimeMs() / 1000) - Defaults.FAST_PATH_MARGIN_SECONDS)));
}

/** Whether a start's answer says the statement ended. */
export function endedWithin(status: string | undefined): boolean {
  return isFinalState(status);
}

/**
 * Completes a statement whose start answered with a final status; `true` when this call called its caller back.
 * Never throws: what it cannot do is left to the event.
 */
export async function completeFromStart(deps: Deps, name: StatementName, statementId: string): Promise<boolean> {
  const statementName = formatStatementName(name);
  try {
    const described = await deps.redshiftData.send(new DescribeStatementCommand({ Id: statementId }));
    if (!endedWithin(described.Status)) return false;
    const event = describedEvent(deps, statementName, described);
    const outcome = await completeStatement(deps, name, event, {
      path: 'fastPath', endedAt: describedEnd(described), ...described.SessionId ? { sessionId: described.SessionId } : {},
    });
    return outcome.kind === 'calledBack';
  } catch (error) {
    deps.log.warn('The fast path could not call back; the status-change event will', { statementName, statementId, error: describeError(error) });
    return false;
  }
}
