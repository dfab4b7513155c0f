/**
 * Orphans: statements still running whose caller no longer waits for them. They hold Redshift capacity (and
 * Serverless RPU billing) for nothing, so a reconciler sweep cancels them (`CancelStatement`) and marks them handled;
 * their ABORTED event then finds them handled and calls nobody back.
 *
 * A caller no longer waits when
 * - Step Functions: its task is closed — `SendTaskHeartbeat` on the token answers `TaskTimedOut`, `TaskDoesNotExist`
 *   or `InvalidToken` (the task timed out, was closed, its execution ended, or the token is unknown). The token alone
 *   decides, never the execution ARN of the payload: a token may be handed to another workflow (a child execution
 *   whose parent waits), and only the token's task is the caller. A heartbeat on a waiting task resets its
 *   `HeartbeatSeconds` clock: with this check, `HeartbeatSeconds` measures whether the tasker still looks after the
 *   statement, and `TimeoutSeconds` bounds the wait;
 * - CloudFormation: the request is older than its `ServiceTimeout` (3600 seconds unless the resource sets one).
 * A statement started without a callback has nobody to wait for it and is never cancelled; neither is one whose
 * caller's state cannot be read (an error other than the answers above: the next sweep asks again).
 */
import { randomUUID } from 'node:crypto';
import { CancelStatementCommand } from '@aws-sdk/client-redshift-data';
import { SendTaskHeartbeatCommand } from '@aws-sdk/client-sfn';
import { Callback } from './callback-details';
import { Deps } from './deps';
import { describeError } from './errors';
import { ownTasker } from './metrics';
import { FINAL_TASK_ERRORS } from './sfn-callback';
import { StatementName, formatStatementName } from './statement-name';
import { completedTtl } from './table-base';
import { Metric } from '../src/contract';

/** CloudFormation's default (and longest) wait for a custom resource's response. */
export const CLOUDFORMATION_SERVICE_TIMEOUT_SECONDS = 3600;

/** Whether the caller still waits: `gone` carries why not; `unknown` when it could not be told (no cancel). */
export type CallerState = { readonly state: 'waiting' | 'unknown' } | { readonly state: 'gone'; readonly reason: string };

/** Whether a CloudFormation request has been given up on by CloudFormation (no AWS call). */
export function cloudFormationGaveUp(deps: Deps, callback: Callback, registeredAt: number): string | undefined {
  if (callback.kind !== 'cloudFormation') return undefined;
  const timeout = callback.request.ServiceTimeout ?? CLOUDFORMATION_SERVICE_TIMEOUT_SECONDS;
  return deps.now() > registeredAt + timeout * 1000
    ? `the CloudFormation request is past its service timeout (${timeout} s)`
    : undefined;
}

/** Whether the caller of a running statement still waits for its callback. */
export async function callerState(deps: Deps, callback: Callback, registeredAt: number): Promise<CallerState> {
  switch (callback.kind) {
    case 'cloudFormation': {
      const reason = cloudFormationGaveUp(deps, callback, registeredAt);
      return reason !== undefined ? { state: 'gone', reason } : { state: 'waiting' };
    }
    case 'stepFunctions': {
      try {
        await deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: callback.taskToken }));
        return { state: 'waiting' };
      } catch (error) {
        if (error instanceof Error && FINAL_TASK_ERRORS.includes(error.name)) return { state: 'gone', reason: `the task answers ${error.name}` };
        deps.log.warn('Could not tell whether the task still waits; the next sweep asks again', { error: describeError(error) });
        return { state: 'unknown' };
      }
    }
    default:
      return { state: 'waiting' };
  }
}

/**
 * Marks a statement handled without a callback (its caller no longer listens, or is answered otherwise) and releases
 * its singleton lock. Returns the claim (to give back if the other answer fails), or `undefined` when another attempt
 * holds or handled its completion.
 */
export async function markHandled(
  deps: Deps, name: StatementName, statementId: string, reason: string,
): Promise<{ readonly attempt: string; readonly inFlightOf?: string } | undefined> {
  const attempt = `handled:${randomUUID()}`;
  const now = deps.now();
  const result = await deps.table.claimCompletion(name, {
    attempt,
    statementId,
    trusted: true,
    event: { handledWithoutCallback: reason },
    ttl: completedTtl(now, deps.config.ttlDays),
    now,
    leaseUntil: now,
    final: true,
  });
  if (result.kind !== 'claimed') return undefined;
  if (result.statement.singletonLock !== undefined) {
    await deps.table.releaseLock(result.statement.singletonLock, formatStatementName(name)).catch((error) => {
      deps.log.warn('Could not release the singleton lock; a later start takes it over', { error: describeError(error) });
    });
  }
  return { attempt, ...result.statement.inFlightOf !== undefined ? { inFlightOf: result.statement.inFlightOf } : {} };
}

/**
 * Cancels a running statement whose caller is gone and marks it handled. `false` when the statement was no longer
 * running (it ended meanwhile: the next sweep, or its event, completes it).
 */
export async function cancelOrphan(deps: Deps, name: StatementName, statementId: string, reason: string): Promise<boolean> {
  try {
    await deps.redshiftData.send(new CancelStatementCommand({ Id: statementId }));
  } catch (error) {
    if (error instanceof Error && (error.name === 'ValidationException' || error.name === 'ResourceNotFoundException')) {
      deps.log.info('The orphaned statement is no longer running', { statementId, error: describeError(error) });
      return false;
    }
    throw error;
  }
  await markHandled(deps, name, statementId, `cancelled: ${reason}`);
  deps.metrics.count(Metric.ORPHANS_CANCELLED, ownTasker(deps.config.functionName));
  deps.log.warn('Cancelled a statement whose caller no longer waits', {
    statementName: formatStatementName(name), statementId, reason,
  });
  return true;
}
