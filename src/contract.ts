/**
 * The contract between the construct (`src/`) and the Lambda runtime (`lambda/`).
 *
 * Both sides import these names, so each one is written exactly once. Everything here is part of the public
 * behaviour of the library: environment variable names, tracking-table keys, invocation field names, action names and
 * error names (Step Functions `Catch`/`Retry` match on them). Changing a value is a breaking change.
 *
 * This module is internal to the jsii API (not re-exported from `index.ts` as-is); the construct exposes the error
 * names through `SfnRedshiftTaskerErrors`.
 */

/** Environment variables the construct sets on the handler and the handler reads at cold start. */
export const Env = {
  /** Name of the DynamoDB tracking table. */
  TABLE_NAME: 'DDB_TABLE_NAME',
  /** Provisioned cluster identifier (exactly one of this and `WORKGROUP_NAME`). */
  CLUSTER_IDENTIFIER: 'CLUSTER_IDENTIFIER',
  /** Redshift Serverless workgroup name (exactly one of this and `CLUSTER_IDENTIFIER`). */
  WORKGROUP_NAME: 'WORKGROUP_NAME',
  /** Database in which statements run. */
  DATABASE: 'DATABASE',
  /** Database user for temporary cluster credentials (clusters only; not with `SECRET_ARN`). */
  DB_USER: 'DB_USER',
  /** Secrets Manager secret holding the database credentials (not with `DB_USER`). */
  SECRET_ARN: 'SECRET_ARN',
  /** Whole number of days a handled item stays in the tracking table. */
  TTL_DAYS: 'TTL',
  /** Log level: DEBUG, INFO, WARN, ERROR, SILENT. */
  LOG_LEVEL: 'LOG_LEVEL',
  /** `false` turns off the automatic cancel of statements whose caller no longer waits (reconciler sweeps). */
  CANCEL_ORPHANS: 'CANCEL_ORPHANS',
  /** Seconds (0 to 30) a start waits for the statement to end (Data API `WaitTimeSeconds`); 0 turns the fast path off. */
  FAST_PATH_WAIT_SECONDS: 'FAST_PATH_WAIT_SECONDS',
  /**
   * `true` lets CloudFormation requests answer to loopback URLs (`http://127.0.0.1:<port>/...`): for local stand-ins
   * only. The construct never sets it; without it, only `https:` URLs on CloudFormation's response hosts are accepted.
   */
  LOOPBACK_RESPONSE_URLS: 'LOOPBACK_RESPONSE_URLS',
} as const;

/** State-table schema: the construct creates the table with these keys; the handler reads and writes them. */
export const Table = {
  PARTITION_KEY: 'id',
  SORT_KEY: 'invocationId',
  TTL_ATTRIBUTE: 'TTL',
  /**
   * Sparse global secondary index of the statements in flight, per starter function: the reconciler's query.
   * An item is in it from its registration until its completion is claimed.
   */
  IN_FLIGHT_INDEX: 'inFlight',
  /** Partition key of `IN_FLIGHT_INDEX` (string): the name of the function that started the statement. */
  IN_FLIGHT_ATTRIBUTE: 'inFlightOf',
  /** Sort key of `IN_FLIGHT_INDEX` (number): when the statement was registered (epoch seconds). */
  REGISTERED_AT_ATTRIBUTE: 'registeredAt',
  /** Attributes `IN_FLIGHT_INDEX` projects besides the keys (the reconciler reads them from the index). */
  IN_FLIGHT_PROJECTION: ['callback_details', 'statementId'],
} as const;

/**
 * CloudWatch metrics the handler emits in Embedded Metric Format (log lines, no API call) and the construct's
 * `metric...()` methods read. Every metric has two dimensions: `service` (always `SERVICE_NAME`) and `Tasker`, the
 * name of the starter function of the statement (statement metrics) or of the function that processed the event
 * (event metrics: `IGNORED_EVENTS`, `DUPLICATE_EVENTS`). One dimension value per tasker: no cardinality growth.
 */
export const Metric = {
  NAMESPACE: 'CdkStepFunctionsRedshift',
  SERVICE_NAME: 'cdk-stepfunctions-redshift',
  SERVICE_DIMENSION: 'service',
  TASKER_DIMENSION: 'Tasker',
  /** Count: statements that ended FINISHED and whose completion was handled (a callback sent, or nobody waited). */
  STATEMENTS_FINISHED: 'StatementsFinished',
  /** Count: statements that ended FAILED or ABORTED, or that the Data API did not know (`StatementNotFound`). */
  STATEMENTS_FAILED: 'StatementsFailed',
  /** Milliseconds from a statement's registration to its end (the event's time: whole seconds on the event path). */
  STATEMENT_DURATION: 'StatementDuration',
  /** Milliseconds from the statement's end (the event's time) to the callback sent. */
  CALLBACK_LATENCY: 'CallbackLatency',
  /** Count: rows a finished statement returned or changed (when the Data API reports them). */
  ROWS: 'Rows',
  /** Count: completions from the start call's answer (fast path). */
  FAST_PATH_COMPLETIONS: 'FastPathCompletions',
  /** Count: completions from a status-change event. */
  EVENT_COMPLETIONS: 'EventCompletions',
  /** Count: completions by a reconciler sweep (the event was lost or late). */
  RECONCILED_STATEMENTS: 'ReconciledStatements',
  /** Count: running statements cancelled by a sweep because their caller no longer waits. */
  ORPHANS_CANCELLED: 'OrphansCancelled',
  /** Count: callbacks that failed (retried by SQS, finally in the dead-letter queue). */
  CALLBACK_FAILURES: 'CallbackFailures',
  /** Count: messages on the queue that are not this tasker's statements (other tools' Data API events). */
  IGNORED_EVENTS: 'IgnoredEvents',
  /** Count: events of statements whose completion was already handled (the fast path's event, a redelivery). */
  DUPLICATE_EVENTS: 'DuplicateEvents',
  /**
   * Count: events that name a statement this tasker started but carry another statement id (a forged or misrouted
   * event): acknowledged, never called back. Any value above 0 deserves a look.
   */
  MISMATCHED_EVENTS: 'MismatchedEvents',
  /** Count: reconciler sweeps that stopped before examining any statement (the starter's timeout is too short). */
  STALLED_SWEEPS: 'StalledSweeps',
} as const;

/** Defaults shared by the construct and the handler. */
export const Defaults = {
  /** Days a handled item is kept (the original's `TTL` value). */
  TTL_DAYS: 1,
  LOG_LEVEL: 'INFO',
  /** Largest accepted `TTL` (days). */
  MAX_TTL_DAYS: 3650,
  /** Minutes between two reconciler sweeps the construct schedules. */
  RECONCILE_INTERVAL_MINUTES: 5,
  /** A sweep looks at statements registered at least this long ago (`olderThanSeconds`). */
  RECONCILE_OLDER_THAN_SECONDS: 60,
  /** Seconds a start waits for its statement to end before leaving it to the event (fast path). */
  FAST_PATH_WAIT_SECONDS: 2,
  /** Largest `WaitTimeSeconds` the Data API accepts. */
  MAX_FAST_PATH_WAIT_SECONDS: 30,
  /**
   * Seconds a start keeps for itself besides the wait (registration, describe, claim, callback): the handler cuts the
   * wait to the invocation's remaining time minus this; the construct wants the starter's timeout to cover both.
   */
  FAST_PATH_MARGIN_SECONDS: 5,
  /** Seconds a sweep keeps for itself at the end of its invocation: it takes no new statement then. */
  SWEEP_RESERVE_SECONDS: 10,
  /** The shortest starter timeout the construct accepts with the reconciler on: the reserve and 20 s of sweeping. */
  MIN_SWEEP_TIMEOUT_SECONDS: 30,
  /**
   * How many times a CloudFormation request's SQL runs again after a serialization conflict before the resource is
   * answered FAILED (`RedshiftSql`).
   */
  CONFLICT_RERUNS: 3,
  /** Milliseconds of the first conflict re-run's backoff; each next one doubles it (full jitter). */
  CONFLICT_RERUN_BASE_MS: 1000,
} as const;

/** Values `LOG_LEVEL` accepts (case-insensitive); the construct validates `logLevel` against them at synth. */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;

/** Field names of an invocation payload (the original's names, plus `parameters` and `sqlStatements`). */
export const Field = {
  ACTION: 'action',
  SQL_STATEMENT: 'sqlStatement',
  SQL_STATEMENTS: 'sqlStatements',
  PARAMETERS: 'parameters',
  TASK_TOKEN: 'taskToken',
  EXECUTION_ARN: 'executionArn',
  STATEMENT_ID: 'statementId',
  NEXT_TOKEN: 'nextToken',
  /** With `action: "reconcile"`: only statements registered at least this many seconds ago. */
  OLDER_THAN_SECONDS: 'olderThanSeconds',
  /** With `sqlStatements`: `TRANSACTION` (the default: all or nothing) or `AUTO_COMMIT` (each statement commits). */
  EXECUTION_MODE: 'executionMode',
  /**
   * Seconds (1 to 86,400) the Data API keeps the statement's session open after it ends (`SessionKeepAliveSeconds`):
   * without `sessionId` the statement opens a session, whose id is in the task's output (`sessionId`); with it, the
   * session's keep-alive is set again.
   */
  SESSION_KEEP_ALIVE_SECONDS: 'sessionKeepAliveSeconds',
  /** A session opened by an earlier statement of the same tasker: the statement runs in it (`SessionId`). */
  SESSION_ID: 'sessionId',
  /**
   * With CloudFormation request fields: the run of the request's SQL after its serialization conflicts (1 to
   * `Defaults.CONFLICT_RERUNS`), a statement of its own. Sent by the tasker's completion, not by callers.
   */
  CONFLICT_ATTEMPT: 'ConflictAttempt',
  /**
   * How rows are returned: with a start (`sqlStatement`/`sqlStatements` and a task token), the statement's rows come
   * with its callback in this format; with `getStatementResult`, the page's rows. `OBJECTS` (plain objects keyed by
   * column name) or `TYPED_CELLS` (the Data API's typed fields).
   */
  ROW_FORMAT: 'rowFormat',
  /**
   * The bucket a statement's whole result is written to: with a start (and a task token), when it finishes, before
   * the callback; with `exportResult`, for a statement already run.
   */
  EXPORT_BUCKET: 'exportBucket',
  /** With `exportBucket`: the key prefix of the written objects (`<prefix><statement id>.<jsonl|csv>`). */
  EXPORT_KEY_PREFIX: 'exportKeyPrefix',
  /** With `exportBucket`: `JSON_LINES` (the default) or `CSV` (with a header line). */
  EXPORT_FORMAT: 'exportFormat',
} as const;

/** Fields the tasker adds to a waiting task's output besides the status-change event. */
export const TaskOutput = {
  /** The Data API session the statement ran in (it opened it, or was sent to it): later statements pass it as `sessionId`. */
  SESSION_ID: 'sessionId',
} as const;

/** Formats of a result written to S3: one JSON object per line, or CSV with a header line. */
export const EXPORT_FORMATS = ['JSON_LINES', 'CSV'] as const;
export type ExportFormatName = typeof EXPORT_FORMATS[number];

/** Values of `rowFormat`: plain objects keyed by column name, or the Data API's typed fields (`{"longValue": 1}`). */
export const ROW_FORMATS = ['OBJECTS', 'TYPED_CELLS'] as const;
export type RowFormatName = typeof ROW_FORMATS[number];

/** How `BatchExecuteStatement` runs a list of statements (the Data API's `ExecutionMode`). */
export const EXECUTION_MODES = ['TRANSACTION', 'AUTO_COMMIT'] as const;
export type ExecutionModeName = typeof EXECUTION_MODES[number];

/** Values of the `action` field. */
export const Action = {
  EXECUTE_STATEMENT: 'executeStatement',
  EXECUTE_SINGLETON_STATEMENT: 'executeSingletonStatement',
  DESCRIBE_STATEMENT: 'describeStatement',
  GET_STATEMENT_RESULT: 'getStatementResult',
  CANCEL_STATEMENT: 'cancelStatement',
  /** Writes the whole result of a finished statement to S3 (`exportBucket`, `exportKeyPrefix`, `exportFormat`). */
  EXPORT_RESULT: 'exportResult',
  /** A reconciler sweep (sent by the construct's schedule): lost events, orphans, expired statements. */
  RECONCILE: 'reconcile',
} as const;

/** `statementId` placeholder: the most recent statement started for `executionArn`. */
export const LATEST = 'LATEST';

/** Data API limits, checked by the handler for every request and by the construct for SQL it knows at synth time. */
export const Limits = {
  /** Largest SQL text of one statement (bytes, UTF-8). */
  MAX_SQL_BYTES: 100_000,
  /** Most statements in one `BatchExecuteStatement` (one transaction). */
  MAX_BATCH_STATEMENTS: 40,
  /** Longest time the Data API keeps a session open after a statement (`SessionKeepAliveSeconds`): 24 hours. */
  MAX_SESSION_KEEP_ALIVE_SECONDS: 86_400,
  /**
   * Most bytes (UTF-8 JSON) of rows a task's callback carries (`rowFormat` with a start), all statements of a list
   * together: Step Functions limits a state's data to 256 KiB, and this leaves 56 KiB for the completion event and the
   * state's other data. A larger result fails the task with `ResultTooLarge`.
   */
  MAX_RESULT_ROWS_BYTES: 200 * 1024,
  /** Longest key prefix of an export (S3 keys are at most 1,024 bytes; the statement id and extension follow). */
  MAX_EXPORT_KEY_PREFIX_LENGTH: 900,
} as const;

/** A Data API session id (a UUID, lower case, as the Data API gives it). */
export const SESSION_ID = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}$/;

/** A named parameter (`:name` in the SQL): a letter or underscore, then letters, digits or underscores. */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The states a statement ends in: the `state` of a status-change event, the final `Status` of `DescribeStatement`. */
export const FINAL_STATES = ['FINISHED', 'FAILED', 'ABORTED'] as const;
export type FinalState = typeof FINAL_STATES[number];

/** Whether a statement status (an event's `state`, a `Status` of the Data API) is one a statement ends in. */
export function isFinalState(status: unknown): status is FinalState {
  return (FINAL_STATES as readonly unknown[]).includes(status);
}

/**
 * How error messages on both sides show a value they received: as JSON, cut to 80 characters (never a whole
 * payload). Values that may be secret (task tokens, parameter values) are described, not shown.
 */
export function show(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Error names raised by the handler (the Lambda error type Step Functions matches in `Catch`/`Retry`), and the
 * error a waiting task fails with when its SQL fails or is aborted. Data API errors keep their SDK names
 * (`ValidationException`, `ActiveStatementsExceededException`, ...).
 */
export const ErrorName = {
  /** `executeSingletonStatement` found the same SQL already running. */
  CONCURRENT_EXECUTION: 'ConcurrentExecution',
  /** The invocation payload is invalid; nothing was written or started. */
  INVALID_REQUEST: 'InvalidRequest',
  /** `statementId: "LATEST"` found no statement for the `executionArn`. */
  PREVIOUS_EXECUTION_NOT_FOUND: 'PreviousExecutionNotFound',
  /** The function's environment is missing or invalid. */
  CONFIGURATION_ERROR: 'ConfigurationError',
  /** Error of `SendTaskFailure` when the statement ends FAILED or ABORTED (kept from the original). */
  STATEMENT_FAILED: 'FAILED',
  /**
   * Error of `SendTaskFailure` (and the reason of a CloudFormation `FAILED`) when the reconciler finds that the Data
   * API does not know a registered statement: it is older than the Data API's 24 hours, or it never started. Its
   * outcome is unknown.
   */
  STATEMENT_NOT_FOUND: 'StatementNotFound',
  /**
   * Error of `SendTaskFailure` when the statement failed with Redshift's serializable isolation violation (error 1023,
   * "conflict with concurrent transaction"): running it again can succeed. The cause keeps Redshift's error text.
   */
  SERIALIZATION_CONFLICT: 'SerializationConflict',
  /**
   * The statement was sent to a session that runs another statement (a session runs one at a time): nothing started.
   * Retrying after the other statement ends succeeds (`RedshiftSqlTask` retries it when it runs in a session).
   */
  SESSION_BUSY: 'SessionBusy',
  /**
   * The statement was sent to a session that is closed (its keep-alive passed, or 24 hours), that never existed, or
   * that another identity opened: nothing started. Open a new session (the temporary tables of the old one are gone).
   */
  SESSION_NOT_AVAILABLE: 'SessionNotAvailable',
  /**
   * Error of `SendTaskFailure` when the statement FINISHED but its rows, asked for with the callback (`rowFormat`), do
   * not fit the task's output (`Limits.MAX_RESULT_ROWS_BYTES`). The statement ran (and committed); the cause says how
   * many rows and bytes there were and what to use instead. Nothing is cut.
   */
  RESULT_TOO_LARGE: 'ResultTooLarge',
  /**
   * Error of `SendTaskFailure` (and of `exportResult`) when a result could not be written to S3 within the function's
   * time budget (Lambda's 15 minutes at most). The multipart upload was aborted: nothing was written. The cause names
   * the rows and bytes written before the limit and the alternative (`UNLOAD`).
   */
  RESULT_EXPORT_TOO_LARGE: 'ResultExportTooLarge',
} as const;

/** Redshift's error text of a serializable isolation violation (error 1023). */
export const SERIALIZATION_CONFLICT_TEXT = /\b1023\b|serializable isolation violation|conflict with concurrent transaction/i;

/**
 * Data API errors the handler passes on with their SDK names after which the statement did not start and a later
 * attempt can succeed: too many statements running (or sessions open) on the target, a service error, no connection to the database.
 */
export const RETRYABLE_DATA_API_ERRORS = [
  'ActiveStatementsExceededException', 'ActiveSessionsExceededException', 'InternalServerException', 'DatabaseConnectionException',
] as const;

/** CloudFormation custom resources answered by the tasker. */
export const CustomResource = {
  /**
   * Suffix of the physical id reported when a Create fails (`<LogicalResourceId>:CREATE_FAILED`). CloudFormation
   * follows a failed Create with a Delete for that id during the rollback; it must run no SQL (nothing was created,
   * and a drop could remove an object the stack does not own).
   */
  CREATE_FAILED_SUFFIX: ':CREATE_FAILED',
  /** Resource type of `RedshiftSql` (any `Custom::` type works: the handler reads the properties, not the type). */
  SQL_RESOURCE_TYPE: 'Custom::RedshiftSql',
} as const;

/**
 * Properties of a custom resource whose service token is the tasker's function itself (`RedshiftSql`): the SQL for
 * each request type (a statement, or a list run as one transaction) and the named parameters (name → value).
 */
export const ResourceProperty = {
  ON_CREATE: 'OnCreate',
  ON_UPDATE: 'OnUpdate',
  ON_DELETE: 'OnDelete',
  PARAMETERS: 'Parameters',
  /** How a list runs: `TRANSACTION` (the default) or `AUTO_COMMIT`. */
  EXECUTION_MODE: 'ExecutionMode',
  /**
   * `true`: the one row the SQL returns (the last statement of a list that returns rows) becomes the resource's
   * attributes, one per column (`Fn::GetAtt`), within CloudFormation's 4,096-byte response.
   */
  RESULT_ATTRIBUTES: 'ResultAttributes',
} as const;

/** Attributes every `RedshiftSql` resource answers with; a result column may not take their names. */
export const BUILT_IN_ATTRIBUTES = ['statementId', 'state', 'rows'] as const;

/** Properties CloudFormation adds to every custom resource; they are not the resource's own. */
export const CLOUDFORMATION_PROPERTIES: readonly string[] = ['ServiceToken', 'ServiceTimeout'];

/** The EventBridge event the Data API emits for statements started with `WithEvent: true`. */
export const StatusChangeEvent = {
  SOURCE: 'aws.redshift-data',
  DETAIL_TYPE: 'Redshift Data Statement Status Change',
  /**
   * EventBridge wildcard matching every `detail.statementName` a tasker gives (`<caller id>:<digits>.<digits>`): the
   * completion rule admits only these.
   */
  STATEMENT_NAME_WILDCARD: '*:*.*',
} as const;
