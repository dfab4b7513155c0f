/**
 * The fast path: a start that someone waits for asks the Data API to wait up to `FAST_PATH_WAIT_SECONDS` for the
 * statement to end (`WaitTimeSeconds`). When the start's answer is final, the statement is described (rows, error
 * text, times) and completed at once through `completeStatement`, the exactly-once claim every source uses: its
 * caller is called back without the event's trip through EventBridge, SQS and the event source mapping. The event
 * still comes (`WithEvent`), finds the completion claimed and costs one refused write.
 *
 * The claim keeps the statement in the `inFlight` index until the callback succeeded and uses the owner a sweep
 * would use (`describedOwner`), so a function that dies between claim and callback is finished by the next sweep.
 * The wait (at most 30 s) is shorter than a sweep's threshold (`olderThanSeconds`, 60 s by default), so no sweep
 * describes a statement whose start is still waiting. A fast path that fails (a describe or callback error) is
 * logged and left to the event: the start itself still succeeds.
 */
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { completeStatement } from './completion';
import { Deps } from './deps';
import { describedEnd, describedEvent, describedOwner } from './described-event';
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
    return await completeStatement(deps, describedOwner(statementId), name, event, {
      keepInFlight: true, path: 'fastPath', endedAt: describedEnd(described),
    });
  } catch (error) {
    deps.log.warn('The fast path could not call back; the status-change event will', { statementName, statementId, error: describeError(error) });
    return false;
  }
}
