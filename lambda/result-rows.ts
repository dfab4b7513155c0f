/**
 * A finished statement's rows for its callback (`rowFormat` with a start): every page of its result (`NextToken`),
 * each statement of a list (sub-statement ids `<id>:1`, `<id>:2`, ...), within a byte budget that keeps the task's
 * output within Step Functions' limits. A result over the budget is never cut: it is a `ResultTooLarge` that says how
 * many rows and bytes there were and what to use instead; reading stops as soon as the budget is passed (at most
 * `MAX_RESULT_ROWS_BYTES` of rows is read, so a huge result costs one or two pages, never a hang).
 *
 * The Data API shows a statement's result only to the IAM role that started it: a completer that did not start the
 * statement reads it through its starter (`getStatementResult`, the Data API's typed pages), as it describes it.
 */
import { DescribeStatementResponse, GetStatementResultCommand, GetStatementResultCommandOutput } from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { describeAsStarter } from './describe-via';
import { TaskerError } from './errors';
import { byteLength } from './plain';
import { Column, ColumnMetadata, TypedField, columnsOf, formatRow } from './rows';
import { Action, ErrorName, Field, Limits, RowFormatName } from '../src/contract';

/** The statement FINISHED, but its rows do not fit the task's output. */
export class ResultTooLarge extends TaskerError {
  public readonly name = ErrorName.RESULT_TOO_LARGE;
}

/** One page of a result as plain JSON (the Data API's `GetStatementResult`). */
export interface ResultPage {
  readonly Records?: TypedField[][];
  readonly ColumnMetadata?: ColumnMetadata[];
  readonly TotalNumRows?: number;
  readonly NextToken?: string;
}

/** The result of one statement (or one statement of a list) as its callback carries it. */
export interface StatementResult {
  /** The statement's id (`<id>:<n>` for a statement of a list). */
  readonly statementId: string;
  /** Whether the statement returns rows (a `SELECT`); else `rowCount` is the number of rows it changed. */
  readonly hasResultSet: boolean;
  readonly rowCount: number;
  readonly columns?: Column[];
  readonly rows?: unknown[];
}

/** A task's result: one statement's, or, for a list of statements, each one's in order. */
export type TaskResult = StatementResult | { readonly statements: StatementResult[] };

/** Most pages read for one statement (a page holds at least one row, so the budget ends reading far sooner). */
const MAX_PAGES = 10_000;

/**
 * A `GetStatementResult` output as a plain page: the records as the SDK gives them, with only a `blobValue`'s bytes
 * turned into base64 (in place), and no `$metadata`. Not a deep copy: a page holds thousands of fields, and copying
 * each one cost an export more than reading it.
 */
export function plainPage(output: GetStatementResultCommandOutput): ResultPage {
  const records = output.Records as Array<Array<Record<string, unknown>>> | undefined;
  for (const record of records ?? []) {
    for (const field of record) {
      if (field.blobValue instanceof Uint8Array) field.blobValue = Buffer.from(field.blobValue).toString('base64');
    }
  }
  return {
    Records: records as TypedField[][] | undefined,
    ColumnMetadata: output.ColumnMetadata,
    TotalNumRows: output.TotalNumRows,
    NextToken: output.NextToken,
  };
}

/** Reads a page of a statement's result: with this function's identity when it started it, else through its starter. */
export async function readResultPage(
  deps: Deps, statementId: string, nextToken: string | undefined, startedBy: string | undefined,
): Promise<ResultPage> {
  if (startedBy === undefined || startedBy === deps.config.functionName) {
    return plainPage(await deps.redshiftData.send(new GetStatementResultCommand({ Id: statementId, NextToken: nextToken })));
  }
  return await deps.invoke(startedBy, {
    [Field.ACTION]: Action.GET_STATEMENT_RESULT,
    [Field.STATEMENT_ID]: statementId,
    ...nextToken !== undefined ? { [Field.NEXT_TOKEN]: nextToken } : {},
  }) as ResultPage;
}

interface Budget {
  used: number;
  readonly max: number;
}

type Described = Pick<DescribeStatementResponse, 'Id' | 'HasResultSet' | 'ResultRows' | 'ResultSize'>;

function tooLarge(
  statement: Described, total: number | undefined, kept: number, budget: Budget, format: RowFormatName, batch: boolean,
): ResultTooLarge {
  const rows = total ?? statement.ResultRows;
  const size = typeof statement.ResultSize === 'number' && statement.ResultSize >= 0 ? `, ${statement.ResultSize} bytes in Redshift` : '';
  return new ResultTooLarge(
    `Statement ${statement.Id} FINISHED with ${rows ?? 'an unknown number of'} rows${size}; as ${format} they pass the `
    + `${budget.max} bytes of rows a task's output carries (Step Functions keeps a state's data within 256 KiB) after `
    + `${kept} rows${batch ? ' (all statements of the list together)' : ''}. The statement ran; nothing was cut or `
    + 'returned. Read the result page by page with RedshiftStatementTask (StatementAction.FETCH_RESULT, statementId '
    + `${statement.Id}), or write it to S3 with UNLOAD and process the files with a Distributed Map.`);
}

async function statementResult(
  deps: Deps, statement: Described, startedBy: string | undefined, format: RowFormatName, budget: Budget, batch: boolean,
): Promise<StatementResult> {
  const statementId = statement.Id!;
  if (statement.HasResultSet !== true) {
    return { statementId, hasResultSet: false, rowCount: Math.max(0, statement.ResultRows ?? 0) };
  }
  const rows: unknown[] = [];
  let columns: Column[] | undefined;
  let total: number | undefined;
  let token: string | undefined;
  for (let page = 0; page === 0 || token !== undefined; page++) {
    if (page >= MAX_PAGES) throw new Error(`The result of statement ${statementId} has more than ${MAX_PAGES} pages.`);
    const read = await readResultPage(deps, statementId, token, startedBy);
    columns ??= columnsOf(read.ColumnMetadata);
    total ??= read.TotalNumRows;
    for (const record of read.Records ?? []) {
      const row = formatRow(record, columns, format);
      budget.used += byteLength(JSON.stringify(row)) + 1;
      if (budget.used > budget.max) throw tooLarge(statement, total, rows.length, budget, format, batch);
      rows.push(row);
    }
    token = read.NextToken || undefined;
  }
  return { statementId, hasResultSet: true, rowCount: rows.length, columns: columns ?? [], rows };
}

/**
 * The rows of a finished statement (of each statement of a list), in `format`, at most `maxBytes` of rows in all.
 * @throws ResultTooLarge when they do not fit; the Data API's errors as they are (the caller retries)
 */
export async function collectResult(
  deps: Deps, statementId: string, startedBy: string | undefined, format: RowFormatName, maxBytes: number = Limits.MAX_RESULT_ROWS_BYTES,
): Promise<TaskResult> {
  const described = await describeAsStarter(deps, statementId, startedBy);
  const budget: Budget = { used: 0, max: maxBytes };
  const subStatements = described.SubStatements ?? [];
  if (subStatements.length === 0) return statementResult(deps, { ...described, Id: described.Id ?? statementId }, startedBy, format, budget, false);
  const statements: StatementResult[] = [];
  for (const sub of subStatements) statements.push(await statementResult(deps, sub, startedBy, format, budget, true));
  return { statements };
}
