/**
 * The statements of the Data API stand-in and their lifecycle: SUBMITTED → PICKED → STARTED → FINISHED | FAILED |
 * ABORTED, driven by the SQL engine's reports; sub-statements of a batch (`<id>:<n>`); the status listeners and the
 * status-change event; `ClientToken` idempotency; retention (a statement older than 24 hours no longer exists);
 * waiting for a statement to end (`WaitTimeSeconds`). Times come from an injectable clock, so tests can age
 * statements.
 */
import { randomUUID } from 'node:crypto';
import { formatPgError, Job, JobListener, PgError, PgOutcome, SqlEngine } from './engine';
import { StatusEvents } from './events';
import { ResultSpool, SpoolDirectory } from './result-spool';
import { statementResult } from './results';
import { ApiError, Caller, DataApiLimits, FINAL, notFound, StatementRecord, StatementStatus, validation } from './types';

/** What a new statement is made of: the target and caller fields of a record, its SQL texts and the bound SQL. */
export interface NewStatement extends Pick<StatementRecord,
  'statementName' | 'clusterIdentifier' | 'workgroupName' | 'database' | 'dbUser' | 'secretArn' | 'withEvent' | 'caller' | 'isBatch'
  | 'executionMode' | 'sessionId'> {
  readonly queryStrings: string[];
  readonly parameters?: Array<{ name: string; value: string }>;
  /** SQL ready for the engine (parameters bound, rewrites applied) and positional values. */
  readonly bound: { sqls: string[]; params?: string[][] };
}

type StatusListener = (statement: StatementRecord, status: StatementStatus) => void;

export class StatementStore {
  private readonly records = new Map<string, StatementRecord>();
  private readonly topLevel: StatementRecord[] = [];
  private readonly clientTokens = new Map<string, { id: string; request: string }>();
  private readonly statusListeners = new Set<StatusListener>();
  private readonly endWaiters = new Map<string, Array<() => void>>();
  private nextQueryId = 100_000 + Math.floor(Math.random() * 100_000);
  /** Where large results are kept (see `result-spool.ts`). */
  private readonly spools: SpoolDirectory;

  constructor(
    private readonly engine: SqlEngine, private readonly events: StatusEvents, private readonly clock: () => number = Date.now, spoolRoot?: string,
  ) {
    this.spools = new SpoolDirectory(spoolRoot);
  }

  now(): Date {
    return new Date(this.clock());
  }

  onStatusChange(listener: StatusListener): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** A statement by id, as stored (expired ones included). */
  get(id: string): StatementRecord | undefined {
    return this.records.get(id);
  }

  /** The statements still kept (not older than the retention), oldest first. */
  all(): StatementRecord[] {
    return this.topLevel.filter((record) => !this.expired(record));
  }

  /** Every statement ever started, oldest first. */
  history(): StatementRecord[] {
    return [...this.topLevel];
  }

  /** A statement that exists (ResourceNotFoundException for an unknown or expired id). */
  find(id: string): StatementRecord {
    const record = this.records.get(id);
    if (!record || this.expired(record.parent ?? record)) throw notFound(id);
    return record;
  }

  activeCount(): number {
    return this.topLevel.filter((r) => !FINAL.includes(r.status)).length;
  }

  /**
   * The statement an earlier request with the same `ClientToken` (same caller) started, while it is kept. The same
   * token with a different request is refused: the token promises the same request.
   */
  idempotent(caller: Caller, clientToken: string | undefined, request: string): StatementRecord | undefined {
    if (!clientToken) return undefined;
    const known = this.clientTokens.get(`${caller.accessKeyId}/${clientToken}`);
    const record = known && this.records.get(known.id);
    if (!known || !record || this.expired(record)) return undefined;
    if (known.request !== request) {
      throw validation(`ClientToken ${clientToken} was already used for a different request; use a new token for a new request.`);
    }
    return record;
  }

  /** Registers a new statement (SUBMITTED) and hands it to the engine. */
  create(fields: NewStatement, clientToken?: { token: string; request: string }): StatementRecord {
    const createdAt = this.now();
    const id = randomUUID();
    const base = { ...fields, createdAt, parameters: fields.parameters };
    const record = newRecord({ ...base, id, queryString: fields.isBatch ? '' : fields.queryStrings[0] });
    if (fields.isBatch) {
      fields.queryStrings.forEach((sql, index) => {
        record.subStatements.push(newRecord({ ...base, id: `${id}:${index + 1}`, queryString: sql, parent: record, isBatch: false }));
      });
    }
    this.records.set(id, record);
    for (const sub of record.subStatements) this.records.set(sub.id, sub);
    this.topLevel.push(record);
    if (clientToken) this.clientTokens.set(`${fields.caller.accessKeyId}/${clientToken.token}`, { id, request: clientToken.request });
    for (const listener of this.statusListeners) listener(record, 'SUBMITTED');
    this.engine.submit(record.database, this.job(record, fields.bound));
    return record;
  }

  /** Cancels a running or waiting statement; resolves once it is stopped. */
  async cancel(record: StatementRecord): Promise<void> {
    if (record.parent) throw validation(`Could not cancel a sub-statement of a batch; cancel the batch statement ${record.parent.id}.`);
    if (FINAL.includes(record.status)) {
      throw validation(`Could not cancel a query that is already in ${record.status} state with ID: ${record.id}`);
    }
    record.cancelRequestedAt = this.now();
    const outcome = await this.engine.cancel(record.database, record.id);
    if (outcome === 'notFound' && !FINAL.includes(record.status)) {
      // Not handed to the engine yet (its database is still starting): it will not run.
      record.error = `ERROR: Query (${this.nextQueryId++}) cancelled on user's request`;
      this.setStatus(record, 'ABORTED');
      for (const sub of record.subStatements) this.setStatus(sub, 'ABORTED');
    }
  }

  /** Resolves when the statement has ended or after `seconds`, whichever comes first. */
  async waitForEnd(record: StatementRecord, seconds: number): Promise<void> {
    if (FINAL.includes(record.status) || seconds <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, seconds * 1000);
      const waiters = this.endWaiters.get(record.id) ?? [];
      waiters.push(done);
      this.endWaiters.set(record.id, waiters);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Ends every wait at once (server shutdown). */
  releaseWaiters(): void {
    for (const waiters of this.endWaiters.values()) for (const done of waiters) done();
    this.endWaiters.clear();
  }

  /** Frees every result (server shutdown, after the engine stopped). */
  close(): void {
    for (const record of this.records.values()) record.result?.discard();
    this.spools.remove();
  }

  private expired(record: StatementRecord): boolean {
    return this.clock() - record.createdAt.getTime() > DataApiLimits.RETENTION_SECONDS * 1000;
  }

  /** An engine time (this machine's clock) on the store's clock. */
  private at(ms: number): Date {
    return new Date(ms + this.clock() - Date.now());
  }

  private setStatus(record: StatementRecord, status: StatementStatus, at = this.now()): void {
    if (record.status === status || FINAL.includes(record.status)) return;
    record.status = status;
    record.updatedAt = at;
    record.history.push({ status, at });
    if (record.parent) return;
    for (const listener of this.statusListeners) listener(record, status);
    if (FINAL.includes(status)) {
      if (record.withEvent) this.events.emit(record, this.now());
      for (const done of this.endWaiters.get(record.id) ?? []) done();
      this.endWaiters.delete(record.id);
    }
  }

  private job(record: StatementRecord, bound: { sqls: string[]; params?: string[][] }): Job {
    // A batch runs in one transaction unless its ExecutionMode is AUTO_COMMIT (each statement commits on its own).
    const transaction = record.isBatch && record.executionMode !== 'AUTO_COMMIT';
    return {
      id: record.id,
      sqls: bound.sqls,
      params: bound.params,
      batch: transaction,
      listener: this.listener(record),
      ...record.sessionId !== undefined ? { session: record.sessionId } : {},
    };
  }

  /** Turns the engine's reports into status transitions of the statement and its sub-statements. */
  private listener(record: StatementRecord): JobListener {
    const units = record.isBatch ? record.subStatements : [record];
    // Each statement's rows as the engine reads them, until the statement ends.
    const spools = new Map<number, ResultSpool>();
    const drop = () => {
      for (const spool of spools.values()) spool.discard();
      spools.clear();
    };
    return {
      onPicked: () => {
        this.setStatus(record, 'PICKED');
        for (const sub of record.subStatements) this.setStatus(sub, 'PICKED');
      },
      onStarted: (index, at, pid) => {
        const unit = units[index];
        unit.redshiftQueryId = this.nextQueryId++;
        unit.redshiftPid = pid;
        record.redshiftPid = pid;
        if (index === 0) this.setStatus(record, 'STARTED', this.at(at));
        if (unit !== record) this.setStatus(unit, 'STARTED', this.at(at));
        if (record.isBatch && index === 0) record.redshiftQueryId = unit.redshiftQueryId;
      },
      onRows: (index, _fields, rows) => {
        let spool = spools.get(index);
        if (!spool) spools.set(index, spool = new ResultSpool(this.spools));
        spool.append(rows);
      },
      onStatement: (index, outcome) => {
        const spool = spools.get(index) ?? new ResultSpool(this.spools);
        spools.delete(index);
        this.statementEnded(record, units, index, outcome, spool);
        if (outcome.error) drop();
      },
      onDone: (at) => {
        if (record.isBatch && !record.error) summarizeBatch(record);
        this.setStatus(record, record.error ? 'FAILED' : 'FINISHED', this.at(at));
      },
      onAborted: (reason, error) => {
        drop();
        this.aborted(record, units, reason, error);
      },
    };
  }

  private statementEnded(
    record: StatementRecord, units: StatementRecord[], index: number, outcome: { result?: PgOutcome; error?: PgError; ns: number; at: number },
    spool: ResultSpool,
  ): void {
    const unit = units[index];
    unit.duration = outcome.ns;
    if (outcome.error) {
      spool.discard();
      unit.error = formatPgError(outcome.error);
      if (unit !== record) this.setStatus(unit, 'FAILED', this.at(outcome.at));
      for (const later of units.slice(index + 1)) {
        later.error = record.executionMode === 'AUTO_COMMIT'
          ? 'ERROR: statement not run: an earlier statement of the batch failed (the statements before it were committed)'
          : 'ERROR: statement not run: an earlier statement of the batch failed (transaction rolled back)';
        this.setStatus(later, 'ABORTED', this.at(outcome.at));
      }
      record.error = unit.error;
      return;
    }
    const result = outcome.result!;
    spool.finish();
    // DML reports affected rows; DDL and utility statements report 0.
    unit.hasResultSet = result.fields.length > 0;
    unit.resultRows = unit.hasResultSet ? spool.rowCount : result.affectedRows;
    unit.resultSize = unit.hasResultSet ? spool.size : 0;
    unit.result = unit.hasResultSet ? statementResult(result.fields, spool) : undefined;
    if (!unit.hasResultSet) spool.discard();
    if (unit !== record) this.setStatus(unit, 'FINISHED', this.at(outcome.at));
  }

  private aborted(record: StatementRecord, units: StatementRecord[], reason: 'cancelled' | 'engineFailed', error?: PgError): void {
    const text = reason === 'cancelled'
      ? `ERROR: Query (${record.redshiftQueryId > 0 ? record.redshiftQueryId : this.nextQueryId++}) cancelled on user's request`
      : formatPgError(error ?? { message: 'the local database engine failed' });
    const status = reason === 'cancelled' ? 'ABORTED' : 'FAILED';
    for (const unit of units) {
      if (FINAL.includes(unit.status)) continue;
      unit.error ??= text;
      if (unit !== record) this.setStatus(unit, status);
    }
    record.error = text;
    this.setStatus(record, status);
  }
}

function summarizeBatch(record: StatementRecord): void {
  const sum = (pick: (sub: StatementRecord) => number) => record.subStatements.reduce((total, sub) => total + Math.max(0, pick(sub)), 0);
  record.duration = sum((sub) => sub.duration);
  record.hasResultSet = record.subStatements.some((sub) => sub.hasResultSet);
  record.resultRows = sum((sub) => sub.resultRows);
  record.resultSize = sum((sub) => sub.resultSize);
}

function newRecord(fields: Omit<NewStatement, 'queryStrings' | 'bound'> & {
  id: string; queryString: string; parent?: StatementRecord; createdAt: Date;
}): StatementRecord {
  return {
    id: fields.id,
    parent: fields.parent,
    queryString: fields.queryString,
    statementName: fields.parent ? undefined : fields.statementName,
    clusterIdentifier: fields.clusterIdentifier,
    workgroupName: fields.workgroupName,
    database: fields.database,
    dbUser: fields.dbUser,
    secretArn: fields.secretArn,
    caller: fields.caller,
    createdAt: fields.createdAt,
    isBatch: fields.isBatch,
    executionMode: fields.parent ? undefined : fields.executionMode,
    sessionId: fields.sessionId,
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

export { ApiError };
