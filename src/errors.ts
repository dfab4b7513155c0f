import { ErrorName, RETRYABLE_DATA_API_ERRORS } from './contract';

/**
 * Error names a Step Functions state can `Catch` or `Retry` on when it calls the tasker's function.
 *
 * Data API errors keep their SDK names (for example `ActiveStatementsExceededException`, `ValidationException`).
 */
export class SfnRedshiftTaskerErrors {
  /** `executeSingletonStatement` found the same SQL already running. */
  public static readonly CONCURRENT_EXECUTION = ErrorName.CONCURRENT_EXECUTION;
  /** The invocation payload is invalid; nothing was written and nothing was started. */
  public static readonly INVALID_REQUEST = ErrorName.INVALID_REQUEST;
  /** `statementId: "LATEST"` found no statement started for the given `executionArn`. */
  public static readonly PREVIOUS_EXECUTION_NOT_FOUND = ErrorName.PREVIOUS_EXECUTION_NOT_FOUND;
  /** The function's environment is missing or invalid. */
  public static readonly CONFIGURATION_ERROR = ErrorName.CONFIGURATION_ERROR;
  /** The waiting task's error when its SQL statement ends FAILED or ABORTED. */
  public static readonly STATEMENT_FAILED = ErrorName.STATEMENT_FAILED;
  /**
   * The waiting task's error when the reconciler finds that the Data API no longer knows its statement (statements
   * are kept 24 hours) or that it never started: its outcome is unknown.
   */
  public static readonly STATEMENT_NOT_FOUND = ErrorName.STATEMENT_NOT_FOUND;
  /**
   * The waiting task's error when its statement failed with Redshift's serializable isolation violation (error 1023,
   * "conflict with concurrent transaction"): running it again can succeed. `RedshiftSqlTask` retries it by default
   * (`conflictRetries`); the cause keeps Redshift's error text.
   */
  public static readonly SERIALIZATION_CONFLICT = ErrorName.SERIALIZATION_CONFLICT;
  /**
   * A statement sent to a session (`sessionId`) that runs another statement (a session runs one at a time): nothing
   * started; a later attempt can succeed. `RedshiftSqlTask` retries it by default when it has a `sessionId`.
   */
  public static readonly SESSION_BUSY = ErrorName.SESSION_BUSY;
  /**
   * A statement sent to a session that is closed (its keep-alive or 24 hours passed), never existed or was opened by
   * another identity: nothing started. Open a new session; the temporary tables of the old one are gone.
   */
  public static readonly SESSION_NOT_AVAILABLE = ErrorName.SESSION_NOT_AVAILABLE;
  /**
   * The waiting task's error when its statement FINISHED but the rows it asked for (`resultRows`) do not fit the
   * task's output (at most 200 KiB of rows, so that the state's data stays within Step Functions' 256 KiB). The
   * statement ran and committed; the cause gives its row count and size and the alternatives: read it page by page
   * (`RedshiftStatementTask` with `StatementAction.FETCH_RESULT`), or write it to S3 with `UNLOAD` and process the
   * files with a Distributed Map. Never retried: the result stays the same.
   */
  public static readonly RESULT_TOO_LARGE = ErrorName.RESULT_TOO_LARGE;
  /**
   * The error of a result export (`resultExport`, `StatementAction.EXPORT_RESULT`) that could not be written to S3
   * within the function's time budget: the upload was aborted and nothing was written. The statement ran; write its
   * result with `UNLOAD` instead (the cause says how far the export got).
   */
  public static readonly RESULT_EXPORT_TOO_LARGE = ErrorName.RESULT_EXPORT_TOO_LARGE;
  /**
   * The Data API's errors after which the statement did not start and a later attempt can succeed
   * (`ActiveStatementsExceededException`, `ActiveSessionsExceededException`, `InternalServerException`,
   * `DatabaseConnectionException`): retry them with
   * backoff (`RedshiftSqlTask` does by default).
   */
  public static readonly RETRYABLE_DATA_API_ERRORS: string[] = [...RETRYABLE_DATA_API_ERRORS];

  private constructor() {}
}
