/**
 * What a task asked to receive with its callback besides the completion event: the statement's rows (`rowFormat`,
 * `result-rows.ts`) or its whole result written to S3 (`export`, `result-export.ts`). Either is made when the
 * completion is claimed, before the callback; when it cannot be made for good (the rows do not fit the output, the
 * export does not fit the function's time), the task fails with a typed error instead — never a cut result. Any other
 * error (the Data API's, S3's) is thrown: the claim is given back and the completion retried.
 */
import { Callback } from './callback-details';
import { Deps } from './deps';
import { MAX_CFN_RESPONSE_BYTES, MAX_TASK_OUTPUT_BYTES, byteLength } from './plain';
import { exportAsStarter } from './result-export';
import { ResultTooLarge, StatementResult, collectResult } from './result-rows';
import { taskOutput } from './sfn-callback';
import { StatusChangeEvent } from './status-event';
import { BUILT_IN_ATTRIBUTES, ErrorName } from '../src/contract';

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

/** A resource's attributes, or why it fails. */
export type AttributesOutcome = { readonly data: Record<string, string> } | { readonly failure: string };

/** An attribute's value: CloudFormation's attributes are strings (NULL is empty; booleans `true`/`false`). */
function attributeValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The attributes of a `RedshiftSql` resource with `ResultAttributes`: the one row its SQL returned (for a list, the
 * last statement that returns rows), one attribute per column, next to the built-in ones (`builtIn`). Fails — the
 * resource then fails with a reason CloudFormation shows — when there is no row, more than one, a column named like a
 * built-in attribute, or a response over CloudFormation's 4,096 bytes (`responseBytes` measures it).
 */
export async function resourceAttributes(
  deps: Deps, event: StatusChangeEvent, startedBy: string | undefined, builtIn: Record<string, string | number>,
  responseBytes: (data: Record<string, string | number>) => number,
): Promise<AttributesOutcome> {
  let result;
  try {
    result = await collectResult(deps, event.detail.statementId, startedBy, 'OBJECTS', MAX_CFN_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof ResultTooLarge) {
      return {
        failure: `${ErrorName.RESULT_TOO_LARGE}: the SQL's result passes CloudFormation's ${MAX_CFN_RESPONSE_BYTES}-byte response; `
        + 'ResultAttributes takes one small row. Select only the columns you need, or write the result to a table.',
      };
    }
    throw error;
  }
  const statements: StatementResult[] = 'statements' in result ? result.statements : [result];
  const withRows = statements.filter((statement) => statement.hasResultSet);
  const last = withRows[withRows.length - 1];
  if (last === undefined || last.rows === undefined || last.rows.length !== 1) {
    return {
      failure: `ResultAttributes takes exactly one row; the SQL returned ${last?.rows?.length ?? 'no result set and'} `
      + `${last === undefined ? 'no rows' : 'rows'}. Make it return one row (LIMIT 1, an aggregate), or remove ResultAttributes.`,
    };
  }
  const row = last.rows[0] as Record<string, unknown>;
  const taken = Object.keys(row).filter((column) => (BUILT_IN_ATTRIBUTES as readonly string[]).includes(column));
  if (taken.length > 0) {
    return {
      failure: `The column${taken.length > 1 ? 's' : ''} ${taken.join(', ')} would hide the built-in attribute`
      + `${taken.length > 1 ? 's' : ''} of the same name; rename ${taken.length > 1 ? 'them' : 'it'} in the SQL (AS ...).`,
    };
  }
  const data = { ...builtIn, ...Object.fromEntries(Object.entries(row).map(([column, value]) => [column, attributeValue(value)])) };
  const bytes = responseBytes(data);
  if (bytes > MAX_CFN_RESPONSE_BYTES) {
    return {
      failure: `${ErrorName.RESULT_TOO_LARGE}: the response with the row's ${Object.keys(row).length} attributes is ${bytes} `
      + `bytes; CloudFormation accepts at most ${MAX_CFN_RESPONSE_BYTES}. Select fewer or shorter columns.`,
    };
  }
  return { data: data as Record<string, string> };
}
