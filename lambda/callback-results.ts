/**
 * What a task asked to receive with its callback besides the completion event: the statement's rows (`rowFormat`,
 * `result-rows.ts`) or its whole result written to S3 (`export`, `result-export.ts`). Either is made when the
 * completion is claimed, before the callback; when it cannot be made for good (the rows do not fit the output, the
 * export does not fit the function's time), the task fails with a typed error instead — never a cut result. Any other
 * error (the Data API's, S3's) is thrown: the claim is given back and the completion retried.
 */
import { Callback } from './callback-details';
import { Deps } from './deps';
import { MAX_TASK_OUTPUT_BYTES, byteLength } from './plain';
import { exportAsStarter } from './result-export';
import { ResultTooLarge, collectResult } from './result-rows';
import { taskOutput } from './sfn-callback';
import { StatusChangeEvent } from './status-event';
import { ErrorName } from '../src/contract';

export type CallbackOutcome =
  /** Added to the task's output. */
  | { readonly output: Record<string, unknown> }
  /** The task fails with `errorName`; the event, with the reason as `detail.error`, is the cause. */
  | { readonly failure: StatusChangeEvent; readonly errorName: string };

function fail(deps: Deps, event: StatusChangeEvent, errorName: string, reason: string): CallbackOutcome {
  deps.log.warn(`Failing the task with ${errorName}`, {
    statementName: event.detail.statementName, statementId: event.detail.statementId, reason,
  });
  return { failure: { ...event, detail: { ...event.detail, error: reason } }, errorName };
}

async function rows(deps: Deps, event: StatusChangeEvent, callback: Extract<Callback, { kind: 'stepFunctions' }>, startedBy?: string) {
  try {
    const result = await collectResult(deps, event.detail.statementId, startedBy, callback.rowFormat!);
    const bytes = byteLength(taskOutput(event, { result }));
    if (bytes <= MAX_TASK_OUTPUT_BYTES) return { output: { result } };
    return fail(deps, event, ErrorName.RESULT_TOO_LARGE, `The output of statement ${event.detail.statementId} with its rows is `
      + `${bytes} bytes; Step Functions accepts at most ${MAX_TASK_OUTPUT_BYTES}. The statement ran; nothing was cut or `
      + 'returned. Read the result page by page with RedshiftStatementTask (StatementAction.FETCH_RESULT), or write it to '
      + 'S3 with resultExport or UNLOAD.');
  } catch (error) {
    if (error instanceof ResultTooLarge) return fail(deps, event, error.name, error.message);
    throw error;
  }
}

async function exported(deps: Deps, event: StatusChangeEvent, callback: Extract<Callback, { kind: 'stepFunctions' }>, startedBy?: string) {
  try {
    return { output: { export: await exportAsStarter(deps, event.detail.statementId, startedBy, callback.export!) } };
  } catch (error) {
    // Raised here, or by the starter that exported for this completer (then only its name tells).
    if (error instanceof Error && error.name === ErrorName.RESULT_EXPORT_TOO_LARGE) return fail(deps, event, error.name, error.message);
    throw error;
  }
}

/** What the callback of a FINISHED statement carries besides its event; `undefined` when the task asked for nothing. */
export async function resultOfCallback(
  deps: Deps, callback: Extract<Callback, { kind: 'stepFunctions' }>, event: StatusChangeEvent, startedBy: string | undefined,
): Promise<CallbackOutcome | undefined> {
  if (callback.rowFormat !== undefined) return rows(deps, event, callback, startedBy);
  if (callback.export !== undefined) return exported(deps, event, callback, startedBy);
  return undefined;
}
