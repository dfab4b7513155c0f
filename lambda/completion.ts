/**
 * Completion: an SQS batch of "Redshift Data Statement Status Change" events, answered with a partial batch
 * response. Per record: foreign, untracked or malformed messages are acknowledged and ignored; a tracked statement is
 * completed by `completeStatement`, the one way any source of a completion calls back: its completion is claimed
 * atomically in the tracking table (exactly one claim per statement, whatever the number of copies of its event or
 * of other sources), its singleton lock is released and its caller is called back once. A failed callback gives the
 * claim back and reports only that record in `batchItemFailures`, so SQS retries it and finally moves it to the DLQ.
 */
import { SQSBatchResponse } from 'aws-lambda';
import { decodeCallbackDetails } from './callback-details';
import { cloudFormationResponse, sendCloudFormationResponse } from './cfn-callback';
import { Deps } from './deps';
import { withErrorText } from './describe-via';
import { describeError } from './errors';
import { CompletionPath, ownTasker } from './metrics';
import { sendStepFunctionsCallback } from './sfn-callback';
import { StatementName, parseStatementName } from './statement-name';
import { StatusChangeEvent, parseStatusChangeEvent } from './status-event';
import { Metric } from '../src/contract';

function cloudFormationReason(event: StatusChangeEvent): string {
  const { detail } = event;
  if (detail.state === 'FINISHED') {
    const rows = typeof detail.rows === 'number' && detail.rows >= 0 ? `, ${detail.rows} rows` : '';
    return `Statement ${detail.statementName} FINISHED${rows} (statement id ${detail.statementId}).`;
  }
  return `${detail.state}: ${detail.error ?? 'Redshift gave no error text'} (statement ${detail.statementName}, id ${detail.statementId}).`;
}

/** Processes one SQS record; throws when it must be retried. */
export async function completeRecord(deps: Deps, messageId: string, body: unknown): Promise<void> {
  const { log } = deps;
  const received = parseStatusChangeEvent(body);
  if (received === undefined) {
    log.debug('Ignoring a message that is not a Redshift Data status-change event', { messageId });
    deps.metrics.count(Metric.IGNORED_EVENTS, ownTasker(deps.config.functionName));
    return;
  }
  const name = parseStatementName(received.detail.statementName);
  if (name === undefined) {
    log.debug('Ignoring the event of a statement this tasker did not name', { messageId, statementId: received.detail.statementId });
    deps.metrics.count(Metric.IGNORED_EVENTS, ownTasker(deps.config.functionName));
    return;
  }
  if (!await completeStatement(deps, messageId, name, received)) {
    log.debug('Ignoring the event: the statement is not tracked here or its completion was already handled', {
      messageId, statementName: received.detail.statementName,
    });
    deps.metrics.count(Metric.DUPLICATE_EVENTS, ownTasker(deps.config.functionName));
  }
}

/** How a source other than an event completes a statement. */
export interface CompletionOptions {
  /** The Step Functions error of a failure. @default ErrorName.STATEMENT_FAILED */
  readonly errorName?: string;
  /**
   * Keep the statement in the `inFlight` index until the callback succeeded, so a crash between claim and callback
   * leaves it to the next sweep (a source without redelivery: the reconciler). @default false
   */
  readonly keepInFlight?: boolean;
  /** What found the completion (the metrics' dimension of it). @default 'event' */
  readonly path?: CompletionPath;
  /** When the statement ended (ms), if known more precisely than the event's whole-second `time`. */
  readonly endedAt?: number;
}

/**
 * Completes a tracked statement exactly once: claims its completion for `owner` (the claimant, stable across retries
 * of the same source: an SQS message id, say), releases its singleton lock and calls its caller back with `event`
 * (a failure with Redshift's error text in `detail.error`, read as the statement's starter if the event has none).
 * Returns `false`, and does nothing, when the statement is not tracked in this table or another owner claimed it.
 * @throws when the callback failed; the claim is given back first, so a retry (or another source) can complete it
 */
export async function completeStatement(
  deps: Deps, owner: string, name: StatementName, received: StatusChangeEvent, options: CompletionOptions = {},
): Promise<boolean> {
  const { log, table } = deps;
  const failed = received.detail.state !== 'FINISHED';
  const now = deps.now();
  const claimed = await table.claimCompletion(name, {
    owner,
    statementId: received.detail.statementId,
    event: received,
    ttl: Math.floor(now / 1000) + deps.config.ttlDays * 86_400,
    completedAt: new Date(now).toISOString(),
    keepInFlight: options.keepInFlight,
  });
  if (claimed === undefined) return false;
  const event = failed && received.detail.error === undefined ? await withErrorText(deps, received, claimed.startedBy) : received;
  if (claimed.singletonLock !== undefined) {
    try {
      await table.releaseLock(claimed.singletonLock, event.detail.statementName);
    } catch (error) {
      log.warn('Could not release the singleton lock; a later start takes it over', { error: describeError(error) });
    }
  }
  const callback = decodeCallbackDetails(claimed.callbackDetails);
  const tasker = claimed.startedBy ?? ownTasker(deps.config.functionName);
  try {
    switch (callback.kind) {
      case 'stepFunctions': {
        const result = await sendStepFunctionsCallback(deps.sfn, callback.taskToken, event, failed, options.errorName);
        if (result === 'taskClosed') {
          log.warn('The task can no longer be called back (timed out, closed or unknown); nothing to retry', {
            statementName: event.detail.statementName, state: event.detail.state,
          });
        }
        break;
      }
      case 'cloudFormation': {
        const response = cloudFormationResponse(callback.request, failed ? 'FAILED' : 'SUCCESS', cloudFormationReason(event),
          event.detail.statementName, {
            statementId: event.detail.statementId,
            state: event.detail.state,
            rows: typeof event.detail.rows === 'number' ? event.detail.rows : -1,
          });
        await sendCloudFormationResponse(deps.httpPut, callback.request.ResponseURL, response);
        break;
      }
      default:
        log.debug('Statement completed; nobody waits for a callback', { statementName: event.detail.statementName });
    }
  } catch (error) {
    deps.metrics.count(Metric.CALLBACK_FAILURES, tasker);
    try {
      await table.releaseClaim(name, owner, options.keepInFlight ? undefined : claimed.inFlightOf);
    } catch (releaseError) {
      log.error('Could not give the completion claim back; this source retries it', { error: describeError(releaseError) });
    }
    throw error;
  }
  const calledBackAt = deps.now();
  if (options.keepInFlight) await table.settle(name, owner);
  const endedAt = options.endedAt ?? Date.parse(event.time ?? '');
  deps.metrics.statementCompleted({
    tasker,
    state: event.detail.state,
    path: options.path ?? 'event',
    ...Number.isFinite(endedAt) ? {
      durationMs: endedAt - claimed.registeredAt,
      ...callback.kind !== 'none' ? { callbackLatencyMs: calledBackAt - endedAt } : {},
    } : {},
    ...typeof event.detail.rows === 'number' && event.detail.rows >= 0 ? { rows: event.detail.rows } : {},
  });
  log.info('Called back', {
    statementName: event.detail.statementName, statementId: event.detail.statementId, state: event.detail.state, callback: callback.kind,
  });
  return true;
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
      deps.log.error('Completion failed; the message will be retried', { messageId, error: describeError(error) });
      failures.push({ itemIdentifier: messageId });
    }
  }));
  return { batchItemFailures: failures };
}
