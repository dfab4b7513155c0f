/**
 * The `postgres` engine: a real PostgreSQL server (`postgres-server.ts`), one session (connection) per Data API
 * statement, like the Data API's sessions on Redshift, or the connection of the Data API session the statement runs
 * in (kept between its statements, ended when the session closes). Independent statements run at the same time, up to
 * `maxSessions`; later ones wait as SUBMITTED. A batch runs in one transaction. `cancel` stops a waiting job at
 * once, and a running one with `pg_cancel_backend` (its transaction rolls back; the database stays usable). Each
 * database is created on first use from `template1`, which holds the Redshift shims.
 */
import { Client, Query } from 'pg';
import { CancelTiming, Job, PgError, PgField, PgOutcome, PgResult, queryAsJob, SqlEngine } from './engine';
import { PostgresInstallation, PostgresServer, startPostgresServer } from './postgres-server';

/** PostgreSQL's SQLSTATE for a statement stopped by a cancel request. */
const QUERY_CANCELED = '57014';

/** Rows handed to the job's listener at once. */
const ROWS_PER_CHUNK = 1000;

/** Every value in PostgreSQL's text form: the Data API layer maps it by type OID. */
const TEXT = { getTypeParser: () => (value: string) => value };

interface Running {
  readonly database: string;
  readonly job: Job;
  pid?: number;
  cancelRequestedAt?: number;
  readonly done: Promise<void>;
}

export class PostgresEngine implements SqlEngine {
  /** Starts a server from `installation`. */
  static async start(installation: PostgresInstallation, note = '', maxSessions = 100): Promise<PostgresEngine> {
    const server = await startPostgresServer(installation);
    const engine = new PostgresEngine(server, note, maxSessions);
    try {
      await engine.admin.connect();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return engine;
  }

  public readonly kind = 'postgres';
  public readonly cancelTimings: CancelTiming[] = [];
  private readonly admin: Client;
  /** The admin connection's last query: its queries run one after another (a pg client runs one at a time). */
  private adminQueue: Promise<unknown> = Promise.resolve();
  private readonly databases = new Map<string, Promise<void>>();
  private readonly queue: Array<{ database: string; job: Job }> = [];
  private readonly running = new Map<string, Running>();
  /** Connections of Data API sessions, kept between their statements. */
  private readonly sessions = new Map<string, Promise<Client>>();
  private closed = false;

  private constructor(private readonly server: PostgresServer, public readonly note: string, private readonly maxSessions: number) {
    this.admin = this.client('postgres');
  }

  submit(database: string, job: Job): void {
    this.queue.push({ database, job });
    this.pump();
  }

  async cancel(_database: string, jobId: string): Promise<'dequeued' | 'cancelled' | 'notFound'> {
    const index = this.queue.findIndex((entry) => entry.job.id === jobId);
    if (index >= 0) {
      const [{ job }] = this.queue.splice(index, 1);
      job.listener.onAborted('cancelled');
      return 'dequeued';
    }
    const running = this.running.get(jobId);
    if (!running) return 'notFound';
    const started = performance.now();
    running.cancelRequestedAt = started;
    if (running.pid !== undefined) await this.adminQuery('select pg_cancel_backend($1)', [running.pid]).catch(() => undefined);
    await running.done;
    const stoppedMs = performance.now() - started;
    this.cancelTimings.push({ stoppedMs, readyAgainMs: stoppedMs });
    return 'cancelled';
  }

  async closeSession(_database: string, session: string): Promise<void> {
    const client = this.sessions.get(session);
    this.sessions.delete(session);
    if (client) await client.then((c) => c.end(), () => undefined).catch(() => undefined);
  }

  query(database: string, sql: string): Promise<PgResult> {
    return queryAsJob((job) => this.submit(database, job), `direct-${Math.random().toString(36).slice(2)}`, sql);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { job } of this.queue.splice(0)) job.listener.onAborted('engineFailed', { message: 'the local database was shut down' });
    await Promise.all([...this.running.keys()].map((id) => this.cancel('', id)));
    await Promise.all([...this.sessions.keys()].map((session) => this.closeSession('', session)));
    await this.admin.end().catch(() => undefined);
    await this.server.stop();
  }

  /** A query on the admin connection, after the ones before it. */
  private adminQuery(text: string, values?: unknown[]): Promise<unknown> {
    const next = this.adminQueue.then(() => this.admin.query(text, values), () => this.admin.query(text, values));
    this.adminQueue = next.catch(() => undefined);
    return next;
  }

  private client(database: string): Client {
    // Redshift runs every transaction SERIALIZABLE: concurrent writers conflict (Redshift's error 1023, PostgreSQL's 40001).
    const client = new Client({
      host: '127.0.0.1',
      port: this.server.port,
      user: 'postgres',
      database,
      types: TEXT,
      options: '-c default_transaction_isolation=serializable',
    });
    client.on('error', () => undefined);
    return client;
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.maxSessions && this.queue.length) {
      const { database, job } = this.queue.shift()!;
      let finish!: () => void;
      const running: Running = { database, job, done: new Promise<void>((resolve) => { finish = resolve; }) };
      this.running.set(job.id, running);
      void this.run(running).finally(() => {
        this.running.delete(job.id);
        finish();
        this.pump();
      });
    }
  }

  /** Creates a database from template1 on first use. */
  private ensureDatabase(database: string): Promise<void> {
    let created = this.databases.get(database);
    if (!created) {
      created = this.adminQuery(`create database "${database.replace(/"/g, '""')}"`).then(() => undefined, (error: PgError) => {
        if (error.code !== '42P04') throw error; // already exists
      });
      this.databases.set(database, created);
      created.catch(() => this.databases.delete(database));
    }
    return created;
  }

  /** A session's connection, opened by its first statement. */
  private sessionClient(database: string, session: string): Promise<Client> {
    let client = this.sessions.get(session);
    if (!client) {
      const opening = this.ensureDatabase(database).then(async () => {
        const c = this.client(database);
        await c.connect();
        return c;
      });
      client = opening;
      this.sessions.set(session, opening);
      opening.catch(() => this.sessions.delete(session));
    }
    return client;
  }

  private async run(running: Running): Promise<void> {
    const { job, database } = running;
    let client: Client;
    if (job.session !== undefined) {
      try {
        client = await this.sessionClient(database, job.session);
      } catch (error) {
        job.listener.onAborted('engineFailed', describe(error));
        return;
      }
    } else {
      client = this.client(database);
      try {
        await this.ensureDatabase(database);
        await client.connect();
      } catch (error) {
        job.listener.onAborted('engineFailed', describe(error));
        await client.end().catch(() => undefined);
        return;
      }
    }
    running.pid = (client as unknown as { processID: number }).processID;
    try {
      if (running.cancelRequestedAt !== undefined) {
        job.listener.onAborted('cancelled');
        return;
      }
      job.listener.onPicked();
      await this.statements(client, running);
    } finally {
      // A session's connection outlives its statements (closed with the session).
      if (job.session === undefined) await client.end().catch(() => undefined);
    }
  }

  /**
   * Runs the job's statements in the session (one transaction for a batch) and reports each. A cancel stops the
   * running statement, or the next one; a single statement that ended before the cancel took effect stays FINISHED
   * (its transaction had committed), a batch not yet committed rolls back.
   */
  private async statements(client: Client, running: Running): Promise<void> {
    const { job } = running;
    const cancelled = () => running.cancelRequestedAt !== undefined;
    if (job.batch) await client.query('BEGIN');
    let failed = false;
    let ran = 0;
    for (let index = 0; index < job.sqls.length && !failed && !cancelled(); index++) {
      job.listener.onStarted(index, Date.now(), running.pid!);
      const t0 = process.hrtime.bigint();
      try {
        const values = [...job.params?.[index] ?? []];
        const result = await streamRows(client, job.sqls[index], values, (fields, rows) => job.listener.onRows(index, fields, rows));
        ran += 1;
        job.listener.onStatement(index, { result, ns: Number(process.hrtime.bigint() - t0), at: Date.now() });
      } catch (error) {
        if (cancelled() && (error as PgError).code === QUERY_CANCELED) break;
        failed = true;
        job.listener.onStatement(index, { error: describe(error), ns: Number(process.hrtime.bigint() - t0), at: Date.now() });
      }
    }
    const aborted = cancelled() && !failed && (job.batch || ran < job.sqls.length);
    if (job.batch && (failed || aborted)) await client.query('ROLLBACK').catch(() => undefined);
    if (job.batch && !failed && !aborted) {
      try {
        await client.query('COMMIT');
      } catch (error) {
        // A serializable transaction can fail at its commit (a read/write dependency with a concurrent one): the batch
        // failed, with the commit's error (40001 is Redshift's error 1023).
        job.listener.onAborted('engineFailed', describe(error));
        return;
      }
    }
    if (aborted) job.listener.onAborted('cancelled');
    else job.listener.onDone(Date.now());
  }
}

/**
 * Runs one statement (extended protocol, values bound) and hands its rows to `onRows` a chunk at a time, as they come
 * off the socket, instead of collecting them: nothing more is read from PostgreSQL until `onRows` returns.
 */
function streamRows(
  client: Client, text: string, values: string[], onRows: (fields: readonly PgField[], rows: ReadonlyArray<ReadonlyArray<string | null>>) => void,
): Promise<PgOutcome> {
  return new Promise<PgOutcome>((resolve, reject) => {
    const query = new Query({ text, values, rowMode: 'array', queryMode: 'extended' } as ConstructorParameters<typeof Query>[0]);
    let chunk: Array<Array<string | null>> = [];
    let fields: PgField[] | undefined;
    // A listener that fails (the spool's disk is full, say) fails the statement once PostgreSQL is done with it.
    let failure: unknown;
    const hand = () => {
      try {
        if (failure === undefined) onRows(fields!, chunk);
      } catch (error) {
        failure = error;
      }
      chunk = [];
    };
    query.on('row', (row: Array<string | null>, result?: { fields: Array<{ name: string; dataTypeID: number }> }) => {
      fields ??= (result?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
      chunk.push(row);
      if (chunk.length >= ROWS_PER_CHUNK) hand();
    });
    query.on('end', (result: { command: string; fields: Array<{ name: string; dataTypeID: number }>; rowCount: number | null }) => {
      if (chunk.length) hand();
      if (failure !== undefined) {
        reject(failure);
        return;
      }
      resolve({
        command: result.command ?? '',
        fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
        affectedRows: result.fields.length ? 0 : result.rowCount ?? 0,
      });
    });
    query.on('error', reject);
    client.query(query);
  });
}

function describe(error: unknown): PgError {
  const e = error as Partial<PgError> & { message?: string };
  return { message: String(e?.message ?? error), code: e?.code, severity: e?.severity, detail: e?.detail, hint: e?.hint, position: e?.position };
}
