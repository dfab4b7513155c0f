/**
 * The other actions: `describeStatement`, `getStatementResult` (paginated, pages sized to fit a Step Functions state)
 * and `cancelStatement`, each by Data API id or by `LATEST` (the most recent statement of an `executionArn`).
 */
import {
  CancelStatementCommand, DescribeStatementCommand, GetStatementResultCommand, ListStatementsCommand,
} from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { InvalidRequest, PreviousExecutionNotFound } from './errors';
import { byteLength, toPlain } from './plain';
import { StatementRequest } from './request';
import { plainPage } from './result-rows';
import { TypedField, columnsOf, plainRow } from './rows';
import { formatStatementName } from './statement-name';
import { Field, LATEST } from '../src/contract';

/**
 * A `getStatementResult` answer is cut into pages of at most this many bytes of records, so it fits a Step Functions
 * state (256 KiB) together with the rest of the state's data.
 */
export const MAX_RESULT_PAGE_BYTES = 200 * 1024;
/** Our page tokens: a Data API page token plus an offset of rows already returned from that page. */
const TOKEN_PREFIX = 'cdksr1.';
/** Upper bound on ListStatements pages read to find a statement by its name. */
const MAX_LIST_PAGES = 10;

interface PageToken {
  readonly dataApiToken?: string;
  readonly offset: number;
}

export function encodePageToken(token: PageToken): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify({ t: token.dataApiToken ?? null, o: token.offset })).toString('base64url');
}

export function decodePageToken(token: string | undefined): PageToken {
  if (token === undefined) return { offset: 0 };
  if (!token.startsWith(TOKEN_PREFIX)) return { dataApiToken: token, offset: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
    if ((parsed.t === null || typeof parsed.t === 'string') && Number.isInteger(parsed.o) && parsed.o >= 0) {
      return { dataApiToken: parsed.t ?? undefined, offset: parsed.o };
    }
  } catch {
    // fall through
  }
  throw new InvalidRequest(`${Field.NEXT_TOKEN} is not a token returned by getStatementResult; got ${JSON.stringify(token.slice(0, 40))}.`);
}

/** Resolves `LATEST` to a Data API statement id; other ids pass through. */
export async function resolveStatementId(deps: Deps, request: StatementRequest): Promise<string> {
  if (request.statementId !== LATEST) return request.statementId;
  const executionArn = request.executionArn!;
  const latest = await deps.table.latestStatement(executionArn);
  if (latest === undefined) {
    throw new PreviousExecutionNotFound(`No started statements found for ${executionArn}.`);
  }
  if (latest.statementId !== undefined) return latest.statementId;
  // Still running (its id is recorded on completion): find it by its exact name.
  const statementName = formatStatementName({ id: executionArn, invocationId: latest.invocationId });
  const found = await findStatementByName(deps, statementName);
  if (found !== undefined) return found.id;
  throw new PreviousExecutionNotFound(
    `The latest statement of ${executionArn} (${statementName}) is not known to the Data API: statements are kept for `
    + '24 hours and are visible only to the IAM role that started them.');
}

/**
 * A statement of this role by its exact name (`ListStatements` matches names by prefix, so the whole name is
 * compared); `undefined` when the Data API does not know it.
 */
export async function findStatementByName(
  deps: Deps, statementName: string,
): Promise<{ id: string; status?: string; sessionId?: string } | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const listed = await deps.redshiftData.send(new ListStatementsCommand({
      StatementName: statementName, Status: 'ALL', MaxResults: 100, NextToken: nextToken,
    }));
    const match = listed.Statements?.find((statement) => statement.StatementName === statementName);
    if (match?.Id) {
      return {
        id: match.Id, ...match.Status !== undefined ? { status: match.Status } : {}, ...match.SessionId ? { sessionId: match.SessionId } : {},
      };
    }
    nextToken = listed.NextToken;
    if (!nextToken) break;
  }
  return undefined;
}

export async function describeStatement(deps: Deps, request: StatementRequest): Promise<unknown> {
  const id = await resolveStatementId(deps, request);
  return toPlain(await deps.redshiftData.send(new DescribeStatementCommand({ Id: id })));
}

export async function cancelStatement(deps: Deps, request: StatementRequest): Promise<unknown> {
  const id = await resolveStatementId(deps, request);
  const output = toPlain(await deps.redshiftData.send(new CancelStatementCommand({ Id: id })));
  deps.log.info('Cancel requested', { statementId: id });
  return output;
}

/**
 * One page of results. Data API pages larger than `MAX_RESULT_PAGE_BYTES` are split; `NextToken` (ours or the Data
 * API's) continues where this page ended, and is absent on the last page. With `rowFormat: "OBJECTS"` the page is
 * `{columns, rows, rowCount, NextToken}`: the rows as plain objects (`rows.ts`), the column names and types once,
 * `rowCount` the statement's total (the Data API's `TotalNumRows`); else the Data API's page as it is.
 */
export async function getStatementResult(deps: Deps, request: StatementRequest, maxPageBytes = MAX_RESULT_PAGE_BYTES): Promise<unknown> {
  const id = await resolveStatementId(deps, request);
  const token = decodePageToken(request.nextToken);
  const output = await deps.redshiftData.send(new GetStatementResultCommand({ Id: id, NextToken: token.dataApiToken }));
  const plain = plainPage(output);
  const objects = request.rowFormat === 'OBJECTS';
  const columns = columnsOf(plain.ColumnMetadata);
  const rows = (plain.Records ?? []).slice(token.offset)
    .map((record) => objects ? plainRow(record as TypedField[], columns) : record);
  const kept: unknown[] = [];
  let size = 0;
  for (const row of rows) {
    const rowSize = byteLength(JSON.stringify(row)) + 1;
    if (kept.length > 0 && size + rowSize > maxPageBytes) break;
    kept.push(row);
    size += rowSize;
  }
  const { NextToken: dataApiNext, Records: _records, ...rest } = plain;
  const nextToken = kept.length < rows.length
    ? encodePageToken({ dataApiToken: token.dataApiToken, offset: token.offset + kept.length })
    : dataApiNext;
  const next = nextToken ? { NextToken: nextToken } : {};
  if (objects) return { columns, rows: kept, rowCount: plain.TotalNumRows ?? kept.length, ...next };
  return { ...rest, Records: kept, ...next };
}
