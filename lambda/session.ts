/**
 * Data API sessions: what a start sends for its session, and what it says when the Data API refuses a statement for
 * its session. A session runs one statement at a time and lives until its keep-alive passes (24 hours at most); only
 * the identity that opened it can use it. The Data API refuses a statement for a session with a `ValidationException`
 * whose text is not a documented contract, so the start asks `ListSessions` what became of the session: `BUSY` → the
 * typed `SessionBusy` (retry later), `CLOSED` or unknown → `SessionNotAvailable` (open a new one). Only when that
 * question fails too does the text decide.
 */
import { ListSessionsCommand } from '@aws-sdk/client-redshift-data';
import { Deps } from './deps';
import { TaskerError, describeError } from './errors';
import { SessionRequest } from './session-request';
import { ErrorName } from '../src/contract';

/** A statement sent to a session that runs another one: nothing started; a later attempt can succeed. */
export class SessionBusy extends TaskerError {
  public readonly name = ErrorName.SESSION_BUSY;
}

/** A statement sent to a session that is closed, never existed or is another identity's: nothing started. */
export class SessionNotAvailable extends TaskerError {
  public readonly name = ErrorName.SESSION_NOT_AVAILABLE;
}

/** The start's session parameters: `SessionId` (instead of the target) and `SessionKeepAliveSeconds`. */
export function sessionParameters(session: SessionRequest | undefined): { SessionId?: string; SessionKeepAliveSeconds?: number } {
  if (session === undefined) return {};
  return {
    ...session.id !== undefined ? { SessionId: session.id } : {},
    ...session.keepAliveSeconds !== undefined ? { SessionKeepAliveSeconds: session.keepAliveSeconds } : {},
  };
}

/** Errors of a statement sent to a session that may be about the session. */
const SESSION_REFUSALS = new Set(['ValidationException', 'ResourceNotFoundException', 'AccessDeniedException']);

/**
 * The typed error of a start refused for its session, or `error` itself when the refusal is not about the session
 * (or the statement did not name one). Never throws.
 */
export async function sessionRefusal(deps: Deps, session: SessionRequest | undefined, error: unknown): Promise<unknown> {
  const id = session?.id;
  if (id === undefined || !(error instanceof Error) || !SESSION_REFUSALS.has(error.name)) return error;
  if (error.name === 'ValidationException' && !/session/i.test(error.message)) return error;
  const status = await sessionStatus(deps, id);
  const said = `the Data API said ${describeError(error)}`;
  if (status === 'BUSY' || (status === undefined && /busy|running/i.test(error.message))) {
    return new SessionBusy(`Session ${id} runs another statement (a session runs one at a time); ${said}. Nothing `
      + 'started: retry once that statement has ended, or run this one outside the session.');
  }
  if (status === 'AVAILABLE') return error;
  return new SessionNotAvailable(`Session ${id} is ${status === 'CLOSED' ? 'closed' : 'not known to the Data API'} (its keep-alive `
    + `passed, it was open 24 hours, or another identity opened it); ${said}. Nothing started: open a new session with `
    + 'sessionKeepAliveSeconds (the temporary tables of the old one are gone).');
}

/** The session's status as `ListSessions` reports it; `UNKNOWN` when it does not exist; `undefined` when it cannot tell. */
async function sessionStatus(deps: Deps, id: string): Promise<string | undefined> {
  try {
    const listed = await deps.redshiftData.send(new ListSessionsCommand({ SessionId: id }));
    return listed.Sessions?.find((session) => session.SessionId === id)?.Status ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return 'UNKNOWN';
    deps.log.warn('Could not ask the Data API about a session; judging its refusal by its text', { sessionId: id, error: describeError(error) });
    return undefined;
  }
}
