/**
 * Data API sessions in the stand-in, as the service describes them: a statement with `SessionKeepAliveSeconds` (and no
 * `SessionId`) opens a session on its target; later statements pass `SessionId` instead of the target and run on the
 * same database connection (temporary tables survive between them). A session runs one statement at a time (BUSY
 * while it runs; another statement is refused, never queued), stays AVAILABLE for its keep-alive after each statement,
 * then closes (its connection ends, its temporary tables are gone). Only the identity that opened it (role and IAM
 * session: access key and session token) can use or list it. `ListSessions` reports AVAILABLE, BUSY or CLOSED.
 *
 * Refusals are `ValidationException`s, with the texts the service is reported to use for an unknown session
 * ("Session with Id: ... is invalid") and a closed one ("Session is not available"); the busy text is the stand-in's.
 */
import { randomUUID } from 'node:crypto';
import { SqlEngine } from './engine';
import { ApiError, Caller, validation } from './types';
import { Target } from './validation';

export type SessionStatus = 'AVAILABLE' | 'BUSY' | 'CLOSED';

export interface SessionRecord {
  readonly id: string;
  readonly target: Target;
  readonly caller: Caller;
  readonly createdAt: Date;
  keepAliveSeconds: number;
  status: SessionStatus;
  updatedAt: Date;
  /** The statement running in it (BUSY). */
  currentStatementId?: string;
  /** When the keep-alive closes it (AVAILABLE). */
  closesAt?: Date;
  closeTimer?: NodeJS.Timeout;
}

/** The most seconds a session is kept alive (and, on the service, its longest life). */
export const MAX_KEEP_ALIVE_SECONDS = 86_400;

export class SessionRegistry {
  /** `SessionKeepAliveSeconds`: absent, or a whole number from 0 to 86,400 (0: no session). */
  static keepAlive(value: unknown): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_KEEP_ALIVE_SECONDS) {
      throw validation(`1 validation error detected: Value '${String(value)}' at 'sessionKeepAliveSeconds' failed to satisfy `
        + `constraint: Member must have value less than or equal to ${MAX_KEEP_ALIVE_SECONDS}`);
    }
    return value;
  }

  private readonly sessions = new Map<string, SessionRecord>();

  constructor(private readonly engine: SqlEngine, private readonly clock: () => number = Date.now) {}

  /** Opens a session for a statement that asked for one. */
  open(target: Target, caller: Caller, keepAliveSeconds: number): SessionRecord {
    const now = new Date(this.clock());
    const session: SessionRecord = {
      id: randomUUID(), target, caller, createdAt: now, updatedAt: now, keepAliveSeconds, status: 'AVAILABLE',
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The target of a session the caller opened (whatever its status: a retried start finds its statement by token). */
  targetOf(id: string, caller: Caller): Target {
    const session = this.sessions.get(id);
    if (session === undefined || !sameIdentity(session.caller, caller)) throw validation(`Session with Id: ${id} is invalid`);
    return session.target;
  }

  /** The session a statement names, if the caller may run a statement in it now (else the service's refusal). */
  use(id: string, caller: Caller, keepAliveSeconds: number | undefined): SessionRecord {
    const session = this.sessions.get(id);
    if (session === undefined || !sameIdentity(session.caller, caller)) throw validation(`Session with Id: ${id} is invalid`);
    if (session.status === 'CLOSED') throw validation('Session is not available');
    if (session.status === 'BUSY') {
      throw validation(`Session ${id} is busy running statement ${session.currentStatementId}; a session runs one statement at a time.`);
    }
    if (keepAliveSeconds !== undefined && keepAliveSeconds > 0) session.keepAliveSeconds = keepAliveSeconds;
    return session;
  }

  /** A statement started in the session: BUSY until it ends. */
  begin(session: SessionRecord, statementId: string): void {
    clearTimeout(session.closeTimer);
    session.closeTimer = undefined;
    session.closesAt = undefined;
    session.status = 'BUSY';
    session.currentStatementId = statementId;
    session.updatedAt = new Date(this.clock());
  }

  /** The session's statement ended: AVAILABLE for its keep-alive, then closed. */
  end(id: string): void {
    const session = this.sessions.get(id);
    if (session === undefined || session.status !== 'BUSY') return;
    session.status = 'AVAILABLE';
    session.currentStatementId = undefined;
    session.updatedAt = new Date(this.clock());
    session.closesAt = new Date(this.clock() + session.keepAliveSeconds * 1000);
    session.closeTimer = setTimeout(() => void this.close(session), session.keepAliveSeconds * 1000);
    session.closeTimer.unref();
  }

  /** Closes a session now (its keep-alive passed): its connection ends. */
  async close(session: SessionRecord): Promise<void> {
    if (session.status === 'CLOSED') return;
    clearTimeout(session.closeTimer);
    session.status = 'CLOSED';
    session.closesAt = undefined;
    session.updatedAt = new Date(this.clock());
    await this.engine.closeSession(session.target.database, session.id).catch(() => undefined);
  }

  /** `ListSessions`: the caller's sessions, or one by `SessionId` (`ResourceNotFoundException` if it is not the caller's). */
  list(input: Record<string, unknown>, caller: Caller): Record<string, unknown> {
    const own = [...this.sessions.values()].filter((session) => sameIdentity(session.caller, caller));
    if (input.SessionId !== undefined) {
      const session = own.find((candidate) => candidate.id === input.SessionId);
      if (session === undefined) throw new ApiError('ResourceNotFoundException', 'Session does not exist.', 404, { ResourceId: input.SessionId });
      return { Sessions: [sessionData(session)] };
    }
    const status = input.Status === undefined ? undefined : String(input.Status);
    return { Sessions: own.filter((session) => status === undefined || session.status === status).map(sessionData) };
  }

  /** Stops every keep-alive timer (server shutdown; the engine closes the connections). */
  closeAll(): void {
    for (const session of this.sessions.values()) clearTimeout(session.closeTimer);
  }
}

function sameIdentity(a: Caller, b: Caller): boolean {
  return a.accessKeyId === b.accessKeyId && a.sessionToken === b.sessionToken;
}

function sessionData(session: SessionRecord): Record<string, unknown> {
  const seconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1000);
  return Object.fromEntries(Object.entries({
    SessionId: session.id,
    Status: session.status,
    CreatedAt: seconds(session.createdAt),
    UpdatedAt: seconds(session.updatedAt),
    Database: session.target.database,
    DbUser: session.target.dbUser,
    ClusterIdentifier: session.target.clusterIdentifier,
    WorkgroupName: session.target.workgroupName,
    SessionAliveSeconds: session.keepAliveSeconds,
    SessionTtl: seconds(session.closesAt),
    CurrentStatementId: session.currentStatementId,
  }).filter(([, value]) => value !== undefined));
}
