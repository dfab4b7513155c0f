/**
 * The Data API session fields of an invocation (`sessionId`, `sessionKeepAliveSeconds`), validated (pure: no I/O).
 */
import { InvalidRequest } from './errors';
import { Field, Limits, SESSION_ID, show } from '../src/contract';

/** A statement's Data API session: `id` runs it in an open session; `keepAliveSeconds` keeps the session open after it. */
export interface SessionRequest {
  readonly id?: string;
  readonly keepAliveSeconds?: number;
}

/**
 * `sessionId` (a session an earlier statement opened) and `sessionKeepAliveSeconds` (1 to 86,400: open a session, or
 * keep the given one open that long after this statement).
 */
export function sessionOf(event: Record<string, unknown>): SessionRequest | undefined {
  const id = event[Field.SESSION_ID];
  const keepAlive = event[Field.SESSION_KEEP_ALIVE_SECONDS];
  if (id === undefined && keepAlive === undefined) return undefined;
  if (id !== undefined && (typeof id !== 'string' || !SESSION_ID.test(id))) {
    throw new InvalidRequest(`${Field.SESSION_ID} must be a Data API session id (a UUID such as `
      + `"0f8e3a4b-1c2d-4e5f-8a9b-0c1d2e3f4a5b", from the sessionId of the task that opened the session); got ${show(id)}.`);
  }
  if (keepAlive !== undefined
    && (typeof keepAlive !== 'number' || !Number.isInteger(keepAlive) || keepAlive < 1 || keepAlive > Limits.MAX_SESSION_KEEP_ALIVE_SECONDS)) {
    throw new InvalidRequest(`${Field.SESSION_KEEP_ALIVE_SECONDS} must be a whole number of seconds from 1 to `
      + `${Limits.MAX_SESSION_KEEP_ALIVE_SECONDS} (24 hours); got ${show(keepAlive)}.`);
  }
  return { ...id !== undefined ? { id } : {}, ...keepAlive !== undefined ? { keepAliveSeconds: keepAlive } : {} };
}
