/**
 * Starting statements: register the statement in the tracking table, then start it with the Data API
 * (`ExecuteStatement`, or `BatchExecuteStatement` for a transaction), with events when someone waits for a callback.
 * Registration comes first, so a completion event always finds its item; a statement that cannot be started leaves
 * nothing behind (its registration and lock are removed).
 */
import { BatchExecuteStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { encodeCallbackDetails } from './callback-details';
import { targetParameters } from './config';
import { Deps } from './deps';
import { InvalidRequest } from './errors';
import { toPlain, truncateBytes } from './plain';
import { ExecuteRequest } from './request';
import { START_LEASE_SECONDS, acquireSingleton, confirmSingleton, singletonLockId } from './singleton';
import { MAX_STATEMENT_NAME_LENGTH, StatementName, adHocId, formatStatementName, newInvocationId } from './statement-name';

/** How much SQL text the tracking table keeps for diagnostics. */
export const STORED_SQL_BYTES = 16 * 1024;
/** In-flight items outlive the Data API's 24-hour maximum run before their TTL starts counting. */
const IN_FLIGHT_SECONDS = 24 * 60 * 60;
const REGISTRATION_ATTEMPTS = 3;

/** The caller id: the partition key and the statement name's prefix. */
export function callerId(deps: Deps, request: ExecuteRequest): string {
  if (request.callback.kind === 'cloudFormation') return request.callback.request.LogicalResourceId;
  return request.executionArn ?? adHocId(deps.config.region);
}

export function newStatementName(deps: Deps, id: string): StatementName {
  const name = { id, invocationId: newInvocationId(deps.now()) };
  if (formatStatementName(name).length > MAX_STATEMENT_NAME_LENGTH) {
    throw new InvalidRequest(
      `The caller id ${JSON.stringify(id.slice(0, 80))}... is too long for a ${MAX_STATEMENT_NAME_LENGTH}-character Data API statement name.`);
  }
  return name;
}

/** Starts a statement; returns the Data API's answer as plain JSON. */
export async function startStatement(deps: Deps, request: ExecuteRequest): Promise<unknown> {
  const { config, table, log } = deps;
  const id = callerId(deps, request);
  let name = newStatementName(deps, id);
  const lockId = request.singleton ? singletonLockId(config, request.sql) : undefined;
  if (lockId !== undefined) await acquireSingleton(deps, lockId, formatStatementName(name), request.sql);

  const nowSeconds = Math.floor(deps.now() / 1000);
  const sqlText = typeof request.sql === 'string' ? request.sql : request.sql.join(';\n');
  const item = {
    sqlStatement: truncateBytes(sqlText, STORED_SQL_BYTES),
    callbackDetails: encodeCallbackDetails(request.callback),
    ttl: nowSeconds + IN_FLIGHT_SECONDS + config.ttlDays * 86_400,
    ...lockId !== undefined ? { singletonLock: lockId } : {},
  };
  let registered = false;
  for (let attempt = 0; attempt < REGISTRATION_ATTEMPTS && !registered; attempt++) {
    if (attempt > 0) {
      const previous = formatStatementName(name);
      name = newStatementName(deps, id);
      if (lockId !== undefined) await table.takeOverLock(lockId, previous, formatStatementName(name), nowSeconds + START_LEASE_SECONDS);
    }
    registered = await table.register({ ...item, key: name });
  }
  if (!registered) {
    if (lockId !== undefined) await table.releaseLock(lockId, formatStatementName(name));
    throw new Error(`Could not register a unique statement name for ${id} after ${REGISTRATION_ATTEMPTS} attempts.`);
  }

  const statementName = formatStatementName(name);
  const withEvent = request.callback.kind !== 'none';
  let output;
  try {
    output = typeof request.sql === 'string'
      ? await deps.redshiftData.send(new ExecuteStatementCommand({
        ...targetParameters(config),
        Sql: request.sql,
        StatementName: statementName,
        WithEvent: withEvent,
        ...request.parameters ? { Parameters: request.parameters.map((p) => ({ name: p.name, value: p.value })) } : {},
      }))
      : await deps.redshiftData.send(new BatchExecuteStatementCommand({
        ...targetParameters(config),
        Sqls: [...request.sql],
        StatementName: statementName,
        WithEvent: withEvent,
      }));
  } catch (error) {
    const cleanup = await Promise.allSettled([
      table.unregister(name),
      ...lockId !== undefined ? [table.releaseLock(lockId, statementName)] : [],
    ]);
    for (const result of cleanup) {
      if (result.status === 'rejected') log.error('Could not clean up after a failed start', { statementName, reason: String(result.reason) });
    }
    throw error;
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
    parameters: request.parameters?.length ?? 0,
  });
  return toPlain(output);
}
