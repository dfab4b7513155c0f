/**
 * Completion: an SQS batch of "Redshift Data Statement Status Change" events, answered with a partial batch
 * response. Per record: foreign, untracked or malformed messages are acknowledged and ignored; a tracked statement is
 * completed by `completeStatement`, the one way any source of a completion calls back: its completion is claimed
 * atomically in the tracking table (exactly one claim per statement, whatever the number of copies of its event or
 * of other sources), its singleton lock is released and its caller is called back once. A failed callback gives the
 * claim back and reports only that record in `batchItemFailures`, so SQS retries it and finally moves it to the DLQ.
 */
import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { SQSBatchResponse } from 'aws-lambda';
import { decodeCallbackDetails } from './callback-details';
import { cloudFormationResponse, sendCloudFormationResponse } from './cfn-callback';
import { Deps } from './deps';
import { describeError } from './errors';
import { truncateBytes } from './plain';
import { sendStepFunctionsCallback } from './sfn-callback';
import { StatementName, parseStatementName } from './statement-name';
import { StatusChangeEvent, parseStatusChangeEvent } from './status-event';

/** Redshift error texts kept with the event (the cause sent to Step Functions is limited to 32,768 characters). */
export const MAX_ERROR_TEXT_BYTES = 16 * 1024;

/** Adds Redshift's error text (`DescribeStatement.Error`) to a FAILED or ABORTED event as `detail.error`. */
async function withErrorText(deps: Deps, event: StatusChangeEvent): Promise<StatusChangeEvent> {
  try {
    const described = await deps.redshiftData.send(new DescribeStatementCommand({ Id: event.detail.statementId }));
    const error = described.Error ?? (event.detail.state === 'ABORTED' ? 'The statement was cancelled (ABORTED).' : undefined);
    return error === undefined ? event : { ...event, detail: { ...event.detail, error: truncateBytes(error, MAX_ERROR_TEXT_BYTES) } };
  } catch (error) {
    // Only the role that started a statement may describe it; a tasker sharing this completer has another role.
    deps.log.warn('Could not read the error text of the statement; calling back without it', {
      statementId: event.detail.statementId, error: describeError(error),
    });
    return event;
  }
}

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
    return;
  }
  const name = parseStatementName(received.detail.statementName);
  if (name === undefined) {
    log.debug('Ignoring the event of a statement this tasker did not name', { messageId, statementId: received.detail.statementId });
    return;
  }
  const event = received.detail.state !== 'FINISHED' ? await withErrorText(deps, received) : received;
  if (!await completeStatement(deps, messageId, name, event)) {
    log.debug('Ignoring the event: the statement is not tracked here or its completion was already handled', {
      messageId, statementName: event.detail.statementName,
    });
  }
}

/**
 * Completes a tracked statement exactly once: claims its completion for `owner` (the claimant, stable across retries
 * of the same source: an SQS message id, say), releases its singleton lock and calls its caller back with `event`.
 * Returns `false`, and does nothing, when the statement is not tracked in this table or another owner claimed it.
 * @throws when the callback failed; the claim is given back first, so a retry (or another source) can complete it
 */
export async function completeStatement(deps: Deps, owner: string, name: StatementName, event: StatusChangeEvent): Promise<boolean> {
  const { log, table } = deps;
  const failed = event.detail.state !== 'FINISHED';
  const now = deps.now();
  const claimed = await table.claimCompletion(name, {
    owner,
    statementId: event.detail.statementId,
    event,
    ttl: Math.floor(now / 1000) + deps.config.ttlDays * 86_400,
    completedAt: new Date(now).toISOString(),
  });
  if (claimed === undefined) return false;
  if (claimed.singletonLock !== undefined) {
    try {
      await table.releaseLock(claimed.singletonLock, event.detail.statementName);
    } catch (error) {
      log.warn('Could not release the singleton lock; a later start takes it over', { error: describeError(error) });
    }
  }
  const callback = decodeCallbackDetails(claimed.callbackDetails);
  try {
    switch (callback.kind) {
      case 'stepFunctions': {
        const result = await sendStepFunctionsCallback(deps.sfn, callback.taskToken, event, failed);
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
    try {
      await table.releaseClaim(name, owner);
    } catch (releaseError) {
      log.error('Could not give the completion claim back; this source retries it', { error: describeError(releaseError) });
    }
    throw error;
  }
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
