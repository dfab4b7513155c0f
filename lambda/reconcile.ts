/**
 * The reconciler: `{"action": "reconcile", "olderThanSeconds"?: number}`, sent by the construct's schedule to every
 * starter function. EventBridge delivers the Data API's status-change events on a best-effort basis; a sweep finds
 * what a lost event left behind and what nobody waits for any more.
 *
 * A sweep reads the statements this function started that are still in flight and were registered at least
 * `olderThanSeconds` ago, from the sparse `inFlight` index of the tracking table (an item is in it from registration
 * until its completion is claimed): O(statements in flight), no table scan. For each one it asks the Data API:
 * - ended (FINISHED, FAILED, ABORTED): completed through `completeStatement`, the exactly-once claim events use, with
 *   the callback the event would have produced (an event arriving at the same time finds it claimed, or the reverse);
 * - unknown to the Data API (it keeps statements 24 hours; or the statement never started): its caller fails with
 *   `StatementNotFound`;
 * - running: its caller is asked whether it still waits (`orphans.ts`); if not, the statement is cancelled.
 * A statement whose event arrives in time has left the index before any sweep sees it: reconciling adds no AWS call
 * to it. Each sweep stops taking statements when the invocation's time runs short (after at least one); the next sweep
 * continues. Every completion is claimed by one attempt of one sweep (`claim.ts`), so overlapping sweeps, a sweep and
 * the fast path, or a sweep and the event never call back twice.
 */
import { DescribeStatementCommand, DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { findStatementByName } from './actions';
import { Callback, decodeCallbackDetails } from './callback-details';
import { CompletionOutcome, completeStatement } from './completion';
import { Deps } from './deps';
import { describedEnd, describedEvent, notFoundEvent } from './described-event';
import { ConfigurationError, describeError } from './errors';
import { ownTasker } from './metrics';
import { callerState, cancelOrphan, cloudFormationGaveUp, markHandled } from './orphans';
import { ReconcileRequest } from './request';
import { START_LEASE_SECONDS } from './singleton';
import { StatementName, formatStatementName } from './statement-name';
import { Defaults, ErrorName, Metric, Table, isFinalState } from '../src/contract';

/** Statements reconciled at the same time (each costs one to three Data API and Step Functions calls). */
export const SWEEP_CONCURRENCY = 8;
/** In-flight statements read per index query. */
export const SWEEP_PAGE_SIZE = 100;
/** A sweep takes no new statement when its invocation has less time left than this (it always takes one). */
export const SWEEP_RESERVE_MS = Defaults.SWEEP_RESERVE_SECONDS * 1000;

/** What a sweep did, by statement (also the `reconcile` action's answer). */
export interface SweepReport {
  /** In-flight statements older than the threshold that the sweep looked at. */
  examined: number;
  /** Ended statements called back by this sweep. */
  completed: number;
  /** Ended statements whose event (or another sweep) claimed them first. */
  alreadyHandled: number;
  /** Statements the Data API does not know: failed with `StatementNotFound`. */
  notFound: number;
  /** Running statements whose caller no longer waits: cancelled. */
  cancelled: number;
  /** Running statements whose caller waits (or whose orphan check is off). */
  running: number;
  /** Statements not yet known to the Data API but registered less than 15 minutes ago (their start may be under way). */
  starting: number;
  /** Statements whose reconciliation failed (logged; the next sweep tries again). */
  failed: number;
  /** Whether the sweep stopped early (time): the next sweep continues. */
  incomplete: boolean;
}

type Outcome = Exclude<keyof SweepReport, 'examined' | 'incomplete'>;

/** Where a statement stands: `undefined` when the Data API does not know it. */
async function statusOf(deps: Deps, name: StatementName, knownId: string | undefined): Promise<DescribeStatementResponse | undefined> {
  let id = knownId;
  if (id === undefined) {
    const found = await findStatementByName(deps, formatStatementName(name));
    if (found === undefined) return undefined;
    id = found.id;
    if (!isFinalState(found.status)) {
      await deps.table.recordStatementId(name, id);
      return { Id: id, Status: found.status as DescribeStatementResponse['Status'] };
    }
  }
  try {
    return await deps.redshiftData.send(new DescribeStatementCommand({ Id: id }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** A sweep's outcome for a completion it tried: another attempt's live claim is left to it (the next sweep looks again). */
function outcomeOf(outcome: CompletionOutcome, calledBack: 'completed' | 'notFound'): Outcome {
  if (outcome.kind === 'calledBack') return calledBack;
  return outcome.kind === 'busy' ? 'running' : 'alreadyHandled';
}

/** Reconciles one in-flight statement. */
async function reconcileOne(
  deps: Deps, name: StatementName, registeredAt: number, callback: Callback, knownId: string | undefined,
): Promise<Outcome> {
  const statementName = formatStatementName(name);
  const status = await statusOf(deps, name, knownId);
  const gaveUp = cloudFormationGaveUp(deps, callback, registeredAt);
  if (status === undefined) {
    // A start may take as long as the longest Lambda run before the Data API knows its statement.
    if (deps.now() - registeredAt < START_LEASE_SECONDS * 1000) return 'starting';
    if (gaveUp !== undefined) return await markHandled(deps, name, knownId ?? '', gaveUp) !== undefined ? 'notFound' : 'alreadyHandled';
    const event = notFoundEvent(deps, statementName, knownId, registeredAt);
    const outcome = await completeStatement(deps, name, event, { errorName: ErrorName.STATEMENT_NOT_FOUND, path: 'reconciler' });
    return outcomeOf(outcome, 'notFound');
  }
  if (isFinalState(status.Status)) {
    // CloudFormation no longer reads answers after its service timeout (and its response URL may have expired).
    if (gaveUp !== undefined) return await markHandled(deps, name, status.Id!, gaveUp) !== undefined ? 'completed' : 'alreadyHandled';
    const event = describedEvent(deps, statementName, status);
    const outcome = await completeStatement(deps, name, event, {
      path: 'reconciler', endedAt: describedEnd(status), ...status.SessionId ? { sessionId: status.SessionId } : {},
    });
    return outcomeOf(outcome, 'completed');
  }
  if (!deps.config.cancelOrphans) return 'running';
  const caller = await callerState(deps, callback, registeredAt);
  if (caller.state !== 'gone') return 'running';
  return await cancelOrphan(deps, name, status.Id!, caller.reason) ? 'cancelled' : 'running';
}

/** Runs `work` on each item, `limit` at a time, while `more()` holds; `true` when every item was worked on. */
async function eachLimited<T>(items: readonly T[], limit: number, more: () => boolean, work: (item: T) => Promise<void>): Promise<boolean> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && more()) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return next >= items.length;
}

/** A reconciler sweep over the statements this function started. */
export async function reconcile(deps: Deps, request: ReconcileRequest): Promise<SweepReport> {
  const { config, log, table } = deps;
  if (config.functionName === undefined) {
    throw new ConfigurationError('A sweep needs the function\'s name (AWS_LAMBDA_FUNCTION_NAME, set by Lambda): statements are indexed by the function that started them.');
  }
  const report: SweepReport = {
    examined: 0, completed: 0, alreadyHandled: 0, notFound: 0, cancelled: 0, running: 0, starting: 0, failed: 0, incomplete: false,
  };
  // Every sweep examines at least one statement, so a short timeout slows sweeps down but never stops them.
  const timeLeft = () => report.examined === 0 || (deps.remainingTimeMs ? deps.remainingTimeMs() > SWEEP_RESERVE_MS : true);
  const before = deps.now() - request.olderThanSeconds * 1000;
  let startKey: Record<string, unknown> | undefined;
  do {
    let page;
    try {
      page = await table.inFlight(config.functionName, before, SWEEP_PAGE_SIZE, startKey);
    } catch (error) {
      if (error instanceof Error && error.name === 'ValidationException' && /index/i.test(error.message)) {
        throw new ConfigurationError(`The tracking table ${config.tableName} has no usable ${Table.IN_FLIGHT_INDEX} index `
          + `(${describeError(error)}); add it (see the README, "Tracking table") or turn the reconciler off.`);
      }
      throw error;
    }
    const all = await eachLimited(page.items, SWEEP_CONCURRENCY, timeLeft, async (item) => {
      report.examined++;
      try {
        const details = item.callbackDetails ?? (await table.readRegistration(item.key))?.callbackDetails;
        report[await reconcileOne(deps, item.key, item.registeredAt, decodeCallbackDetails(details), item.statementId)]++;
      } catch (error) {
        report.failed++;
        log.error('Could not reconcile a statement; the next sweep tries again', {
          statementName: formatStatementName(item.key), error: describeError(error),
        });
      }
    });
    startKey = page.nextKey;
    if (!all || (startKey !== undefined && !timeLeft())) {
      report.incomplete = true;
      break;
    }
  } while (startKey !== undefined);
  if (report.incomplete && report.examined === 0) {
    log.error('The reconciler sweep stopped before examining any statement: give the starter function a longer timeout', { ...report });
    deps.metrics.count(Metric.STALLED_SWEEPS, ownTasker(config.functionName));
  } else {
    log.info('Reconciler sweep', { ...report, olderThanSeconds: request.olderThanSeconds });
  }
  return report;
}
