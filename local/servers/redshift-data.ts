/**
 * A local stand-in for the Amazon Redshift Data API on 127.0.0.1, speaking the service's awsJson1_1 protocol
 * (`X-Amz-Target: RedshiftData.<Operation>`) to the real `@aws-sdk/client-redshift-data`.
 *
 * This module is the protocol layer: it reads the request, identifies the caller, applies injected faults and
 * dispatches to the operations (`../redshift-data/operations.ts`). The statements and their lifecycle live in
 * `statements.ts`, the status-change events in `events.ts`, and the SQL runs on a PostgreSQL engine (`engine.ts`:
 * a real PostgreSQL server with concurrent sessions, or PGlite as the fallback).
 *
 * Identity: the caller's access key id (from the SigV4 `Authorization` header) stands for its IAM role, and its
 * session token for the IAM session; `ListStatements` is scoped accordingly (`RoleLevel`).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { applyFault, callerAccessKeyId, FaultInjector, LoopbackServer, sendJson, startLoopbackServer } from './http-util';
import { LocalQueue } from './sqs-queue';
import { CancelTiming, EngineKind, PgResult } from '../redshift-data/engine';
import { EngineChoice, startSqlEngine } from '../redshift-data/engines';
import { EventDropFilter, StatusEvents } from '../redshift-data/events';
import { DataApiOperations } from '../redshift-data/operations';
import { SessionRegistry } from '../redshift-data/sessions';
import { applyRedshiftRewrites } from '../redshift-data/sql-text';
import { StatementStore } from '../redshift-data/statements';
import { ApiError, Caller, DataApiCall, StatementRecord, StatementStatus, StatusChangeEvent } from '../redshift-data/types';

export { DataApiLimits } from '../redshift-data/types';
export type { DataApiCall, DataApiColumn, DataApiField, StatementRecord, StatementStatus, StatusChangeEvent } from '../redshift-data/types';
export { formatPgError } from '../redshift-data/engine';
export { dropFraction, dropStatements } from '../redshift-data/events';
export type { EventDropFilter } from '../redshift-data/events';

const NAMESPACE = 'com.amazonaws.redshiftdata';
const TARGET_PREFIX = 'RedshiftData.';

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
  /** Loses status-change events on purpose (see `dropFraction`, `dropStatements`). @default - none lost */
  readonly dropEvents?: EventDropFilter;
  /** The clock of statement times and retention, in epoch milliseconds (tests age statements with it). @default Date.now */
  readonly clock?: () => number;
  /** The SQL engine. @default - `LOCAL_REDSHIFT_ENGINE`, else `auto` (PostgreSQL if its binaries run here, else PGlite) */
  readonly engine?: EngineChoice;
  /** Fault injection, consulted for every call. */
  readonly faults?: FaultInjector<DataApiCall>;
  /** Keeps the databases in this directory between runs (PGlite only). @default - a temporary directory */
  readonly dataDir?: string;
  /**
   * Where results over 4 MiB are kept while the server runs (a new directory in it, removed at `close`): a result is
   * read from PostgreSQL and served page by page from there, so memory does not grow with its size.
   * @default - the system's temporary directory
   */
  readonly resultSpoolDir?: string;
}

export interface RedshiftDataServer {
  /** `http://127.0.0.1:<port>`: `RedshiftDataClient` `endpoint` or `AWS_ENDPOINT_URL_REDSHIFT_DATA`. */
  readonly endpoint: string;
  /** The SQL engine in use, and why `auto` chose it (empty when nothing needs saying). */
  readonly engine: { readonly kind: EngineKind; readonly note: string };
  /** Every status-change event delivered, in order. */
  readonly events: readonly StatusChangeEvent[];
  /** Every status-change event lost on purpose (`dropEvents`), in order. */
  readonly droppedEvents: readonly StatusChangeEvent[];
  /** A statement by id (sub-statement ids `<id>:<n>` included; expired ones too). */
  statement(id: string): StatementRecord | undefined;
  /** All top-level statements, oldest first (expired ones too). */
  statements(): StatementRecord[];
  /** Calls `listener` for every status-change event (returns an unsubscribe function). */
  onEvent(listener: (event: StatusChangeEvent) => void): () => void;
  /** Sends every status-change event to a local queue, as the EventBridge rule → SQS target does. */
  connectQueue(queue: LocalQueue): () => void;
  /** Calls `listener` on every status transition of a top-level statement. */
  onStatusChange(listener: (statement: StatementRecord, status: StatementStatus) => void): () => void;
  /** Replaces the fault injector. */
  setFaults(faults: FaultInjector<DataApiCall> | undefined): void;
  /** Replaces the event drop filter (`undefined` delivers every event). */
  setEventDrops(drop: EventDropFilter | undefined): void;
  /** Runs SQL directly on a local database (setup and assertions in tests); throws PostgreSQL's error. */
  query(database: string, sql: string): Promise<PgResult>;
  /** Timings of cancels that stopped a running statement. */
  cancelTimings(): CancelTiming[];
  close(): Promise<void>;
}

/** Starts the server (and its SQL engine) on a free loopback port. */
export async function startRedshiftDataServer(options: RedshiftDataServerOptions = {}): Promise<RedshiftDataServer> {
  const accountId = options.accountId ?? '123456789012';
  const engine = await startSqlEngine(options.engine, options.dataDir);
  const events = new StatusEvents(accountId, options.eventDelayMs ?? 20, options.dropEvents);
  const store = new StatementStore(engine, events, options.clock, options.resultSpoolDir);
  const sessions = new SessionRegistry(engine, options.clock);
  const operations = new DataApiOperations(store, {
    clusters: options.clusters,
    workgroups: options.workgroups,
    pageRows: options.resultPageRows ?? 1000,
    maxActive: options.maxActiveStatements ?? 500,
  }, sessions);
  let faults = options.faults;
  let server: LoopbackServer;
  try {
    server = await startLoopbackServer(async (req, res, raw) => {
      await handle(req, res, raw, { accountId, operations, faults });
    });
  } catch (error) {
    await engine.close();
    throw error;
  }
  return {
    endpoint: server.endpoint,
    engine: { kind: engine.kind, note: engine.note },
    events: events.delivered,
    droppedEvents: events.dropped,
    statement: (id) => store.get(id),
    statements: () => store.history(),
    onEvent: (listener) => events.subscribe(listener),
    connectQueue: (queue) => events.subscribe((event) => queue.send(JSON.stringify(event))),
    onStatusChange: (listener) => store.onStatusChange(listener),
    setFaults(next) {
      faults = next;
    },
    setEventDrops(drop) {
      events.drop = drop;
    },
    query: (database, sql) => engine.query(database, applyRedshiftRewrites(sql)),
    cancelTimings: () => [...engine.cancelTimings],
    async close() {
      events.close();
      store.releaseWaiters();
      sessions.closeAll();
      await server.close();
      await engine.close();
      store.close();
    },
  };
}

async function handle(
  req: IncomingMessage, res: ServerResponse, raw: Buffer,
  context: { accountId: string; operations: DataApiOperations; faults?: FaultInjector<DataApiCall> },
): Promise<void> {
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
  const caller = callerOf(req, context.accountId);
  let input: Record<string, unknown>;
  try {
    input = raw.length ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    sendError(res, new ApiError('SerializationException', 'Could not parse the request body as JSON'));
    return;
  }
  if (await applyFault(context.faults?.({ operation, input, accessKeyId: caller.accessKeyId }), res, NAMESPACE)) return;
  const { operations } = context;
  try {
    let output: Record<string, unknown>;
    switch (operation) {
      case 'ExecuteStatement': output = await operations.execute(input, caller, false); break;
      case 'BatchExecuteStatement': output = await operations.execute(input, caller, true); break;
      case 'DescribeStatement': output = await operations.describe(input, caller); break;
      case 'GetStatementResult': output = operations.getResult(input, caller); break;
      case 'CancelStatement': output = await operations.cancel(input, caller); break;
      case 'ListStatements': output = operations.list(input, caller); break;
      case 'ListSessions': output = operations.listSessions(input, caller); break;
      default:
        throw new ApiError('UnknownOperationException', `Operation ${operation || '(none)'} is not supported by this local endpoint`);
    }
    sendJson(res, 200, output);
  } catch (error) {
    if (error instanceof ApiError) sendError(res, error);
    else throw error;
  }
}

function callerOf(req: IncomingMessage, accountId: string): Caller {
  const accessKeyId = callerAccessKeyId(req);
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(req.headers.authorization ?? '');
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
