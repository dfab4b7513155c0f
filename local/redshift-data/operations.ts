/**
 * The Data API operations of the stand-in: each takes the request's JSON input and the caller, and returns the
 * response's JSON output (or throws an `ApiError`). ExecuteStatement and BatchExecuteStatement (with `ClientToken`
 * and `WaitTimeSeconds`), DescribeStatement (with `WaitTimeSeconds`), GetStatementResult (paginated), CancelStatement,
 * ListStatements and ListSessions; sessions (`SessionKeepAliveSeconds`, `SessionId`) in `sessions.ts`.
 *
 * Statement owner: DescribeStatement, GetStatementResult and CancelStatement act only on statements the caller's own
 * identity (role and session: access key id and session token) started, as the tasker's policy grants them (the
 * condition `redshift-data:statement-owner-iam-userid` = `${aws:userid}`, which includes the role session name — a
 * function's name); another identity gets `AccessDeniedException`.
 */
import { SessionRecord, SessionRegistry } from './sessions';
import { StatementStore } from './statements';
import { ApiError, Caller, DataApiLimits, FINAL, StatementRecord, STATUSES, validation } from './types';
import {
  Target, bindParameters, optionalString, requiredString, validateExecutionMode, validateParameters, validateSql, validateSqls, validateTarget,
  validateWaitTime,
} from './validation';

export interface OperationsOptions {
  readonly clusters?: readonly string[];
  readonly workgroups?: readonly string[];
  readonly pageRows: number;
  readonly maxActive: number;
}

const ID_PATTERN = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/;

export class DataApiOperations {
  constructor(private readonly store: StatementStore, private readonly options: OperationsOptions, private readonly sessions: SessionRegistry) {
    store.onStatusChange((record, status) => {
      if (record.sessionId !== undefined && FINAL.includes(status)) sessions.end(record.sessionId);
    });
  }

  /** ExecuteStatement (`batch` false) and BatchExecuteStatement. */
  async execute(input: Record<string, unknown>, caller: Caller, batch: boolean): Promise<Record<string, unknown>> {
    const sessionId = input.SessionId === undefined ? undefined : requiredString(input.SessionId, 'sessionId');
    const keepAlive = SessionRegistry.keepAlive(input.SessionKeepAliveSeconds);
    if (sessionId !== undefined && (input.ClusterIdentifier !== undefined || input.WorkgroupName !== undefined)) {
      throw validation('SessionId cannot be specified with ClusterIdentifier or WorkgroupName: a statement in a session runs on the session\'s target.');
    }
    const target: Target = sessionId !== undefined ? this.sessions.targetOf(sessionId, caller) : validateTarget(input, this.options);
    const sqls = batch ? validateSqls(input.Sqls) : [validateSql(input.Sql)];
    const statementName = optionalString(input.StatementName, 'statementName', DataApiLimits.STATEMENT_NAME_CHARS);
    const parameters = validateParameters(input.Parameters);
    const bound = bindParameters(sqls, parameters);
    const clientToken = optionalString(input.ClientToken, 'clientToken', DataApiLimits.CLIENT_TOKEN_CHARS);
    const waitSeconds = validateWaitTime(input.WaitTimeSeconds);
    const withEvent = input.WithEvent === true;
    const executionMode = batch ? validateExecutionMode(input.ExecutionMode) : undefined;
    const request = JSON.stringify([batch, target, sqls, statementName, parameters, withEvent, executionMode, sessionId, keepAlive]);
    let record = this.store.idempotent(caller, clientToken, request);
    if (!record) {
      let session: SessionRecord | undefined;
      if (sessionId !== undefined) session = this.sessions.use(sessionId, caller, keepAlive);
      else if (keepAlive !== undefined && keepAlive > 0) session = this.sessions.open(target, caller, keepAlive);
      if (this.store.activeCount() >= this.options.maxActive) {
        throw new ApiError('ActiveStatementsExceededException', `Active statements exceeded the allowed quota (${this.options.maxActive}).`);
      }
      record = this.store.create({
        ...target,
        queryStrings: sqls,
        isBatch: batch,
        statementName,
        withEvent,
        caller,
        parameters,
        bound,
        ...executionMode !== undefined ? { executionMode } : {},
        ...session !== undefined ? { sessionId: session.id } : {},
      }, clientToken ? { token: clientToken, request } : undefined);
      if (session !== undefined) this.sessions.begin(session, record.id);
    }
    if (waitSeconds !== undefined) await this.store.waitForEnd(record, waitSeconds);
    return executeOutput(record, caller, waitSeconds !== undefined);
  }

  async describe(input: Record<string, unknown>, caller: Caller): Promise<Record<string, unknown>> {
    const record = this.owned(input.Id, caller, 'DescribeStatement');
    const waitSeconds = validateWaitTime(input.WaitTimeSeconds);
    if (waitSeconds !== undefined) await this.store.waitForEnd(record.parent ?? record, waitSeconds);
    return describe(record);
  }

  getResult(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
    const record = this.owned(input.Id, caller, 'GetStatementResult');
    if (record.status !== 'FINISHED' || !record.result) {
      throw validation('Query does not have result. Please check query status with DescribeStatement.');
    }
    const offset = pageOffset(input.NextToken, (token) => token.id === record.id);
    const { pageRows } = this.options;
    const next = offset + pageRows;
    return compact({
      Records: record.result.read(offset, pageRows),
      ColumnMetadata: record.result.columns,
      TotalNumRows: record.result.rowCount,
      NextToken: next < record.result.rowCount ? encodeToken({ id: record.id, offset: next }) : undefined,
    });
  }

  async cancel(input: Record<string, unknown>, caller: Caller): Promise<Record<string, unknown>> {
    await this.store.cancel(this.owned(input.Id, caller, 'CancelStatement'));
    return { Status: true };
  }

  list(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
    const status = input.Status === undefined ? 'FINISHED' : String(input.Status);
    if (!STATUSES.includes(status)) {
      throw validation(`1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: `
        + `Member must satisfy enum value set: [${STATUSES.join(', ')}]`);
    }
    const maxResults = input.MaxResults === undefined || input.MaxResults === 0 ? DataApiLimits.LIST_MAX_RESULTS : Number(input.MaxResults);
    if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > DataApiLimits.LIST_MAX_RESULTS) {
      throw validation(`1 validation error detected: Value '${input.MaxResults}' at 'maxResults' failed to satisfy constraint: `
        + `Member must have value less than or equal to ${DataApiLimits.LIST_MAX_RESULTS}`);
    }
    if (input.ClusterIdentifier !== undefined && input.WorkgroupName !== undefined) {
      throw validation('ClusterIdentifier and WorkgroupName cannot both be specified. Specify one or the other.');
    }
    const prefix = input.StatementName === undefined ? undefined : String(input.StatementName);
    const roleLevel = input.RoleLevel !== false;
    const filterKey = JSON.stringify([status, prefix, roleLevel, input.ClusterIdentifier, input.WorkgroupName, input.Database]);
    const offset = pageOffset(input.NextToken, (token) => token.filter === filterKey);
    const matching = this.store.all()
      .filter((r) => r.caller.accessKeyId === caller.accessKeyId && (roleLevel || r.caller.sessionToken === caller.sessionToken))
      .filter((r) => (status === 'ALL' || r.status === status) && (prefix === undefined || (r.statementName ?? '').startsWith(prefix)))
      .filter((r) => input.ClusterIdentifier === undefined || r.clusterIdentifier === input.ClusterIdentifier)
      .filter((r) => input.WorkgroupName === undefined || r.workgroupName === input.WorkgroupName)
      .filter((r) => input.Database === undefined || r.database === input.Database)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return compact({
      Statements: matching.slice(offset, offset + maxResults).map(listEntry),
      NextToken: offset + maxResults < matching.length ? encodeToken({ filter: filterKey, offset: offset + maxResults }) : undefined,
    });
  }

  /** ListSessions: the caller's own sessions (see `sessions.ts`). */
  listSessions(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
    return this.sessions.list(input, caller);
  }

  /** A statement the caller's identity started (see "Statement owner" above). */
  private owned(idInput: unknown, caller: Caller, operation: string): StatementRecord {
    const record = this.find(idInput);
    const owner = (record.parent ?? record).caller;
    if (owner.accessKeyId !== caller.accessKeyId || owner.sessionToken !== caller.sessionToken) {
      throw new ApiError('AccessDeniedException', `User: ${caller.principal} is not authorized to perform: redshift-data:${operation} `
        + 'on this statement because it was started by another identity (redshift-data:statement-owner-iam-userid).');
    }
    return record;
  }

  private find(idInput: unknown): StatementRecord {
    const id = requiredString(idInput, 'id');
    if (!ID_PATTERN.test(id)) throw validation('id must satisfy regex pattern: ^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\\d+)?$');
    return this.store.find(id);
  }
}

/** The ExecuteStatement/BatchExecuteStatement answer; with `WaitTimeSeconds`, also the status reached by then. */
function executeOutput(record: StatementRecord, caller: Caller, withStatus: boolean): Record<string, unknown> {
  return compact({
    Id: record.id,
    CreatedAt: epochSeconds(record.createdAt),
    ClusterIdentifier: record.clusterIdentifier,
    WorkgroupName: record.workgroupName,
    Database: record.database,
    DbUser: record.dbUser ?? (record.secretArn ? undefined : `IAMR:${caller.accessKeyId}`),
    SecretArn: record.secretArn,
    SessionId: record.sessionId,
    ...withStatus ? {
      Status: record.status,
      RedshiftPid: FINAL.includes(record.status) || record.status === 'STARTED' ? record.redshiftPid : undefined,
      HasResultSet: FINAL.includes(record.status) ? record.hasResultSet : undefined,
    } : {},
  });
}

function describe(record: StatementRecord): Record<string, unknown> {
  return compact({
    Id: record.id,
    SecretArn: record.secretArn,
    DbUser: record.dbUser,
    Database: record.database,
    ClusterIdentifier: record.clusterIdentifier,
    WorkgroupName: record.workgroupName,
    Duration: record.duration,
    Error: record.error,
    Status: record.status,
    CreatedAt: epochSeconds(record.createdAt),
    UpdatedAt: epochSeconds(record.updatedAt),
    RedshiftPid: record.redshiftPid,
    HasResultSet: record.hasResultSet,
    QueryString: record.isBatch ? undefined : record.queryString,
    ResultRows: record.resultRows,
    ResultSize: record.resultSize,
    RedshiftQueryId: record.redshiftQueryId,
    QueryParameters: record.parameters?.length ? record.parameters : undefined,
    SubStatements: record.isBatch ? record.subStatements.map((sub) => compact({
      Id: sub.id,
      Duration: sub.duration,
      Error: sub.error,
      Status: sub.status,
      CreatedAt: epochSeconds(sub.createdAt),
      UpdatedAt: epochSeconds(sub.updatedAt),
      QueryString: sub.queryString,
      ResultRows: sub.resultRows,
      ResultSize: sub.resultSize,
      RedshiftQueryId: sub.redshiftQueryId,
      HasResultSet: sub.hasResultSet,
    })) : undefined,
    ResultFormat: 'JSON',
    SessionId: record.sessionId,
  });
}

function listEntry(r: StatementRecord): Record<string, unknown> {
  return compact({
    Id: r.id,
    QueryString: r.isBatch ? undefined : r.queryString,
    QueryStrings: r.isBatch ? r.subStatements.map((s) => s.queryString) : undefined,
    SecretArn: r.secretArn,
    Status: r.status,
    StatementName: r.statementName,
    CreatedAt: epochSeconds(r.createdAt),
    UpdatedAt: epochSeconds(r.updatedAt),
    QueryParameters: r.parameters?.length ? r.parameters : undefined,
    IsBatchStatement: r.isBatch,
    ResultFormat: 'JSON',
    SessionId: r.sessionId,
  });
}

/** The offset a `NextToken` carries, if it belongs to this request (`ValidationException` otherwise); 0 without one. */
function pageOffset(nextToken: unknown, belongs: (token: Record<string, unknown>) => boolean): number {
  if (nextToken === undefined) return 0;
  let token: Record<string, unknown> | undefined;
  try {
    token = JSON.parse(Buffer.from(String(nextToken), 'base64url').toString('utf8'));
  } catch {
    token = undefined;
  }
  if (!token || !belongs(token) || typeof token.offset !== 'number') throw validation('Invalid NextToken.');
  return token.offset;
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
