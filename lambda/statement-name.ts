/**
 * Statement naming: `<id>:<invocationId>` (the original's scheme), where `id` is the caller's identity (execution
 * ARN, CloudFormation logical id, or an ad-hoc ARN) and `invocationId` is epoch seconds with a fraction.
 *
 * The fraction is 3 digits of milliseconds, 6 digits of a per-process counter and 6 random digits, so ids sort by
 * time (to the millisecond) as strings, ids made by one execution environment never repeat (up to a million per
 * millisecond), and ids made at the same millisecond by different environments (Parallel branches share the
 * execution ARN) differ unless both counter and random digits coincide; the tracking table's conditional put turns
 * that remaining collision into a retry with a new id.
 */
import { randomInt, randomUUID } from 'node:crypto';

/** The Data API's limit for `StatementName`. */
export const MAX_STATEMENT_NAME_LENGTH = 500;

const INVOCATION_ID = /^\d{1,12}\.\d{1,15}$/;

export interface StatementName {
  /** Partition key: the caller's identity. */
  readonly id: string;
  /** Sort key: when it was started. */
  readonly invocationId: string;
}

let counter = randomInt(0, 1_000_000);

/** A new invocation id for the given time (milliseconds since the epoch). */
export function newInvocationId(nowMs: number, random: () => number = () => randomInt(0, 1_000_000)): string {
  const seconds = Math.floor(nowMs / 1000);
  const millis = Math.floor(nowMs % 1000);
  counter = (counter + 1) % 1_000_000;
  const digits = (value: number, width: number) => String(value).padStart(width, '0');
  return `${seconds}.${digits(millis, 3)}${digits(counter, 6)}${digits(random(), 6)}`;
}

/** The id of a statement started without a caller identity: `arn:::<region>::custom_invocation:<uuid>`. */
export function adHocId(region: string, uuid: string = randomUUID()): string {
  return `arn:::${region}::custom_invocation:${uuid}`;
}

export function formatStatementName(name: StatementName): string {
  return `${name.id}:${name.invocationId}`;
}

/**
 * Splits a statement name into id and invocation id; `undefined` for names this tasker did not create (the
 * EventBridge rule sees every Data API statement of the account that was started with events).
 */
export function parseStatementName(name: unknown): StatementName | undefined {
  if (typeof name !== 'string' || name.length > MAX_STATEMENT_NAME_LENGTH) return undefined;
  const separator = name.lastIndexOf(':');
  if (separator <= 0) return undefined;
  const invocationId = name.slice(separator + 1);
  if (!INVOCATION_ID.test(invocationId)) return undefined;
  return { id: name.slice(0, separator), invocationId };
}
