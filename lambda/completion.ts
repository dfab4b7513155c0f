/**
 * Completion: an SQS batch of "Redshift Data Statement Status Change" events, answered with a partial batch
 * response. Per record: foreign, untracked or malformed messages are acknowledged and ignored; a tracked statement is
 * completed by `completeStatement`, the one way any source of a completion calls back: its completion is claimed
 * atomically in the tracking table by one attempt (`claim.ts`: only for the statement id the starter recorded, never
 * twice, whatever the number of copies of its event or of other sources), its singleton lock is released and its
 * caller is called back once. An event whose statement id is not the recorded one (forged, misrouted) is acknowledged
 * and counted (`MismatchedEvents`), never called back. A failed callback gives the claim back and reports only that
 * record in `batchItemFailures`, so SQS retries it and finally moves it to the DLQ; so does an event that finds
 * another attempt's live claim (the fast path's, say), so it completes the statement if that attempt fails.
 */
import { randomUUID } from 'node:crypto';
import { SQSBatchResponse } from 'aws-lambda';
import { findStatementByName } from './actions';
import { Callback, decodeCallbackDetails } from './callback-details';
import { resourceAttributes, resultOfCallback } from './callback-results';
import { cloudFormationResponse, sendCloudFormationResponse } from './cfn-callback';
import { Claim, ClaimResult, ClaimedStatement } from './claim';
import { rerunAfterConflict } from './conflict-rerun';
import { Deps } from './deps';
import { withErrorText } from './describe-via';
import { describeError } from './errors';
import { CompletionPath, ownTasker } from './metrics';
import { callerState, cloudFormationGaveUp } from './orphans';
import { byteLength } from './plain';
import { CallbackResult, failureName, sendStepFunctionsCallback } from './sfn-callback';
import { StatementName, formatStatementName, parseStatementName } from './statement-name';
import { StatusChangeEvent, parseStatusChangeEvent } from './status-event';
import { completedTtl, inFlightTtl } from './table-base';
import { ErrorName, Metric, TaskOutput } from '../src/contract';

/** The longest Lambda invocation: the lease of an attempt whose remaining time is unknown. */
const MAX_INVOCATION_MS = 15 * 60_000;
/** Added to an attempt's remaining time: its lease outlasts the invocation that holds it. */
const LEASE_MARGIN_MS = 5_000;
/** Waits between the tries of a settle that failed (besides the SDK's own retries). */
const SETTLE_RETRY_DELAYS_MS: readonly number[] = [200, 1000, 3000];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cloudFormationReason(event: StatusChangeEvent, reruns = 0): string {
  const { detail } = event;
  const after = reruns > 0 ? ` It ran ${reruns + 1} times: each earlier run failed with a serialization conflict.` : '';
  if (detail.state === 'FINISHED') {
    const rows = typeof detail.rows === 'number' && detail.rows >= 0 ? `, ${detail.rows} rows` : '';
    return `Statement ${detail.statementName} FINISHED${rows} (statement id ${detail.statementId}).${after}`;
  }
  return `${detail.state}: ${detail.error ?? 'Redshift gave no error text'} (statement ${detail.statementName}, id ${detail.statementId}).${after}`;
}

/** How long an event waits in-process for another attempt's live claim before leaving it to the SQS redelivery. */
export const BUSY_RETRY_DELAYS_MS: readonly number[] = [250, 750, 1500];

/** The completion of another attempt is under way: the message is retried later (it is not a callback failure). */
export class ClaimHeld extends Error {
  public readonly name = 'ClaimHeld';
}

/** Processes one SQS record; throws when it must be retried. */
export async function completeRecord(deps: Deps, messageId: string, body: unknown): Promise<void> {
  const { log } = deps;
  const tasker = ownTasker(deps.config.functionName);
  const received = parseStatusChangeEvent(body);
  if (received === undefined) {
    log.debug('Ignoring a message that is not a Redshift Data status-change event', { messageId });
    deps.metrics.count(Metric.IGNORED_EVENTS, tasker);
    return;
  }
  const name = parseStatementName(received.detail.statementName);
  if (name === undefined) {
    log.debug('Ignoring the event of a statement this tasker did not name', { messageId, statementId: received.detail.statementId });
    deps.metrics.count(Metric.IGNORED_EVENTS, tasker);
    return;
  }
  const event = { path: 'event' as const, deliveryId: messageId };
  let outcome = await completeStatement(deps, name, received, event);
  if (outcome.kind === 'unrecorded') outcome = await confirmStartedStatement(deps, name, received, event, outcome.startedBy);
  for (const delay of BUSY_RETRY_DELAYS_MS) {
    if (outcome.kind !== 'busy') break;
    await sleep(delay);
    outcome = await completeStatement(deps, name, received, event);
  }
  const fields = { messageId, statementName: received.detail.statementName, statementId: received.detail.statementId };
  switch (outcome.kind) {
    case 'calledBack':
      return;
    case 'busy':
      throw new ClaimHeld('Another attempt holds the completion of this statement; the message is retried after its lease.');
    case 'mismatch':
      log.warn('Ignoring an event whose statement id is not the one this tasker started under that name (forged or misrouted); nobody is called back', {
        ...fields, principal: received.detail.principal,
      });
      deps.metrics.count(Metric.MISMATCHED_EVENTS, tasker);
      return;
    default:
      log.debug('Ignoring the event: the statement is not tracked here or its completion was already handled', fields);
      deps.metrics.count(Metric.DUPLICATE_EVENTS, tasker);
  }
}

/**
 * An event for a statement whose id was never recorded (its start died after `ExecuteStatement`): only the starter
 * can tell whether the event's id is the statement it started under that name (the Data API lists a role's own
 * statements by name). Another completer leaves the message to be retried: the starter's next sweep records the id.
 */
async function confirmStartedStatement(
  deps: Deps, name: StatementName, received: StatusChangeEvent, options: CompletionOptions, startedBy: string | undefined,
): Promise<CompletionOutcome> {
  if (startedBy !== undefined && startedBy !== deps.config.functionName) {
    throw new ClaimHeld(`The statement's id is not recorded yet; its starter ${startedBy} records it in its next sweep.`);
  }
  const found = await findStatementByName(deps, received.detail.statementName);
  if (found?.id !== received.detail.statementId) return { kind: 'mismatch', recordedId: found?.id ?? '' };
  await deps.table.recordStatementId(name, found.id, found.sessionId);
  return completeStatement(deps, name, received, options);
}

/** How a source completes a statement. */
export interface CompletionOptions {
  /** What found the completion (the metrics' dimension of it). */
  readonly path: CompletionPath;
  /**
   * The event's SQS message id (event path): the claim is final at once, and the event's statement id must match the
   * recorded one.
   */
  readonly deliveryId?: string;
  /** The Step Functions error of a failure. @default ErrorName.STATEMENT_FAILED */
  readonly errorName?: string;
  /** When the statement ended (ms), if known more precisely than the event's whole-second `time`. */
  readonly endedAt?: number;
  /** The Data API session the statement ran in, when the source knows it (a description); else the recorded one. */
  readonly sessionId?: string;
}

/** What became of a completion: called back (or nobody waited), or why this attempt did not call back. */
export type CompletionOutcome = { readonly kind: 'calledBack' } | Exclude<ClaimResult, { kind: 'claimed' | 'expired' }>;

const CALLED_BACK: CompletionOutcome = { kind: 'calledBack' };

/** Until when an attempt of this invocation holds a claim: its remaining time, and a margin. */
function leaseUntil(deps: Deps): number {
  return deps.now() + (deps.remainingTimeMs?.() ?? MAX_INVOCATION_MS) + LEASE_MARGIN_MS;
}

/**
 * Completes a tracked statement exactly once: claims its completion for a new attempt (see `claim.ts`), releases its
 * singleton lock and calls its caller back with `received` (a failure with Redshift's error text in `detail.error`,
 * read as the statement's starter if the event has none), then settles the claim. Returns why it did not call back
 * when the claim was refused.
 * @throws when the callback failed; the claim is given back first, so a retry (or another source) can complete it
 */
export async function completeStatement(
  deps: Deps, name: StatementName, received: StatusChangeEvent, options: CompletionOptions,
): Promise<CompletionOutcome> {
  const { log, table } = deps;
  const failed = received.detail.state !== 'FINISHED';
  const now = deps.now();
  const attempt = `${options.path}:${randomUUID()}`;
  const ttl = completedTtl(now, deps.config.ttlDays);
  const claim: Claim = {
    attempt,
    statementId: received.detail.statementId,
    trusted: options.deliveryId === undefined,
    event: received,
    ttl,
    now,
    leaseUntil: leaseUntil(deps),
    ...options.deliveryId !== undefined ? { deliveryId: options.deliveryId } : {},
  };
  const result = await table.claimCompletion(name, claim);
  const taken = result.kind === 'expired' ? await takeOverIfUnanswered(deps, name, result, claim) : result;
  if (taken.kind !== 'claimed') return taken;
  const claimed = taken.statement;
  const final = options.deliveryId !== undefined;
  const event = failed && received.detail.error === undefined ? await withErrorText(deps, received, claimed.startedBy) : received;
  if (claimed.singletonLock !== undefined) {
    try {
      await table.releaseLock(claimed.singletonLock, event.detail.statementName);
    } catch (error) {
      log.warn('Could not release the singleton lock; a later start takes it over', { error: describeError(error) });
    }
  }
  const tasker = claimed.startedBy ?? ownTasker(deps.config.functionName);
  let callback: Callback = { kind: 'none' };
  let delivered = true;
  try {
    callback = decodeCallbackDetails(claimed.callbackDetails);
    delivered = await callBack(deps, callback, event, failed, options.errorName, options.sessionId ?? claimed.sessionId, claimed);
  } catch (error) {
    deps.metrics.count(Metric.CALLBACK_FAILURES, tasker);
    try {
      // A final claim took the item out of the index and gave it a completed statement's TTL: both are given back.
      await table.releaseClaim(name, attempt, final ? claimed.inFlightOf : undefined,
        final ? inFlightTtl(now, deps.config.ttlDays) : undefined);
    } catch (releaseError) {
      log.error('Could not give the completion claim back; it is taken over once its lease has passed', { error: describeError(releaseError) });
    }
    throw error;
  }
  const calledBackAt = deps.now();
  if (!final) await settle(deps, name, attempt, ttl);
  // A claim taken over from an attempt that died may follow a callback that went out: Step Functions then answers that
  // the task is closed, and nothing is counted twice.
  if (claimed.takenOver && !delivered) {
    log.info('Took over the claim of an attempt that died; its callback had gone out', { statementName: event.detail.statementName });
    return CALLED_BACK;
  }
  const endedAt = options.endedAt ?? Date.parse(event.time ?? '');
  deps.metrics.statementCompleted({
    tasker,
    state: event.detail.state,
    path: options.path,
    ...Number.isFinite(endedAt) ? {
      durationMs: endedAt - claimed.registeredAt,
      ...callback.kind !== 'none' ? { callbackLatencyMs: calledBackAt - endedAt } : {},
    } : {},
    ...typeof event.detail.rows === 'number' && event.detail.rows >= 0 ? { rows: event.detail.rows } : {},
  });
  log.info('Called back', {
    statementName: event.detail.statementName, statementId: event.detail.statementId, state: event.detail.state, callback: callback.kind,
  });
  return CALLED_BACK;
}

/**
 * Another delivery's event claim whose lease passed without its message being acknowledged or given back — its
 * attempt died, and its message may be in the dead-letter queue (a redrive gives it a new id) — or that succeeded.
 * It is taken over only when its caller may still wait: a Step Functions task that answers a heartbeat, a
 * CloudFormation request within its service timeout (which may then get the same answer twice). Otherwise it is done.
 */
async function takeOverIfUnanswered(
  deps: Deps, name: StatementName, expired: Extract<ClaimResult, { kind: 'expired' }>, claim: Claim,
): Promise<Extract<ClaimResult, { kind: 'claimed' | 'done' }>> {
  const callback = decodeCallbackDetails(expired.callbackDetails);
  let waits: boolean;
  switch (callback.kind) {
    case 'stepFunctions':
      waits = (await callerState(deps, callback, expired.registeredAt)).state === 'waiting';
      break;
    case 'cloudFormation':
      waits = cloudFormationGaveUp(deps, callback, expired.registeredAt) === undefined;
      break;
    default:
      waits = false;
  }
  if (!waits) return { kind: 'done' };
  deps.log.warn('Taking over an event\'s claim whose attempt ended without calling back', { statementName: formatStatementName(name) });
  return deps.table.takeOver(name, expired.attempt, claim);
}

/** Sends the callback; `false` when Step Functions says the task is closed (nothing to retry). */
async function callBack(
  deps: Deps, callback: Callback, event: StatusChangeEvent, failed: boolean, errorName: string | undefined, sessionId: string | undefined,
  claimed: ClaimedStatement,
): Promise<boolean> {
  const { startedBy } = claimed;
  switch (callback.kind) {
    case 'stepFunctions': {
      let result: CallbackResult;
      const outcome = failed ? undefined : await resultOfCallback(deps, callback, event, startedBy);
      const session = sessionId !== undefined ? { [TaskOutput.SESSION_ID]: sessionId } : undefined;
      if (outcome !== undefined && 'failure' in outcome) {
        result = await sendStepFunctionsCallback(deps.sfn, callback.taskToken, outcome.failure, true, outcome.errorName);
      } else {
        const extra = outcome?.output !== undefined || session !== undefined ? { ...outcome?.output, ...session } : undefined;
        result = await sendStepFunctionsCallback(deps.sfn, callback.taskToken, event, failed, errorName, extra);
      }
      if (result === 'taskClosed') {
        deps.log.warn('The task can no longer be called back (timed out, closed or unknown); nothing to retry', {
          statementName: event.detail.statementName, state: event.detail.state,
        });
      }
      return result === 'delivered';
    }
    case 'cloudFormation': {
      // A serialization conflict: the SQL runs again (its own completion answers), a bounded number of times.
      if (failed && failureName(event, errorName) === ErrorName.SERIALIZATION_CONFLICT
        && await rerunAfterConflict(deps, callback.request, event, claimed) !== undefined) return true;
      const builtIn = {
        statementId: event.detail.statementId,
        state: event.detail.state,
        rows: typeof event.detail.rows === 'number' ? event.detail.rows : -1,
      };
      const respond = (data: Record<string, string | number>) => cloudFormationResponse(callback.request, failed ? 'FAILED' : 'SUCCESS',
        cloudFormationReason(event, callback.request.ConflictAttempt), event.detail.statementName, data);
      let response = respond(builtIn);
      if (!failed && callback.resultAttributes) {
        const attributes = await resourceAttributes(deps, event, startedBy, builtIn, (data) => byteLength(JSON.stringify(respond(data))));
        // The SQL ran: a failed Create keeps its physical id, so the rollback's Delete runs the resource's Delete SQL.
        response = 'data' in attributes ? respond(attributes.data)
          : cloudFormationResponse(callback.request, 'FAILED', attributes.failure, event.detail.statementName, builtIn, true);
      }
      await sendCloudFormationResponse(deps.httpPut, callback.request.ResponseURL, response);
      return true;
    }
    default:
      deps.log.debug('Statement completed; nobody waits for a callback', { statementName: event.detail.statementName });
      return true;
  }
}

/**
 * Settles a claim after its callback went out. A settle that keeps failing leaves the claim to expire: whoever takes
 * it over then calls back again (Step Functions refuses a closed task), so it is tried a few times first.
 */
async function settle(deps: Deps, name: StatementName, attempt: string, ttl: number): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      await deps.table.settle(name, attempt, ttl);
      return;
    } catch (error) {
      if (tries >= SETTLE_RETRY_DELAYS_MS.length) {
        deps.log.error('Could not settle a completion after its callback; it is taken over once its lease has passed', {
          statementName: formatStatementName(name), error: describeError(error),
        });
        return;
      }
      await sleep(SETTLE_RETRY_DELAYS_MS[tries]);
    }
  }
}

/** Processes an SQS batch; only records that must be retried are listed in `batchItemFailures`. */
export async function completeBatch(deps: Deps, records: readonly unknown[]): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  await Promise.all(records.map(async (record) => {
    const messageId = typeof record === 'object' && record !== null ? (record as { messageId?: unknown }).messageId : undefined;
    if (typeof messageId !== 'string' || messageId === '') {
      deps.log.warn('Ignoring an SQS record without a messageId');
      return;
    }
    try {
      await completeRecord(deps, messageId, (record as { body?: unknown }).body);
    } catch (error) {
      if (error instanceof ClaimHeld) deps.log.info('The completion is under way elsewhere; the message will be retried', { messageId, reason: error.message });
      else deps.log.error('Completion failed; the message will be retried', { messageId, error: describeError(error) });
      failures.push({ itemIdentifier: messageId });
    }
  }));
  return { batchItemFailures: failures };
}
