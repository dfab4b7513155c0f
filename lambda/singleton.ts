/**
 * `executeSingletonStatement`: at most one running instance of the same SQL per target and database, without
 * relying on reserved concurrency. A conditional write in the tracking table takes a lock keyed by the SHA-256 of
 * (target, database, SQL text); the completer releases it when that statement's completion event arrives.
 *
 * Recovery when the holder is gone: the lock starts with a short lease (covering a crash between taking it and
 * starting the statement), which is extended to the Data API's 24-hour horizon once the statement runs. A contender
 * that finds the lock held by a started statement asks the Data API; if that statement already ended (its event was
 * lost or is still on its way) the contender takes the lock over with a conditional write.
 */
import { createHash } from 'node:crypto';
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { Config, targetParameters } from './config';
import { Deps } from './deps';
import { ConcurrentExecution } from './errors';
import { isFinalState, show } from '../src/contract';

/** Lease while the statement is being started (longer than the longest Lambda run). */
export const START_LEASE_SECONDS = 15 * 60;
/** Lease once started: the Data API's maximum statement duration (24 h) plus a margin. */
export const RUN_LEASE_SECONDS = 24 * 60 * 60 + 5 * 60;


/** The lock's partition key for this SQL on this target and database. */
export function singletonLockId(config: Config, sql: string | readonly string[]): string {
  const { ClusterIdentifier, WorkgroupName, Database } = targetParameters(config);
  const hash = createHash('sha256')
    .update(JSON.stringify([ClusterIdentifier ?? null, WorkgroupName ?? null, Database, sql]))
    .digest('hex');
  return `singleton-lock#${hash}`;
}

async function holderHasEnded(deps: Deps, statementId: string): Promise<boolean> {
  try {
    const described = await deps.redshiftData.send(new DescribeStatementCommand({ Id: statementId }));
    return isFinalState(described.Status);
  } catch (error) {
    // Results and statement records expire after 24 hours: an unknown statement is not running any more.
    return error instanceof Error && error.name === 'ResourceNotFoundException';
  }
}

/**
 * Takes the lock for `holder` (the statement name about to start).
 * @returns `true` when this call took it; `false` when `holder` already held it (a retried start of the same caller)
 * @throws ConcurrentExecution when the same SQL is running
 */
export async function acquireSingleton(deps: Deps, lockId: string, holder: string, sql: string | readonly string[]): Promise<boolean> {
  const now = Math.floor(deps.now() / 1000);
  const lease = now + START_LEASE_SECONDS;
  if (await deps.table.acquireLock(lockId, holder, lease, now)) return true;
  const current = await deps.table.readLock(lockId);
  // A retried start of the same caller computes the same name: the lock is already its own.
  if (current?.holder === holder) return false;
  if (current === undefined) {
    // Released between our two calls: try once more.
    if (await deps.table.acquireLock(lockId, holder, lease, now)) return true;
  } else if (current.statementId !== undefined && await holderHasEnded(deps, current.statementId)) {
    if (await deps.table.takeOverLock(lockId, current.holder, holder, lease)) {
      deps.log.warn('Took over a singleton lock whose statement had already ended', {
        previousHolder: current.holder, previousStatementId: current.statementId,
      });
      return true;
    }
  }
  throw new ConcurrentExecution(
    `There is already an instance of ${show(typeof sql === 'string' ? sql : sql.join('; '))} running`
    + `${current ? ` (statement ${current.holder}${current.statementId ? `, id ${current.statementId}` : ', starting'})` : ''}. `
    + 'Retry later, or catch ConcurrentExecution if one run at a time is what you want.');
}

/** Records the started statement on the lock and extends the lease to cover its run. */
export async function confirmSingleton(deps: Deps, lockId: string, holder: string, statementId: string): Promise<void> {
  const lease = Math.floor(deps.now() / 1000) + RUN_LEASE_SECONDS;
  const confirmed = await deps.table.confirmLock(lockId, holder, statementId, lease);
  if (!confirmed) {
    deps.log.warn('The singleton lock changed while the statement was starting', { holder, statementId });
  }
}
