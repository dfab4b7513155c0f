/**
 * A local stand-in for the Amazon Redshift Data API on 127.0.0.1, speaking the service's awsJson1_1 protocol
 * (`X-Amz-Target: RedshiftData.<Operation>`) to the real `@aws-sdk/client-redshift-data`.
 *
 * Operations: ExecuteStatement, BatchExecuteStatement, DescribeStatement (with SubStatements and QueryParameters),
 * GetStatementResult (paginated), CancelStatement, ListStatements (StatementName prefix, Status incl. ALL — default
 * FINISHED only, as documented —, RoleLevel, ClusterIdentifier/WorkgroupName/Database, MaxResults, NextToken).
 * SQL runs on embedded PostgreSQL (PGlite) in worker threads, one database per `Database` name, with the real status
 * lifecycle SUBMITTED → PICKED → STARTED → FINISHED | FAILED | ABORTED, PostgreSQL's error texts in `Error`,
 * results typed like the Data API's `Field` union, and — only for statements started with `WithEvent: true` — the
 * "Redshift Data Statement Status Change" event, handed to subscribers (e.g. a `LocalQueue`).
 *
 * Identity: the caller's access key id (from the SigV4 `Authorization` header) stands for its IAM role, and its
 * session token for the IAM session; `ListStatements` is scoped accordingly (`RoleLevel`).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import {
  applyFault, callerAccessKeyId, FaultInjector, LoopbackServer, sendJson, startLoopbackServer,
} from './http-util';
import { CancelTiming, newDataRoot, PgError, PgliteEngine, PgResult } from './pglite-engine';
import { applyRedshiftRewrites, bindNamedParameters, namedParameters } from './sql-text';
import { LocalQueue } from './sqs-queue';
import { StatusChangeEvent as StatusChangeEventNames } from '../../src/contract';

const NAMESPACE = 'com.amazonaws.redshiftdata';
const TARGET_PREFIX = 'RedshiftData.';

/** Limits of the Data API this stand-in enforces. */
export const DataApiLimits = {
  SQL_CHARS: 100_000,
  BATCH_SQLS: 40,
  STATEMENT_NAME_CHARS: 500,
  LIST_MAX_RESULTS: 100,
  /** Result retention: `expireAt` is 24 hours after the statement was created. */
  RETENTION_SECONDS: 24 * 3600,
} as const;

export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';
const STATUSES: readonly string[] = ['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED', 'FAILED', 'ABORTED', 'ALL'];
const FINAL: readonly string[] = ['FINISHED', 'FAILED', 'ABORTED'];

/** The Data API's `Field` union. */
export type DataApiField =
  | { isNull: true } | { stringValue: string } | { longValue: number } | { doubleValue: number } | { booleanValue: boolean };

/** The Data API's `ColumnMetadata`. */
export interface DataApiColumn {
  isCaseSensitive: boolean;
  isCurrency: boolean;
  isSigned: boolean;
  label: string;
  name: string;
  nullable: number;
  precision: number;
  scale: number;
  schemaName: string;
  tableName: string;
  typeName: string;
  length: number;
}

/** The "Redshift Data Statement Status Change" EventBridge event. */
export interface StatusChangeEvent {
  'version': '0';
  'id': string;
  'detail-type': string;
  'source': string;
  'account': string;
  'time': string;
  'region': string;
  'resources': string[];
  'detail': {
    principal: string;
    statementName: string;
    statementId: string;
    redshiftQueryId: number;
    state: 'FINISHED' | 'FAILED' | 'ABORTED';
    rows: number;
    expireAt: number;
  };
}

interface Caller {
  readonly accessKeyId: string;
  readonly sessionToken: string;
  readonly region: string;
  readonly principal: string;
}

/** A statement (or a sub-statement of a batch) as the stand-in tracks it. */
export interface StatementRecord {
  readonly id: string;
  readonly parent?: StatementRecord;
  readonly queryString: string;
  readonly parameters?: ReadonlyArray<{ name: string; value: string }>;
  readonly statementName?: string;
  readonly clusterIdentifier?: string;
  readonly workgroupName?: string;
  readonly database: string;
  readonly dbUser?: string;
  readonly secretArn?: string;
  readonly withEvent: boolean;
  readonly caller: Caller;
  readonly createdAt: Date;
  readonly subStatements: StatementRecord[];
  readonly isBatch: boolean;
  status: StatementStatus;
  updatedAt: Date;
  error?: string;
  /** Nanoseconds the statement ran (-1 until it ends). */
  duration: number;
  hasResultSet: boolean;
  resultRows: number;
  resultSize: number;
  redshiftQueryId: number;
  redshiftPid: number;
  result?: { columns: DataApiColumn[]; records: DataApiField[][] };
  /** Every status with the time it was entered. */
  readonly history: Array<{ status: StatementStatus; at: Date }>;
  /** For cancelled statements: when CancelStatement arrived. */
  cancelRequestedAt?: Date;
}

/** What a fault injector sees of a call. */
export interface DataApiCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  readonly accessKeyId: string;
}

export interface RedshiftDataServerOptions {
  /** Account id in ARNs and events. @default '123456789012' */
  readonly accountId?: string;
  /** Known cluster identifiers; others get "Redshift endpoint doesn't exist in this region.". @default - any */
  readonly clusters?: readonly string[];
  /** Known workgroup names; others get the same error. @default - any */
  readonly workgroups?: readonly string[];
  /** Rows per GetStatementResult page. @default 1000 */
  readonly resultPageRows?: number;
  /** Statements SUBMITTED/PICKED/STARTED at once before `ActiveStatementsExceededException`. @default 500 */
  readonly maxActiveStatements?: number;
  /** Delay between a statement ending and its event reaching subscribers. @default 20 */
  readonly eventDelayMs?: number;
  /** Fault injection, consulted for every call. */
  readonly faults?: FaultInjector<DataApiCall>;
}

export interface RedshiftDataServer {
  /** `http://127.0.0.1:<port>`: `RedshiftDataClient` `endpoint` or `AWS_ENDPOINT_URL_REDSHIFT_DATA`. */
  readonly endpoint: string;
  /** Every status-change event emitted, in order. */
  readonly events: readonly StatusChangeEvent[];
  /** A statement by id (sub-statement ids `<id>:<n>` included). */
  statement(id: string): StatementRecord | undefined;
  /** All top-level statements, oldest first. */
  statements(): StatementRecord[];
  /** Calls `listener` for every status-change event (returns an unsubscribe function). */
  onEvent(listener: (event: StatusChangeEvent) => void): () => void;
  /** Sends every status-change event to a local queue, as the EventBridge rule → SQS target does. */
  connectQueue(queue: LocalQueue): () => void;
  /** Calls `listener` on every status transition of a top-level statement. */
  onStatusChange(listener: (statement: StatementRecord, status: StatementStatus) => void): () => void;
  /** Replaces the fault injector. */
  setFaults(faults: FaultInjector<DataApiCall> | undefined): void;
  /** Runs SQL directly on a local database (setup and assertions in tests); throws PostgreSQL's error. */
  query(database: string, sql: string): Promise<PgResult>;
  /** Timings of cancels that stopped a running statement (worker stopped, engine ready again). */
  cancelTimings(): CancelTiming[];
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(readonly errorName: string, message: string, readonly status = 400, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

const validation = (message: string) => new ApiError('ValidationException', message);

/** Starts the server on a free loopback port. */
export async function startRedshiftDataServer(options: RedshiftDataServerOptions = {}): Promise<RedshiftDataServer> {
  const accountId = options.accountId ?? '123456789012';
  const pageRows = options.resultPageRows ?? 1000;
  const maxActive = options.maxActiveStatements ?? 500;
  const eventDelayMs = options.eventDelayMs ?? 20;
  let faults = options.faults;
  const dataRoot = newDataRoot();
  const engines = new Map<string, Promise<PgliteEngine>>();
  const startedEngines: PgliteEngine[] = [];
  const records = new Map<string, StatementRecord>();
  const topLevel: StatementRecord[] = [];
  const clientTokens = new Map<string, string>();
  const events: StatusChangeEvent[] = [];
  const eventListeners = new Set<(event: StatusChangeEvent) => void>();
  const statusListeners = new Set<(statement: StatementRecord, status: StatementStatus) => void>();
  const pendingEvents = new Set<NodeJS.Timeout>();
  let nextQueryId = 100_000 + Math.floor(Math.random() * 100_000);
  let closing = false;

  function engineFor(database: string): Promise<PgliteEngine> {
    let engine = engines.get(database);
    if (!engine) {
      engine = PgliteEngine.start(database, dataRoot);
      engines.set(database, engine);
      engine.then((started) => startedEngines.push(started), () => undefined);
      engine.catch(() => engines.delete(database));
    }
    return engine;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Status transitions and events
  // ---------------------------------------------------------------------------------------------------------------
  function setStatus(record: StatementRecord, status: StatementStatus, at = new Date()): void {
    if (record.status === status) return;
    if (FINAL.includes(record.status)) return;
    record.status = status;
    record.updatedAt = at;
    record.history.push({ status, at });
    if (!record.parent) {
      for (const listener of statusListeners) listener(record, status);
      if (FINAL.includes(status) && record.withEvent) emitEvent(record);
    }
  }

  function emitEvent(record: StatementRecord): void {
    const event: StatusChangeEvent = {
      'version': '0',
      'id': randomUUID(),
      'detail-type': StatusChangeEventNames.DETAIL_TYPE,
      'source': StatusChangeEventNames.SOURCE,
      'account': accountId,
      'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'region': record.caller.region,
      'resources': [record.clusterIdentifier
        ? `arn:aws:redshift:${record.caller.region}:${accountId}:cluster:${record.clusterIdentifier}`
        : `arn:aws:redshift-serverless:${record.caller.region}:${accountId}:workgroup/${record.workgroupName}`],
      'detail': {
        principal: record.caller.principal,
        statementName: record.statementName ?? '',
        statementId: record.id,
        redshiftQueryId: record.redshiftQueryId > 0 ? record.redshiftQueryId : -1,
        state: record.status as 'FINISHED' | 'FAILED' | 'ABORTED',
        rows: record.status === 'FINISHED' ? record.resultRows : -1,
        expireAt: Math.floor(record.createdAt.getTime() / 1000) + DataApiLimits.RETENTION_SECONDS,
      },
    };
    const timer = setTimeout(() => {
      pendingEvents.delete(timer);
      if (closing) return;
      events.push(event);
      for (const listener of eventListeners) listener(event);
    }, eventDelayMs);
    pendingEvents.add(timer);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Running statements
  // ---------------------------------------------------------------------------------------------------------------
  function submit(record: StatementRecord, sqls: string[], params: string[][] | undefined): void {
    const units = record.isBatch ? record.subStatements : [record];
    const listener = {
      onPicked() {
        setStatus(record, 'PICKED');
        for (const sub of record.subStatements) setStatus(sub, 'PICKED');
      },
      onStarted(index: number, at: number) {
        const when = new Date(at);
        if (index === 0) {
          record.redshiftPid = engine.pid;
          setStatus(record, 'STARTED', when);
        }
        const unit = units[index];
        unit.redshiftQueryId = nextQueryId++;
        unit.redshiftPid = engine.pid;
        if (unit !== record) setStatus(unit, 'STARTED', when);
        if (record.isBatch && index === 0) record.redshiftQueryId = unit.redshiftQueryId;
      },
      onStatement(index: number, outcome: { result?: PgResult; error?: PgError; ns: number; at: number }) {
        const unit = units[index];
        unit.duration = outcome.ns;
        if (outcome.error) {
          unit.error = formatPgError(outcome.error);
          if (unit !== record) setStatus(unit, 'FAILED', new Date(outcome.at));
          for (const later of units.slice(index + 1)) {
            later.error = 'ERROR: statement not run: an earlier statement of the batch failed (transaction rolled back)';
            setStatus(later, 'ABORTED', new Date(outcome.at));
          }
          record.error = unit.error;
          return;
        }
        const shaped = shapeResult(outcome.result!);
        unit.hasResultSet = shaped.hasResultSet;
        unit.resultRows = shaped.rows;
        unit.resultSize = shaped.size;
        unit.result = shaped.hasResultSet ? { columns: shaped.columns, records: shaped.records } : undefined;
        if (unit !== record) setStatus(unit, 'FINISHED', new Date(outcome.at));
      },
      onDone(at: number) {
        if (record.isBatch && !record.error) {
          record.duration = record.subStatements.reduce((sum, sub) => sum + Math.max(0, sub.duration), 0);
          record.hasResultSet = record.subStatements.some((sub) => sub.hasResultSet);
          record.resultRows = record.subStatements.reduce((sum, sub) => sum + Math.max(0, sub.resultRows), 0);
          record.resultSize = record.subStatements.reduce((sum, sub) => sum + Math.max(0, sub.resultSize), 0);
        }
        setStatus(record, record.error ? 'FAILED' : 'FINISHED', new Date(at));
      },
      onAborted(reason: 'cancelled' | 'engineFailed', error?: PgError) {
        const text = reason === 'cancelled'
          ? `ERROR: Query (${record.redshiftQueryId > 0 ? record.redshiftQueryId : nextQueryId++}) cancelled on user's request`
          : formatPgError(error ?? { message: 'the local database engine failed' });
        for (const unit of units) {
          if (!FINAL.includes(unit.status)) {
            unit.error ??= text;
            if (unit !== record) setStatus(unit, reason === 'cancelled' ? 'ABORTED' : 'FAILED');
          }
        }
        record.error = text;
        setStatus(record, reason === 'cancelled' ? 'ABORTED' : 'FAILED');
      },
    };
    let engine: PgliteEngine;
    engineFor(record.database).then((started) => {
      engine = started;
      if (FINAL.includes(record.status)) return; // cancelled before its database was ready
      engine.submit({ id: record.id, sqls, params, batch: record.isBatch, listener });
    }, (error: Error) => {
      listener.onAborted('engineFailed', { message: `could not start the local database "${record.database}": ${error.message}` });
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Operations
  // ---------------------------------------------------------------------------------------------------------------
  function activeCount(): number {
    return topLevel.filter((r) => !FINAL.includes(r.status)).length;
  }

  function start(input: Record<string, unknown>, caller: Caller, batch: boolean): Record<string, unknown> {
    const target = validateTarget(input, options);
    const sqls = batch ? validateSqls(input.Sqls) : [validateSql(input.Sql)];
    const statementName = optionalString(input.StatementName, 'statementName', DataApiLimits.STATEMENT_NAME_CHARS);
    const parameters = validateParameters(input.Parameters);
    const bound = bindParameters(sqls, parameters);
    const clientToken = optionalString(input.ClientToken, 'clientToken', 64);
    if (clientToken && clientTokens.has(`${caller.accessKeyId}/${clientToken}`)) {
      return executeOutput(records.get(clientTokens.get(`${caller.accessKeyId}/${clientToken}`)!)!, caller);
    }
    if (activeCount() >= maxActive) {
      throw new ApiError('ActiveStatementsExceededException', `Active statements exceeded the allowed quota (${maxActive}).`);
    }
    const now = new Date();
    const id = randomUUID();
    const base = {
      clusterIdentifier: target.clusterIdentifier,
      workgroupName: target.workgroupName,
      database: target.database,
      dbUser: target.dbUser,
      secretArn: target.secretArn,
      withEvent: input.WithEvent === true,
      caller,
      createdAt: now,
      parameters,
    };
    const record: StatementRecord = newRecord({ ...base, id, queryString: batch ? '' : sqls[0], statementName, isBatch: batch });
    if (batch) {
      sqls.forEach((sql, index) => {
        record.subStatements.push(newRecord({ ...base, id: `${id}:${index + 1}`, queryString: sql, parent: record, isBatch: false }));
      });
    }
    records.set(id, record);
    for (const sub of record.subStatements) records.set(sub.id, sub);
    topLevel.push(record);
    if (clientToken) clientTokens.set(`${caller.accessKeyId}/${clientToken}`, id);
    for (const listener of statusListeners) listener(record, 'SUBMITTED');
    submit(record, bound.sqls, bound.params);
    return executeOutput(record, caller);
  }

  function executeOutput(record: StatementRecord, caller: Caller): Record<string, unknown> {
    return compact({
      Id: record.id,
      CreatedAt: epochSeconds(record.createdAt),
      ClusterIdentifier: record.clusterIdentifier,
      WorkgroupName: record.workgroupName,
      Database: record.database,
      DbUser: record.dbUser ?? (record.secretArn ? undefined : `IAMR:${caller.accessKeyId}`),
      SecretArn: record.secretArn,
    });
  }

  function find(idInput: unknown): StatementRecord {
    const id = requiredString(idInput, 'id');
    if (!/^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/.test(id)) {
      throw validation('id must satisfy regex pattern: ^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\\d+)?$');
    }
    const record = records.get(id);
    if (!record) throw new ApiError('ResourceNotFoundException', 'Query does not exist.', 404, { ResourceId: id });
    return record;
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
    });
  }

  function getResult(input: Record<string, unknown>): Record<string, unknown> {
    const record = find(input.Id);
    if (record.status !== 'FINISHED' || !record.result) {
      throw validation('Query does not have result. Please check query status with DescribeStatement.');
    }
    let offset = 0;
    if (input.NextToken !== undefined) {
      const token = decodeToken(input.NextToken);
      if (token?.id !== record.id || typeof token.offset !== 'number') throw validation('Invalid NextToken.');
      offset = token.offset;
    }
    const page = record.result.records.slice(offset, offset + pageRows);
    const next = offset + pageRows;
    return compact({
      Records: page,
      ColumnMetadata: record.result.columns,
      TotalNumRows: record.result.records.length,
      NextToken: next < record.result.records.length ? encodeToken({ id: record.id, offset: next }) : undefined,
    });
  }

  async function cancel(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const record = find(input.Id);
    if (record.parent) throw validation(`Could not cancel a sub-statement of a batch; cancel the batch statement ${record.parent.id}.`);
    if (FINAL.includes(record.status)) {
      throw validation(`Could not cancel a query that is already in ${record.status} state with ID: ${record.id}`);
    }
    record.cancelRequestedAt = new Date();
    const engine = await engineFor(record.database).catch(() => undefined);
    const outcome = engine ? await engine.cancel(record.id) : 'notFound';
    if (outcome === 'notFound' && !FINAL.includes(record.status)) {
      // Still waiting for its database to start: it will not run.
      record.error = `ERROR: Query (${nextQueryId++}) cancelled on user's request`;
      setStatus(record, 'ABORTED');
      for (const sub of record.subStatements) setStatus(sub, 'ABORTED');
    }
    return { Status: true };
  }

  function list(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
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
    let offset = 0;
    if (input.NextToken !== undefined) {
      const token = decodeToken(input.NextToken);
      if (token?.filter !== filterKey || typeof token.offset !== 'number') throw validation('Invalid NextToken.');
      offset = token.offset;
    }
    const matching = topLevel
      .filter((r) => r.caller.accessKeyId === caller.accessKeyId)
      .filter((r) => roleLevel || r.caller.sessionToken === caller.sessionToken)
      .filter((r) => status === 'ALL' || r.status === status)
      .filter((r) => prefix === undefined || (r.statementName ?? '').startsWith(prefix))
      .filter((r) => input.ClusterIdentifier === undefined || r.clusterIdentifier === input.ClusterIdentifier)
      .filter((r) => input.WorkgroupName === undefined || r.workgroupName === input.WorkgroupName)
      .filter((r) => input.Database === undefined || r.database === input.Database)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const page = matching.slice(offset, offset + maxResults);
    return compact({
      Statements: page.map((r) => compact({
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
      })),
      NextToken: offset + maxResults < matching.length ? encodeToken({ filter: filterKey, offset: offset + maxResults }) : undefined,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    const caller = callerOf(req, accountId);
    let input: Record<string, unknown>;
    try {
      input = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      sendError(res, new ApiError('SerializationException', 'Could not parse the request body as JSON'));
      return;
    }
    if (await applyFault(faults?.({ operation, input, accessKeyId: caller.accessKeyId }), res, NAMESPACE)) return;
    try {
      let output: Record<string, unknown>;
      switch (operation) {
        case 'ExecuteStatement': output = start(input, caller, false); break;
        case 'BatchExecuteStatement': output = start(input, caller, true); break;
        case 'DescribeStatement': output = describe(find(input.Id)); break;
        case 'GetStatementResult': output = getResult(input); break;
        case 'CancelStatement': output = await cancel(input); break;
        case 'ListStatements': output = list(input, caller); break;
        default:
          throw new ApiError('UnknownOperationException', `Operation ${operation || '(none)'} is not supported by this local endpoint`);
      }
      sendJson(res, 200, output);
    } catch (error) {
      if (error instanceof ApiError) sendError(res, error);
      else throw error;
    }
  }

  const server: LoopbackServer = await startLoopbackServer(handle);

  return {
    endpoint: server.endpoint,
    events,
    statement: (id) => records.get(id),
    statements: () => [...topLevel],
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    connectQueue(queue) {
      const listener = (event: StatusChangeEvent) => {
        queue.send(JSON.stringify(event));
      };
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onStatusChange(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    setFaults(next) {
      faults = next;
    },
    async query(database, sql) {
      const engine = await engineFor(database);
      return new Promise<PgResult>((resolve, reject) => {
        let result: PgResult | undefined;
        let failure: PgError | undefined;
        engine.submit({
          id: `direct-${randomUUID()}`,
          sqls: [applyRedshiftRewrites(sql)],
          batch: false,
          listener: {
            onPicked: () => undefined,
            onStarted: () => undefined,
            onStatement: (_index, outcome) => {
              result = outcome.result;
              failure = outcome.error;
            },
            onDone: () => (failure ? reject(new Error(formatPgError(failure))) : resolve(result!)),
            onAborted: (_reason, error) => reject(new Error(formatPgError(error ?? { message: 'aborted' }))),
          },
        });
      });
    },
    cancelTimings() {
      return startedEngines.flatMap((engine) => engine.cancelTimings);
    },
    async close() {
      closing = true;
      for (const timer of pendingEvents) clearTimeout(timer);
      await server.close();
      const started = await Promise.allSettled([...engines.values()]);
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
}

// -------------------------------------------------------------------------------------------------------------------
// Validation (the service's rules and wording where known)
// -------------------------------------------------------------------------------------------------------------------
interface Target {
  clusterIdentifier?: string;
  workgroupName?: string;
  database: string;
  dbUser?: string;
  secretArn?: string;
}

function validateTarget(input: Record<string, unknown>, options: RedshiftDataServerOptions): Target {
  const clusterIdentifier = optionalString(input.ClusterIdentifier, 'clusterIdentifier', 63);
  const workgroupName = optionalString(input.WorkgroupName, 'workgroupName', 2048);
  const dbUser = optionalString(input.DbUser, 'dbUser', 128);
  const secretArn = optionalString(input.SecretArn, 'secretArn', 2048);
  const database = optionalString(input.Database, 'database', 64);
  if (clusterIdentifier && workgroupName) {
    throw validation('ClusterIdentifier and WorkgroupName cannot both be specified. Specify one or the other.');
  }
  if (!clusterIdentifier && !workgroupName) {
    throw validation('Either ClusterIdentifier or WorkgroupName must be specified.');
  }
  if (dbUser && secretArn) throw validation('DbUser and SecretArn cannot both be specified. Specify one or the other.');
  if (dbUser && workgroupName) throw validation('DbUser is not supported for a serverless workgroup; use temporary IAM credentials or SecretArn.');
  if (!database) throw validation('Database must be specified when connecting with temporary credentials or a secret.');
  if (clusterIdentifier && options.clusters && !options.clusters.includes(clusterIdentifier)) {
    throw validation("Redshift endpoint doesn't exist in this region.");
  }
  if (workgroupName && options.workgroups && !options.workgroups.includes(workgroupName.split('/').pop()!)) {
    throw validation("Redshift endpoint doesn't exist in this region.");
  }
  return { clusterIdentifier, workgroupName, database, dbUser, secretArn };
}

function validateSql(value: unknown): string {
  if (value === undefined || value === null) {
    throw validation("1 validation error detected: Value null at 'sql' failed to satisfy constraint: Member must not be null");
  }
  const sql = String(value);
  if (sql.length < 1 || sql.trim() === '') throw validation('SQL statement cannot be empty.');
  if (sql.length > DataApiLimits.SQL_CHARS) {
    throw validation(`1 validation error detected: Value at 'sql' failed to satisfy constraint: Member must have length less than or equal to ${DataApiLimits.SQL_CHARS}`);
  }
  return sql;
}

function validateSqls(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw validation("1 validation error detected: Value null at 'sqls' failed to satisfy constraint: Member must not be null");
  }
  if (value.length < 1 || value.length > DataApiLimits.BATCH_SQLS) {
    throw validation(`1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${DataApiLimits.BATCH_SQLS} and greater than or equal to 1`);
  }
  return value.map((sql) => validateSql(sql));
}

function optionalString(value: unknown, member: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  if (text.length > max) {
    throw validation(`1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }
  return text;
}

function requiredString(value: unknown, member: string): string {
  if (value === undefined || value === null || value === '') {
    throw validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return String(value);
}

function validateParameters(value: unknown): Array<{ name: string; value: string }> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw validation("1 validation error detected: Value at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  const seen = new Set<string>();
  return value.map((p: { name?: unknown; value?: unknown }, index) => {
    const name = p?.name === undefined || p?.name === null ? '' : String(p.name);
    const parameterValue = p?.value === undefined || p?.value === null ? '' : String(p.value);
    if (!name) throw validation(`1 validation error detected: Value null at 'parameters.${index + 1}.member.name' failed to satisfy constraint: Member must not be null`);
    if (!/^[0-9a-zA-Z_]+$/.test(name)) throw validation(`Parameter name '${name}' is invalid: use letters, digits and underscores only.`);
    if (!parameterValue) {
      throw validation(`1 validation error detected: Value at 'parameters.${index + 1}.member.value' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    }
    if (seen.has(name)) throw validation(`Parameter '${name}' is specified more than once.`);
    seen.add(name);
    return { name, value: parameterValue };
  });
}

/** Binds `:name` parameters to positional ones and applies the Redshift rewrites. */
function bindParameters(sqls: string[], parameters: Array<{ name: string; value: string }> | undefined): { sqls: string[]; params?: string[][] } {
  if (!parameters) return { sqls: sqls.map(applyRedshiftRewrites) };
  const used = new Set<string>();
  const bound = sqls.map((sql) => {
    const names = namedParameters(sql);
    for (const name of names) {
      if (!parameters.some((p) => p.name === name)) {
        throw validation(`The SQL statement references parameter '${name}', which is not in Parameters.`);
      }
      used.add(name);
    }
    const values = names.map((name) => parameters.find((p) => p.name === name)!.value);
    return { sql: applyRedshiftRewrites(bindNamedParameters(sql, names)), values };
  });
  const unused = parameters.filter((p) => !used.has(p.name)).map((p) => p.name);
  if (unused.length) throw validation(`Parameters ${unused.map((n) => `'${n}'`).join(', ')} are not used in the SQL statement.`);
  return { sqls: bound.map((b) => b.sql), params: bound.map((b) => b.values) };
}

function newRecord(fields: {
  id: string;
  queryString: string;
  statementName?: string;
  parent?: StatementRecord;
  isBatch: boolean;
  clusterIdentifier?: string;
  workgroupName?: string;
  database: string;
  dbUser?: string;
  secretArn?: string;
  withEvent: boolean;
  caller: Caller;
  createdAt: Date;
  parameters?: Array<{ name: string; value: string }>;
}): StatementRecord {
  return {
    ...fields,
    parameters: fields.parent ? undefined : fields.parameters,
    withEvent: fields.parent ? false : fields.withEvent,
    subStatements: [],
    status: 'SUBMITTED',
    updatedAt: fields.createdAt,
    duration: -1,
    hasResultSet: false,
    resultRows: -1,
    resultSize: -1,
    redshiftQueryId: 0,
    redshiftPid: 0,
    history: [{ status: 'SUBMITTED', at: fields.createdAt }],
  };
}

// -------------------------------------------------------------------------------------------------------------------
// Wire helpers
// -------------------------------------------------------------------------------------------------------------------
function callerOf(req: IncomingMessage, accountId: string): Caller {
  const accessKeyId = callerAccessKeyId(req);
  const auth = req.headers.authorization ?? '';
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(auth);
  const sessionToken = String(req.headers['x-amz-security-token'] ?? '');
  return {
    accessKeyId,
    sessionToken,
    region: scope ? scope[1] : 'us-east-1',
    principal: `arn:aws:sts::${accountId}:assumed-role/${accessKeyId}/${sessionToken ? `session-${sessionToken.slice(0, 8)}` : 'local'}`,
  };
}

function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, { __type: `${NAMESPACE}#${error.errorName}`, Message: error.message, message: error.message, ...error.extra });
}

/** Redshift's `Error` text: `ERROR: <message>` (plus PostgreSQL's detail when there is one). */
export function formatPgError(error: PgError): string {
  const severity = error.severity && error.severity !== 'ERROR' ? error.severity : 'ERROR';
  return `${severity}: ${error.message}${error.detail ? `\n  Detail: ${error.detail}` : ''}`;
}

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken(value: unknown): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(String(value), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

// -------------------------------------------------------------------------------------------------------------------
// Results: PostgreSQL text values → Data API fields and column metadata
// -------------------------------------------------------------------------------------------------------------------
type FieldKind = 'long' | 'double' | 'boolean' | 'string';

/** PostgreSQL type OID → the Data API's type name, the field used for its values, precision and sign. */
const TYPES: Record<number, { typeName: string; kind: FieldKind; precision: number; signed?: boolean; caseSensitive?: boolean }> = {
  16: { typeName: 'bool', kind: 'boolean', precision: 1 },
  20: { typeName: 'int8', kind: 'long', precision: 19, signed: true },
  21: { typeName: 'int2', kind: 'long', precision: 5, signed: true },
  23: { typeName: 'int4', kind: 'long', precision: 10, signed: true },
  26: { typeName: 'oid', kind: 'long', precision: 10 },
  700: { typeName: 'float4', kind: 'double', precision: 8, signed: true },
  701: { typeName: 'float8', kind: 'double', precision: 17, signed: true },
  1700: { typeName: 'numeric', kind: 'string', precision: 38, signed: true },
  18: { typeName: 'char', kind: 'string', precision: 1, caseSensitive: true },
  19: { typeName: 'name', kind: 'string', precision: 64, caseSensitive: true },
  25: { typeName: 'text', kind: 'string', precision: 256, caseSensitive: true },
  1042: { typeName: 'bpchar', kind: 'string', precision: 256, caseSensitive: true },
  1043: { typeName: 'varchar', kind: 'string', precision: 256, caseSensitive: true },
  1082: { typeName: 'date', kind: 'string', precision: 13 },
  1083: { typeName: 'time', kind: 'string', precision: 15 },
  1266: { typeName: 'timetz', kind: 'string', precision: 21 },
  1114: { typeName: 'timestamp', kind: 'string', precision: 29 },
  1184: { typeName: 'timestamptz', kind: 'string', precision: 35 },
  1186: { typeName: 'interval', kind: 'string', precision: 49 },
  114: { typeName: 'super', kind: 'string', precision: 0, caseSensitive: true },
  3802: { typeName: 'super', kind: 'string', precision: 0, caseSensitive: true },
};

function toField(text: string | null, kind: FieldKind): DataApiField {
  if (text === null) return { isNull: true };
  switch (kind) {
    case 'long': {
      const value = Number(text);
      return Number.isSafeInteger(value) ? { longValue: value } : { stringValue: text };
    }
    case 'double': {
      const value = Number(text);
      return Number.isFinite(value) ? { doubleValue: value } : { stringValue: text };
    }
    case 'boolean':
      return { booleanValue: text === 't' || text === 'true' };
    default:
      return { stringValue: text };
  }
}

function shapeResult(result: PgResult): {
  hasResultSet: boolean; rows: number; size: number; columns: DataApiColumn[]; records: DataApiField[][];
} {
  const hasResultSet = result.fields.length > 0;
  if (!hasResultSet) {
    // DML reports affected rows; DDL and utility statements report 0.
    return { hasResultSet, rows: result.affectedRows, size: 0, columns: [], records: [] };
  }
  const types = result.fields.map((f) => TYPES[f.dataTypeID] ?? { typeName: 'varchar', kind: 'string' as FieldKind, precision: 0, caseSensitive: true });
  const columns: DataApiColumn[] = result.fields.map((f, i) => ({
    isCaseSensitive: types[i].caseSensitive ?? false,
    isCurrency: false,
    isSigned: types[i].signed ?? false,
    label: f.name,
    name: f.name,
    nullable: 1,
    precision: types[i].precision,
    scale: 0,
    schemaName: '',
    tableName: '',
    typeName: types[i].typeName,
    length: 0,
  }));
  let size = 0;
  const records = result.rows.map((row) => row.map((value, i) => {
    size += value === null ? 0 : Buffer.byteLength(value);
    return toField(value, types[i].kind);
  }));
  return { hasResultSet, rows: records.length, size, columns, records };
}
