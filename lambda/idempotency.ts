/**
 * Idempotent starts: a retried invocation for the same caller (the same Step Functions task token, the same
 * CloudFormation request) registers and starts the same statement, so the SQL runs at most once and the caller is
 * called back once.
 *
 * The caller's identity (the execution ARN and task token; the stack, request id and logical id of a CloudFormation
 * request) is hashed (SHA-256) into an idempotency key, from which come
 * - the statement's invocation id (`<12 digits>.<15 digits>`, unlike the 10 digits of a time-based id), so a retry
 *   computes the same statement name and tracking-table key, and its conditional registration finds the first one;
 * - the Data API `ClientToken` (UUID-shaped), so a retry of `ExecuteStatement` with the same parameters returns the
 *   statement the first attempt started instead of starting another. The Data API keeps a client token for 8 hours;
 *   the registration keeps the key as long as the item lives (at least 24 hours plus the TTL), and a retry of a
 *   statement that already completed starts nothing.
 *
 * Callers without a callback have no identity to hash: each invocation starts a statement.
 */
import { createHash } from 'node:crypto';
import { Callback } from './callback-details';
import type { ExecuteRequest } from './request';

/** The idempotency key of a caller (hex SHA-256), or `undefined` when the caller has no identity (no callback). */
export function idempotencyKey(callback: Callback): string | undefined {
  let identity: string;
  switch (callback.kind) {
    case 'stepFunctions':
      // A token belongs to one task of one execution; the execution ARN keeps a reused token apart across executions.
      identity = `states:${callback.executionArn}:${callback.taskToken}`;
      break;
    case 'cloudFormation':
      identity = `cloudformation:${callback.request.StackId}:${callback.request.RequestId}:${callback.request.LogicalResourceId}`;
      // A run after a serialization conflict is a statement of its own (`conflict-rerun.ts`).
      if (callback.request.ConflictAttempt !== undefined) identity += `:conflict-rerun-${callback.request.ConflictAttempt}`;
      break;
    default:
      return undefined;
  }
  return createHash('sha256').update(identity).digest('hex');
}

/** The invocation id of a keyed start: 27 decimal digits of the key, as `<12>.<15>`. */
export function keyedInvocationId(key: string): string {
  const digits = BigInt(`0x${key}`).toString().padStart(27, '0').slice(-27);
  return `${digits.slice(0, 12)}.${digits.slice(12)}`;
}

/** The Data API `ClientToken` of a keyed start (UUID-shaped, 36 characters). */
export function clientToken(key: string): string {
  const hex = createHash('sha256').update(`client-token:${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * SHA-256 of what a start runs (the SQL, its parameters, singleton or not, the execution mode of a list, the
 * session, the rows' format it returns, where it exports the result): a retried start of the same caller must send the
 * same request, whatever its size.
 */
export function requestHash(
  request: Pick<ExecuteRequest, 'sql' | 'parameters' | 'singleton' | 'executionMode' | 'session' | 'callback'>,
): string {
  const rowFormat = request.callback?.kind === 'stepFunctions' ? request.callback.rowFormat : undefined;
  const exportTarget = request.callback?.kind === 'stepFunctions' ? request.callback.export : undefined;
  const canonical = JSON.stringify({
    sql: request.sql,
    parameters: (request.parameters ?? []).map((p) => [p.name, p.value]),
    singleton: request.singleton,
    ...request.executionMode !== undefined ? { executionMode: request.executionMode } : {},
    ...request.session !== undefined ? { session: [request.session.id ?? null, request.session.keepAliveSeconds ?? null] } : {},
    ...rowFormat !== undefined ? { rowFormat } : {},
    ...exportTarget !== undefined ? { export: exportTarget } : {},
  });
  return createHash('sha256').update(canonical).digest('hex');
}
