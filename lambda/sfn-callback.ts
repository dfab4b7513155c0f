/**
 * The Step Functions callback: `SendTaskSuccess` with the status-change event as output, or `SendTaskFailure` with
 * error `FAILED` and the event (with Redshift's error text in `detail.error`) as cause, within the API's size limits.
 */
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { MAX_TASK_CAUSE_CHARS, MAX_TASK_OUTPUT_BYTES, byteLength, fitText } from './plain';
import { StatusChangeEvent } from './status-event';
import { ErrorName, SERIALIZATION_CONFLICT_TEXT, TaskOutput } from '../src/contract';

/** Errors after which the task can never be called back: it timed out, was closed, or the token is not valid. */
export const FINAL_TASK_ERRORS: readonly string[] = ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'];

export type CallbackResult = 'delivered' | 'taskClosed';

/**
 * The event as task output, with what the tasker adds for the task: the session the statement ran in (`sessionId`),
 * its rows (`result`) or the place of its export (`export`) when the task asked for them (their size is checked
 * before: `callback-results.ts`); summarised if it would exceed 256 KiB (it normally is far below).
 */
export function taskOutput(event: StatusChangeEvent, extra?: Record<string, unknown>): string {
  const output = JSON.stringify({ ...event, ...extra });
  if (extra?.result !== undefined || extra?.export !== undefined) return output;
  const session = extra?.[TaskOutput.SESSION_ID] !== undefined ? { [TaskOutput.SESSION_ID]: extra[TaskOutput.SESSION_ID] } : {};
  if (byteLength(output) <= MAX_TASK_OUTPUT_BYTES) return output;
  const { detail } = event;
  return JSON.stringify({
    ...event,
    detail: { statementId: detail.statementId, statementName: detail.statementName, state: detail.state, rows: detail.rows },
    ...session,
    truncated: true,
  });
}

/** The event as failure cause, with `detail.error` shortened so the cause (JSON, escaping included) fits 32,768 characters. */
export function taskFailureCause(event: StatusChangeEvent): string {
  const render = (error: string | undefined) => JSON.stringify({ ...event, detail: { ...event.detail, error } });
  const error = fitText(event.detail.error ?? '', (candidate) => render(candidate).length <= MAX_TASK_CAUSE_CHARS);
  return render(event.detail.error === undefined ? undefined : error);
}

/**
 * The error a failed statement's task fails with: `SerializationConflict` for Redshift's serializable isolation
 * violation (running it again can succeed: `RedshiftSqlTask` retries it), else `errorName` (`FAILED` by default).
 */
export function failureName(event: StatusChangeEvent, errorName: string = ErrorName.STATEMENT_FAILED): string {
  const isConflict = errorName === ErrorName.STATEMENT_FAILED && event.detail.state === 'FAILED'
    && SERIALIZATION_CONFLICT_TEXT.test(event.detail.error ?? '');
  return isConflict ? ErrorName.SERIALIZATION_CONFLICT : errorName;
}

/**
 * Calls the waiting task back. Resolves `taskClosed` when Step Functions says the task can no longer be called back
 * (final, nothing to retry); rejects on anything else (throttling, service errors), so the caller retries.
 */
export async function sendStepFunctionsCallback(
  sfn: SFNClient, taskToken: string, event: StatusChangeEvent, failed: boolean, errorName: string = ErrorName.STATEMENT_FAILED,
  extra?: Record<string, unknown>,
): Promise<CallbackResult> {
  try {
    if (failed) {
      await sfn.send(new SendTaskFailureCommand({ taskToken, error: failureName(event, errorName), cause: taskFailureCause(event) }));
    } else {
      await sfn.send(new SendTaskSuccessCommand({ taskToken, output: taskOutput(event, extra) }));
    }
    return 'delivered';
  } catch (error) {
    if (error instanceof Error && FINAL_TASK_ERRORS.includes(error.name)) return 'taskClosed';
    throw error;
  }
}
