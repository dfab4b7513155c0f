/**
 * Starting statements: register the statement in the tracking table, then start it with the Data API
 * (`ExecuteStatement`, or `BatchExecuteStatement` for a transaction), with events when someone waits for a callback.
 * Registration comes first, so a completion event always finds its item; a statement that cannot be started leaves
 * nothing behind (its registration and lock are removed). A retried start for the same caller reuses its
 * registration and its Data API client token (`idempotency.ts`), so the SQL runs at most once.
 */
import {
  BatchExecuteStatementCommand, BatchExecuteStatementCommandOutput, ExecuteStatementCommand, ExecuteStatementCommandOutput,
} from '@aws-sdk/client-redshift-data';
import { encodeCallbackDetails } from './callback-details';
import { targetParameters } from './config';
import { Deps } from './deps';
import { InvalidRequest } from './errors';
import { completeFromStart, endedWithin, fastPathWait } from './fast-path';
import { clientToken, idempotencyKey, keyedInvocationId, requestHash } from './idempotency';
import { toPlain, truncateBytes } from './plain';
import { ExecuteRequest } from './request';
import { sessionParameters, sessionRefusal } from './session';
import { acquireSingleton, confirmSingleton, singletonLockId } from './singleton';
import { MAX_STATEMENT_NAME_LENGTH, StatementName, adHocId, formatStatementName, newInvocationId } from './statement-name';
import { inFlightTtl } from './table-base';

/** How much SQL text the tracking table keeps for diagnostics. */
export const STORED_SQL_BYTES = 16 * 1024;
const REGISTRATION_ATTEMPTS = 3;
/** The Data API's answer when too many requests wait (`WaitTimeSeconds`) on the same target. */
const WAITING_REQUESTS_EXCEEDED = 'ActiveWaitingRequestsExceededException';

/** The caller id: the partition key and the statement name's prefix. */
export function callerId(deps: Deps, request: ExecuteRequest): string {
  if (request.callback.kind === 'cloudFormation') return request.callback.request.LogicalResourceId;
  return request.executionArn ?? adHocId(deps.config.region);
}

export function newStatementName(deps: Deps, id: string, key?: string): StatementName {
  const name = { id, invocationId: key !== undefined ? keyedInvocationId(key) : newInvocationId(deps.now()) };
  if (formatStatementName(name).length > MAX_STATEMENT_NAME_LENGTH) {
    throw new InvalidRequest(
      `The caller id ${JSON.stringify(id.slice(0, 80))}... is too long for a ${MAX_STATEMENT_NAME_LENGTH}-character Data API statement name.`);
  }
  return name;
}

/** How a start got its registration. */
type Registered =
  | { readonly kind: 'created' | 'reused'; readonly name: StatementName }
  | { readonly kind: 'completed'; readonly name: StatementName; readonly statementId?: string };

/**
 * Registers the statement: a new item (a colliding time-based name is retried with a new one), or, for a keyed start
 * whose registration exists, that registration (a retried invocation of the same caller). Writes nothing when it
 * refuses the request (the same caller with other SQL).
 */
async function register(
  deps: Deps, request: ExecuteRequest, first: StatementName, key: string | undefined, lockId: string | undefined,
): Promise<Registered> {
  const { config, table } = deps;
  const now = deps.now();
  const sqlText = typeof request.sql === 'string' ? request.sql : request.sql.join(';\n');
  const item = {
    sqlStatement: truncateBytes(sqlText, STORED_SQL_BYTES),
    callbackDetails: encodeCallbackDetails(request.callback),
    ttl: inFlightTtl(now, config.ttlDays),
    registeredAt: now,
    ...lockId !== undefined ? { singletonLock: lockId } : {},
    ...config.functionName !== undefined ? { startedBy: config.functionName } : {},
    // Nobody waits for a statement without a callback (and no event comes for it): nothing to reconcile.
    reconciled: request.callback.kind !== 'none',
    ...key !== undefined ? { idempotencyKey: key, requestHash: requestHash(request) } : {},
    // How a list ran: a CloudFormation request's SQL is run again after a conflict only when it rolled back whole.
    ...request.executionMode !== undefined ? { executionMode: request.executionMode } : {},
    // The session it is sent to (one it opens is recorded with its statement id).
    ...request.session?.id !== undefined ? { sessionId: request.session.id } : {},
  };
  let name = first;
  for (let attempt = 0; attempt < REGISTRATION_ATTEMPTS; attempt++) {
    if (attempt > 0) name = newStatementName(deps, name.id);
    if (await table.register({ ...item, key: name })) return { kind: 'created', name };
    if (key === undefined) continue;
    const existing = await table.readRegistration(name);
    if (existing?.idempotencyKey !== key) break;
    // Items registered before requests were hashed carry only the (truncated) SQL.
    if (existing.requestHash !== undefined ? existing.requestHash !== item.requestHash : existing.sqlStatement !== item.sqlStatement) {
      throw new InvalidRequest('This caller (the same task token, or the same CloudFormation request) already started another '
        + `statement, ${formatStatementName(name)}; a retried invocation must send the same SQL and parameters. Give each `
        + 'task its own token.');
    }
    return existing.completedBy !== undefined
      ? { kind: 'completed', name, ...existing.statementId !== undefined ? { statementId: existing.statementId } : {} }
      : { kind: 'reused', name };
  }
  throw new Error(`Could not register a unique statement name for ${name.id} after ${REGISTRATION_ATTEMPTS} attempts.`);
}

/**
 * Takes the singleton lock for a registered statement; `true` when this call took it (`false`: the retried caller's
 * own). A refused lock removes a registration this start created.
 */
async function lockSingleton(deps: Deps, lockId: string, registered: Registered, sql: string | readonly string[]): Promise<boolean> {
  try {
    return await acquireSingleton(deps, lockId, formatStatementName(registered.name), sql);
  } catch (error) {
    if (registered.kind === 'created') await deps.table.unregister(registered.name);
    throw error;
  }
}

/**
 * Sends the start (`ExecuteStatement`, or `BatchExecuteStatement` for a transaction), waiting up to `wait` seconds
 * for the statement to end. When too many requests already wait on the target, starts again without waiting: the
 * same statement name and client token, so the SQL still runs at most once.
 */
async function sendStart(
  deps: Deps, request: ExecuteRequest, statementName: string, key: string | undefined, wait: number,
): Promise<{ output: ExecuteStatementCommandOutput | BatchExecuteStatementCommandOutput; waited: number }> {
  const send = (waitSeconds: number) => {
    const common = {
      // A statement in a session runs where the session was opened: the Data API refuses a target with a session id.
      ...request.session?.id === undefined ? targetParameters(deps.config) : {},
      ...sessionParameters(request.session),
      StatementName: statementName,
      WithEvent: request.callback.kind !== 'none',
      ...waitSeconds > 0 ? { WaitTimeSeconds: waitSeconds } : {},
      ...key !== undefined ? { ClientToken: clientToken(key) } : {},
    };
    return typeof request.sql === 'string'
      ? deps.redshiftData.send(new ExecuteStatementCommand({
        ...common,
        Sql: request.sql,
        ...request.parameters ? { Parameters: request.parameters.map((p) => ({ name: p.name, value: p.value })) } : {},
      }))
      : deps.redshiftData.send(new BatchExecuteStatementCommand({
        ...common,
        Sqls: [...request.sql],
        ...request.parameters ? { Parameters: request.parameters.map((p) => ({ name: p.name, value: p.value })) } : {},
        ...request.executionMode ? { ExecutionMode: request.executionMode } : {},
      }));
  };
  try {
    return { output: await send(wait), waited: wait };
  } catch (error) {
    if (wait === 0 || !(error instanceof Error) || error.name !== WAITING_REQUESTS_EXCEEDED) throw error;
    deps.log.info('The Data API refused to wait; starting without the fast path', { statementName });
    return { output: await send(0), waited: 0 };
  }
}

const UNKNOWN_OUTCOME = Symbol('startOutcomeUnknown');

/** Tags a start's error (its name unchanged: callers `Catch` on it): the statement may have started under `name`. */
function withUnknownOutcome(error: unknown, name: StatementName): unknown {
  if (typeof error === 'object' && error !== null) Object.defineProperty(error, UNKNOWN_OUTCOME, { value: name });
  return error;
}

/** The statement a failed start may have started (its registration is kept), or `undefined` when none started. */
export function startOutcomeUnknown(error: unknown): StatementName | undefined {
  return typeof error === 'object' && error !== null ? (error as { [UNKNOWN_OUTCOME]?: StatementName })[UNKNOWN_OUTCOME] : undefined;
}

/** Errors of a request that may have reached the Data API without its answer coming back. */
const LOST_ANSWER = /^(TimeoutError|RequestTimeout|RequestTimeoutException|ECONNRESET|EPIPE|ETIMEDOUT)$|socket hang up/;

/**
 * Whether a failed start may have started its statement: a server error (5xx), or a request whose answer was lost
 * (a timeout, a reset connection). A refusal (a client error: validation, too many statements, throttling) and an
 * error raised before anything was sent (credentials, serialization, an unreachable endpoint) started nothing.
 */
export function mayHaveStarted(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { $fault?: unknown; $metadata?: { httpStatusCode?: number }; name?: unknown; code?: unknown; message?: unknown };
  if (e.$fault === 'client') return false;
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return [e.name, e.code, e.message].some((value) => typeof value === 'string' && LOST_ANSWER.test(value));
}

/**
 * Records the id of the statement just started on its registration: completions are claimed only for it. A failed
 * record is logged, not thrown (the statement runs): its event then asks the Data API which statement has the name.
 */
async function recordStarted(deps: Deps, name: StatementName, statementId: string, sessionId: string | undefined): Promise<void> {
  try {
    if (!await deps.table.recordStatementId(name, statementId, sessionId)) {
      deps.log.error('Another statement id is recorded for this statement name; its completions are not called back', {
        statementName: formatStatementName(name), statementId,
      });
    }
  } catch (error) {
    deps.log.error('Could not record the started statement\'s id; its event confirms it with the Data API', {
      statementName: formatStatementName(name), statementId, error: String(error),
    });
  }
}

/** Starts a statement; returns the Data API's answer as plain JSON. */
export async function startStatement(deps: Deps, request: ExecuteRequest): Promise<unknown> {
  const { config, table, log } = deps;
  const id = callerId(deps, request);
  const key = idempotencyKey(request.callback);
  const lockId = request.singleton ? singletonLockId(config, request.sql) : undefined;
  const registered = await register(deps, request, newStatementName(deps, id, key), key, lockId);
  const { name } = registered;
  if (registered.kind === 'completed') {
    log.info('A retried start of a statement that already completed: nothing started', {
      statementName: formatStatementName(name), statementId: registered.statementId,
    });
    return registered.statementId !== undefined ? { Id: registered.statementId } : {};
  }
  const tookLock = lockId !== undefined && await lockSingleton(deps, lockId, registered, request.sql);
  if (registered.kind === 'reused') log.info('A retried start: the registration exists', { statementName: formatStatementName(name) });

  const statementName = formatStatementName(name);
  const withEvent = request.callback.kind !== 'none';
  // Nobody waits for a statement without a callback: it never waits. An export is written by the completer, with its
  // whole timeout, not by the start.
  const exports = request.callback.kind === 'stepFunctions' && request.callback.export !== undefined;
  const wait = withEvent && !exports ? fastPathWait(deps) : 0;
  let output;
  let waited: number;
  try {
    ({ output, waited } = await sendStart(deps, request, statementName, key, wait));
  } catch (error) {
    // A reused registration may belong to a statement the first attempt started, and so may one whose start failed
    // without a clear refusal (a server error, a lost connection: the statement may run): keep it. A retry with the
    // same caller finds it and its client token; its event completes it; if it never started, a sweep fails its
    // caller with StatementNotFound.
    if (registered.kind === 'reused' || (key !== undefined && mayHaveStarted(error))) throw withUnknownOutcome(error, name);
    const cleanup = await Promise.allSettled([
      table.unregister(name),
      ...tookLock ? [table.releaseLock(lockId!, statementName)] : [],
    ]);
    for (const result of cleanup) {
      if (result.status === 'rejected') log.error('Could not clean up after a failed start', { statementName, reason: String(result.reason) });
    }
    throw await sessionRefusal(deps, request.session, error);
  }
  if (lockId !== undefined && output.Id) {
    try {
      await confirmSingleton(deps, lockId, statementName, output.Id);
    } catch (error) {
      log.error('Could not extend the singleton lock; it expires with its start lease', { statementName, error: String(error) });
    }
  }
  log.info('Started statement', {
    statementName,
    statementId: output.Id,
    callback: request.callback.kind,
    singleton: request.singleton,
    batch: typeof request.sql !== 'string',
    ...request.executionMode ? { executionMode: request.executionMode } : {},
    parameters: request.parameters?.length ?? 0,
    ...output.SessionId !== undefined ? { sessionId: output.SessionId } : {},
    ...waited > 0 ? { waitSeconds: waited, status: output.Status } : {},
  });
  const calledBack = waited > 0 && output.Id !== undefined && endedWithin(output.Status) && await completeFromStart(deps, name, output.Id);
  if (!calledBack && output.Id !== undefined && withEvent) await recordStarted(deps, name, output.Id, output.SessionId);
  return toPlain(output);
}
