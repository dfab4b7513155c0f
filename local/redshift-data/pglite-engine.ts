/**
 * The `pglite` engine: one embedded PostgreSQL (PGlite) per database, each in a worker thread on a data directory on
 * disk.
 *
 * Statements run one at a time, in order. A running statement is cancelled by terminating the worker (WASM has no
 * other way to interrupt PostgreSQL) and starting a new one on the same directory: PostgreSQL's crash recovery
 * keeps everything committed and rolls the interrupted transaction back. New databases start from a template
 * directory (initialised once per machine and PGlite version, with the Redshift shims applied), copied in
 * milliseconds instead of running initdb.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CancelTiming, Job, PgError, PgResult, queryAsJob, SqlEngine } from './engine';
import { REDSHIFT_SHIMS } from './sql-text';
import { deferred, Deferred } from '../servers/http-util';

const WORKER_FILE = join(__dirname, 'pglite-worker.mjs');

let templatePromise: Promise<string> | undefined;

/** The template data directory (created once per machine, PGlite version and shim text). */
export function ensureTemplate(): Promise<string> {
  templatePromise ??= (async () => {
    const packageJson = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
    const version: string = JSON.parse(readFileSync(packageJson, 'utf8')).version;
    const hash = createHash('sha256').update(REDSHIFT_SHIMS).digest('hex').slice(0, 12);
    const dir = join(tmpdir(), `local-redshift-pglite-${version}-${hash}`);
    if (existsSync(join(dir, 'PG_VERSION'))) return dir;
    const building = `${dir}.building-${process.pid}-${randomBytes(4).toString('hex')}`;
    const worker = new Worker(WORKER_FILE, { workerData: { dataDir: building, mode: 'init-template', shims: REDSHIFT_SHIMS } });
    try {
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (message: { type: string; error?: PgError }) => {
          if (message.type === 'ready') resolve();
          if (message.type === 'fatal') reject(new Error(`PGlite template initialisation failed: ${message.error?.message}`));
        });
        worker.on('error', reject);
      });
      await worker.terminate();
      renameSync(building, dir);
    } catch (error) {
      if (!existsSync(join(dir, 'PG_VERSION'))) throw error;
      // Another process finished first: use its template.
    } finally {
      await worker.terminate();
      rmSync(building, { recursive: true, force: true });
    }
    return dir;
  })();
  templatePromise.catch(() => {
    templatePromise = undefined;
  });
  return templatePromise;
}

export class PgliteEngine {
  /** Creates a database from the template in `parentDir` and starts its worker. */
  static async start(name: string, parentDir: string, keep = false): Promise<PgliteEngine> {
    const engine = new PgliteEngine(name, parentDir);
    engine.keep = keep;
    const template = await ensureTemplate();
    if (!keep || !existsSync(join(engine.dataDir, 'PG_VERSION'))) cpSync(template, engine.dataDir, { recursive: true });
    engine.spawn();
    await engine.ready.promise;
    return engine;
  }

  /** Number of worker starts (1 + restarts after cancels or failures). */
  public generation = 0;
  /** Timings of the cancels that stopped a running statement. */
  public readonly cancelTimings: CancelTiming[] = [];

  private readonly dataDir: string;
  private worker?: Worker;
  private ready: Deferred<void> = deferred<void>();
  private readonly queue: Job[] = [];
  private current?: Job;
  private closed = false;
  private restarting = false;
  /** The database files outlive the engine (a kept data directory). */
  private keep = false;

  private constructor(public readonly name: string, parentDir: string) {
    this.dataDir = join(parentDir, `db-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`);
    this.ready.promise.catch(() => undefined);
  }

  /** A fake but stable backend process id for the current worker (Redshift pids are around 2^30). */
  get pid(): number {
    return 1_073_741_824 + this.generation;
  }

  /** Queues a job; it runs after the jobs before it. */
  submit(job: Job): void {
    this.queue.push(job);
    void this.pump();
  }

  /**
   * Cancels a job: removed from the queue if it has not been handed to the engine, otherwise the worker is
   * terminated (the statement's transaction rolls back) and restarted. Resolves once the job is stopped.
   */
  async cancel(jobId: string): Promise<'dequeued' | 'cancelled' | 'notFound'> {
    const index = this.queue.findIndex((job) => job.id === jobId);
    if (index >= 0) {
      const [job] = this.queue.splice(index, 1);
      job.listener.onAborted('cancelled');
      return 'dequeued';
    }
    if (this.current?.id !== jobId || !this.worker) return 'notFound';
    const job = this.current;
    const t0 = performance.now();
    this.current = undefined;
    await this.restart();
    const stoppedMs = performance.now() - t0;
    job.listener.onAborted('cancelled');
    void this.ready.promise.then(() => {
      this.cancelTimings.push({ stoppedMs, readyAgainMs: performance.now() - t0 });
    });
    return 'cancelled';
  }

  /** Stops the worker and deletes the database files. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    for (const job of [...this.queue, ...this.current ? [this.current] : []]) job.listener.onAborted('engineFailed', { message: 'the local database was shut down' });
    this.queue.length = 0;
    this.current = undefined;
    if (!this.keep) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private spawn(): void {
    this.generation += 1;
    this.ready = deferred<void>();
    this.ready.promise.catch(() => undefined);
    const worker = new Worker(WORKER_FILE, { workerData: { dataDir: this.dataDir, mode: 'serve' } });
    this.worker = worker;
    worker.on('message', (message: WorkerMessage) => this.onMessage(worker, message));
    worker.on('error', (error: Error) => this.onWorkerFailure(worker, { message: `the local database engine failed: ${error.message}` }));
    worker.on('exit', (code) => {
      if (this.worker === worker && !this.closed && !this.restarting) {
        this.onWorkerFailure(worker, { message: `the local database engine stopped unexpectedly (exit code ${code})` });
      }
    });
  }

  private async restart(): Promise<void> {
    this.restarting = true;
    const worker = this.worker;
    this.worker = undefined;
    try {
      if (worker) await worker.terminate();
    } finally {
      this.restarting = false;
    }
    if (this.closed) return;
    this.spawn();
    void this.ready.promise.then(() => this.pump());
  }

  private onWorkerFailure(worker: Worker, error: PgError): void {
    if (this.worker !== worker || this.closed) return;
    const job = this.current;
    this.current = undefined;
    this.ready.reject(new Error(error.message));
    job?.listener.onAborted('engineFailed', error);
    void this.restart();
  }

  private onMessage(worker: Worker, message: WorkerMessage): void {
    if (this.worker !== worker) return;
    switch (message.type) {
      case 'ready':
        this.ready.resolve();
        void this.pump();
        return;
      case 'fatal':
        this.onWorkerFailure(worker, message.error);
        return;
    }
    const job = this.current;
    if (!job || job.id !== message.id) return;
    switch (message.type) {
      case 'started':
        job.listener.onStarted(message.index, message.at, this.pid);
        return;
      case 'sub': {
        // PGlite hands a statement's rows over at once (the worker held them all while it ran).
        const result = message.result;
        if (result?.rows.length) job.listener.onRows(message.index, result.fields, result.rows);
        job.listener.onStatement(message.index, {
          result: result && { command: result.command, fields: result.fields, affectedRows: result.affectedRows },
          error: message.error,
          ns: message.ns,
          at: message.at,
        });
        return;
      }
      case 'done':
        this.current = undefined;
        job.listener.onDone(message.at);
        void this.pump();
        return;
    }
  }

  private async pump(): Promise<void> {
    if (this.current || this.closed || !this.queue.length || !this.worker) return;
    try {
      await this.ready.promise;
    } catch {
      return;
    }
    if (this.current || this.closed || !this.queue.length || !this.worker) return;
    const job = this.queue.shift()!;
    this.current = job;
    job.listener.onPicked();
    this.worker.postMessage({ type: 'run', id: job.id, sqls: job.sqls, params: job.params, batch: job.batch });
  }
}

type WorkerMessage =
  | { type: 'ready'; ms: number }
  | { type: 'fatal'; error: PgError }
  | { type: 'started'; id: string; index: number; at: number }
  | { type: 'sub'; id: string; index: number; ns: number; at: number; result?: PgResult; error?: PgError }
  | { type: 'done'; id: string; at: number };

/** The `pglite` engine: a `PgliteEngine` per database, started on first use, in a private directory. */
export class PgliteEngines implements SqlEngine {
  public readonly kind = 'pglite';
  private readonly dataRoot: string;
  private readonly engines = new Map<string, Promise<PgliteEngine>>();
  private readonly started: PgliteEngine[] = [];
  /** The databases outlive the engine: `keptDir` is created when missing and never deleted. */
  private readonly keep: boolean;

  constructor(public readonly note = '', keptDir?: string) {
    this.keep = keptDir !== undefined;
    if (keptDir !== undefined) mkdirSync(keptDir, { recursive: true });
    this.dataRoot = keptDir ?? mkdtempSync(join(tmpdir(), 'local-redshift-data-'));
  }

  get cancelTimings(): CancelTiming[] {
    return this.started.flatMap((engine) => engine.cancelTimings);
  }

  submit(database: string, job: Job): void {
    this.engineFor(database).then((engine) => engine.submit(job), (error: Error) => {
      job.listener.onAborted('engineFailed', { message: `could not start the local database "${database}": ${error.message}` });
    });
  }

  async cancel(database: string, jobId: string): Promise<'dequeued' | 'cancelled' | 'notFound'> {
    const starting = this.engines.get(database);
    const engine = starting ? await starting.catch(() => undefined) : undefined;
    return engine ? engine.cancel(jobId) : 'notFound';
  }

  /**
   * PGlite has one connection per database: every statement of the database, in a session or not, runs on it, so
   * temporary tables are shared and outlive the session. Closing a session leaves them (the `postgres` engine gives
   * each session its own connection).
   */
  async closeSession(_database: string, _session: string): Promise<void> {}

  query(database: string, sql: string): Promise<PgResult> {
    return queryAsJob((job) => this.submit(database, job), `direct-${randomBytes(8).toString('hex')}`, sql);
  }

  async close(): Promise<void> {
    const started = await Promise.allSettled([...this.engines.values()]);
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
    if (!this.keep) rmSync(this.dataRoot, { recursive: true, force: true });
  }

  private engineFor(database: string): Promise<PgliteEngine> {
    let engine = this.engines.get(database);
    if (!engine) {
      engine = PgliteEngine.start(database, this.dataRoot, this.keep);
      this.engines.set(database, engine);
      engine.then((started) => {
        this.started.push(started);
      }, () => {
        this.engines.delete(database);
      });
    }
    return engine;
  }
}
