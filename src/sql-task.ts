import { Annotations, Aws, Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Action, ErrorName, Field } from './contract';
import { BatchExecutionMode, RowFormat } from './options';
import { WARNING_PREFIX } from './private/defaults';
import { checkResultExport, exportFields, grantResultExport } from './private/result-export';
import {
  checkExecutionMode, checkParameters, checkRowFormat, checkSession, checkSql, checkStatementList, checkTaskParameters,
  throwIfInvalid,
} from './private/sql-validation';
import {
  addServiceRetries, executionArnValue, invokeStatement, lambdaTaskMetrics, queryLanguageOf, rejectJsonPathInJsonata, taskTokenValue,
} from './private/task-support';
import { RedshiftTaskOptions, ResultExport } from './task-options';

/**
 * What `RedshiftSqlTask` runs.
 */
export interface RedshiftSqlTaskOptions extends RedshiftTaskOptions {
  /**
   * One SQL statement (at most 100,000 bytes), run with the Data API's `ExecuteStatement`. It may come from the state
   * input: `sfn.JsonPath.stringAt('$.sql')` in JSONPath, `'{% $states.input.sql %}'` in JSONata. Give exactly one of
   * `sql` and `sqlStatements`.
   *
   * @default - none: `sqlStatements` must be given
   */
  readonly sql?: string;

  /**
   * 1 to 40 SQL statements run in order with `BatchExecuteStatement`: as one transaction (any failure rolls them all
   * back), or each on its own with `executionMode: BatchExecutionMode.AUTO_COMMIT`. Give exactly one of `sql` and
   * `sqlStatements`; `parameters` work with both (each statement binds the ones it names).
   *
   * @default - none: `sql` must be given
   */
  readonly sqlStatements?: string[];

  /**
   * Named parameters of `sql`, name → value: `{ region: 'EMEA' }` binds `:region`. The Data API binds the values
   * (they are never spliced into the SQL) and converts them to the column's type. Values may come from the state
   * input (JSONPath or JSONata, as `sql`); a value must not be empty (write `NULL` in the SQL instead).
   *
   * @default - no parameters
   */
  readonly parameters?: { [name: string]: string };

  /**
   * How `sqlStatements` run: `BatchExecutionMode.TRANSACTION` (all or nothing) or `BatchExecutionMode.AUTO_COMMIT`
   * (each statement commits on its own; a failure stops the list and keeps what ran before it). Only with
   * `sqlStatements`.
   *
   * @default BatchExecutionMode.TRANSACTION
   */
  readonly executionMode?: BatchExecutionMode;

  /**
   * How many times the state runs the SQL again when it fails with a serializable isolation violation (Redshift's
   * error 1023, "conflict with concurrent transaction"; the error `SerializationConflict`), with an exponential
   * backoff from 2 seconds and full jitter. Each retry starts a new statement. No other failure is retried. 0 turns
   * it off (then `Catch` or `addRetry` on `SfnRedshiftTaskerErrors.SERIALIZATION_CONFLICT` yourself).
   *
   * @default 3
   */
  readonly conflictRetries?: number;

  /**
   * Keeps the statement's Data API session open this long after it ends (`SessionKeepAliveSeconds`, whole seconds up
   * to 24 hours), so that later tasks run in it and see its temporary tables. Without `sessionId`, the statement opens
   * a session: the task's output carries its id (`sessionId`) for the next tasks. With `sessionId`, the session's
   * keep-alive starts again from this statement's end. A session runs one statement at a time, is closed by the Data
   * API once its keep-alive passes (whatever happened to the workflow), and only the tasker that opened it can use it.
   *
   * @default - no session is opened: the statement runs on a connection of its own
   */
  readonly sessionKeepAlive?: Duration;

  /**
   * The Data API session to run in, opened by an earlier task of the same tasker with `sessionKeepAlive`: usually a
   * value of the state, `sfn.JsonPath.stringAt('$.open.sessionId')` in JSONPath or `'{% $states.input.open.sessionId %}'`
   * in JSONata. The statement runs where the session was opened (the tasker's target, database and user); the task
   * fails with `SessionBusy` while another statement runs in the session (retried by default: 5 seconds, backoff 2,
   * 5 attempts, full jitter) and with `SessionNotAvailable` when the session is closed (open a new one).
   *
   * @default - the statement does not run in a session (unless `sessionKeepAlive` opens one)
   */
  readonly sessionId?: string;

  /**
   * Returns the statement's rows with its callback, in one state: the task's output is the completion event plus
   * `result` — `{statementId, hasResultSet, rowCount, columns: [{name, type}], rows: [...]}` for `sql`, and
   * `{statements: [...]}` with one such entry per statement (ids `<id>:1`, `<id>:2`, ...) for `sqlStatements`. A
   * statement without rows (`INSERT`, DDL) has `hasResultSet: false` and the rows it changed as `rowCount`. Every
   * page of the result is read. `RowFormat.OBJECTS` gives plain objects keyed by column name (`[{"id": 1}]`; see
   * `RowFormat` for each Redshift type), `RowFormat.TYPED_CELLS` the Data API's typed fields.
   *
   * The rows of all statements together may take at most 200 KiB as JSON (Step Functions limits a state's data to
   * 256 KiB): a larger result fails the task with `ResultTooLarge` (`SfnRedshiftTaskerErrors.RESULT_TOO_LARGE`;
   * the statement ran, nothing is cut), whose cause gives the row count and size. Read a larger result page by page
   * with `RedshiftStatementTask` (`StatementAction.FETCH_RESULT`), or write it to S3 with `UNLOAD`. Only with
   * `IntegrationPattern.WAIT_FOR_TASK_TOKEN`.
   *
   * @default - no rows: the output is the completion event (with the row count in `detail.rows`)
   */
  readonly resultRows?: RowFormat;

  /**
   * Writes the statement's whole result to S3 when it finishes, before the callback (any size the function can write
   * within its timeout: page by page, multipart uploads, flat memory): one object per statement,
   * `<keyPrefix><statement id>.jsonl` or `.csv` (each statement of `sqlStatements` under its own id `<id>:<n>`). The
   * task's output is the completion event plus `export`: `{statementId, hasResultSet, bucket, key, rows, bytes,
   * format, columns}` (for `sqlStatements`, `{statements: [...]}`), ready for a `DistributedMap`'s `ItemReader`. The
   * tasker's function may write only under the prefix. An export that does not fit the function's time budget fails
   * the task with `ResultExportTooLarge` (`SfnRedshiftTaskerErrors.RESULT_EXPORT_TOO_LARGE`): use `UNLOAD` then. Writing
   * is bound by the function's CPU, which Lambda gives in proportion to memory: for results beyond a few MB, give the
   * tasker's function more memory and a longer timeout (`starterLambdaFunctionProps`). Not with `resultRows`; only
   * with `IntegrationPattern.WAIT_FOR_TASK_TOKEN`.
   *
   * @default - no export
   */
  readonly resultExport?: ResultExport;

  /**
   * Whether to refuse starting while the same SQL text already runs on the same target and database
   * (`executeSingletonStatement`): the state then fails with `ConcurrentExecution` and starts nothing.
   *
   * @default false
   */
  readonly singleton?: boolean;
}

/**
 * Properties of `RedshiftSqlTask` in JSONPath.
 */
export interface RedshiftSqlTaskJsonPathProps extends RedshiftSqlTaskOptions, sfn.TaskStateJsonPathBaseProps {}

/**
 * Properties of `RedshiftSqlTask` in JSONata.
 */
export interface RedshiftSqlTaskJsonataProps extends RedshiftSqlTaskOptions, sfn.TaskStateJsonataBaseProps {}

/**
 * Properties of `RedshiftSqlTask`.
 */
export interface RedshiftSqlTaskProps extends RedshiftSqlTaskOptions, sfn.TaskStateBaseProps {}

/**
 * A Step Functions task that runs SQL on Amazon Redshift through a `SfnRedshiftTasker` and waits until Redshift
 * reports that it ended, without polling (`lambda:invoke.waitForTaskToken`; the task token and the execution id are
 * added to the tasker's payload).
 *
 * The task succeeds with the statement's completion event (`detail.statementId`, `detail.state` = `FINISHED`,
 * `detail.rows`, ...; `sessionId` when it ran in a session), with its rows in `result` with `resultRows` (or where it
 * wrote them in `export` with `resultExport`), and fails with `FAILED` when the SQL fails or is aborted (the cause holds the event with
 * Redshift's error text in `detail.error`), `ConcurrentExecution` for a singleton already running, or
 * `States.Timeout` when `taskTimeout` passes (the statement keeps running: cancel it with `RedshiftStatementTask`).
 *
 * With `integrationPattern: IntegrationPattern.REQUEST_RESPONSE` the task starts the statement without a callback
 * and succeeds at once with the Data API's answer (`Id`, `CreatedAt`, ...): poll it with `RedshiftStatementTask`.
 */
export class RedshiftSqlTask extends sfn.TaskStateBase {
  /**
   * A task that runs SQL, in JSONPath.
   */
  public static jsonPath(scope: Construct, id: string, props: RedshiftSqlTaskJsonPathProps): RedshiftSqlTask {
    return new RedshiftSqlTask(scope, id, props);
  }

  /**
   * A task that runs SQL, in JSONata.
   */
  public static jsonata(scope: Construct, id: string, props: RedshiftSqlTaskJsonataProps): RedshiftSqlTask {
    return new RedshiftSqlTask(scope, id, { ...props, queryLanguage: sfn.QueryLanguage.JSONATA });
  }

  protected readonly taskMetrics?: sfn.TaskMetricsConfig;
  protected readonly taskPolicies?: iam.PolicyStatement[];
  private readonly callback: boolean;

  constructor(scope: Construct, id: string, private readonly props: RedshiftSqlTaskProps) {
    super(scope, id, props);
    const pattern = props.integrationPattern ?? sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN;
    const errors: string[] = [];
    if (pattern === sfn.IntegrationPattern.RUN_JOB) {
      errors.push('integrationPattern must be WAIT_FOR_TASK_TOKEN or REQUEST_RESPONSE; got RUN_JOB. Use '
        + 'WAIT_FOR_TASK_TOKEN (the default: wait until the statement ends) or REQUEST_RESPONSE (start it and go on with '
        + 'its id).');
    }
    checkRunProps(props, errors);
    if (props.resultRows !== undefined && pattern !== sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN) {
      errors.push(`resultRows returns the rows with the statement's callback; got integrationPattern ${pattern}. Use `
        + 'WAIT_FOR_TASK_TOKEN (the default), or read the rows with RedshiftStatementTask (StatementAction.FETCH_RESULT).');
    }
    checkRowFormat('resultRows', props.resultRows, errors);
    checkResultExport('resultExport', props.resultExport, errors);
    if (props.resultExport !== undefined && pattern !== sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN) {
      errors.push(`resultExport writes the result before the statement's callback; got integrationPattern ${pattern}. Use `
        + 'WAIT_FOR_TASK_TOKEN (the default), or export a finished statement with RedshiftStatementTask (StatementAction.EXPORT_RESULT).');
    }
    if (props.resultExport !== undefined && props.resultRows !== undefined) {
      errors.push('Give either resultRows (the rows in the output) or resultExport (the result in S3); got both. Remove one of them.');
    }
    throwIfInvalid('RedshiftSqlTask', this.node.path, errors);
    this.callback = pattern === sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN;
    this.warn();

    this.taskMetrics = lambdaTaskMetrics(props.tasker.lambdaFunction);
    this.taskPolicies = [invokeStatement(props.tasker.lambdaFunction)];
    if (props.resultExport !== undefined) grantResultExport(this, props.tasker, props.resultExport);
    if (props.retryOnServiceExceptions ?? true) {
      addServiceRetries(this);
      // A busy session started nothing: the statement before this one still runs in it.
      if (props.sessionId !== undefined) {
        this.addRetry({
          errors: [ErrorName.SESSION_BUSY], interval: Duration.seconds(5), maxAttempts: 5, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL,
        });
      }
    }
    const conflictRetries = props.conflictRetries ?? DEFAULT_CONFLICT_RETRIES;
    if (this.callback && conflictRetries > 0) {
      this.addRetry({
        errors: [ErrorName.SERIALIZATION_CONFLICT],
        interval: Duration.seconds(2),
        maxAttempts: conflictRetries,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
    }
  }

  /**
   * @internal
   */
  protected _renderTask(topLevelQueryLanguage?: sfn.QueryLanguage): any {
    const queryLanguage = queryLanguageOf(topLevelQueryLanguage, this.props.queryLanguage);
    const { sql, sqlStatements, parameters, singleton, executionMode, sessionId, sessionKeepAlive, resultRows, resultExport } = this.props;
    const payload = {
      ...sql !== undefined ? { [Field.SQL_STATEMENT]: sql } : { [Field.SQL_STATEMENTS]: sqlStatements },
      ...parameters !== undefined
        ? { [Field.PARAMETERS]: Object.entries(parameters).map(([name, value]) => ({ name, value })) } : {},
      ...executionMode !== undefined ? { [Field.EXECUTION_MODE]: executionMode.value } : {},
      ...sessionId !== undefined ? { [Field.SESSION_ID]: sessionId } : {},
      ...sessionKeepAlive !== undefined ? { [Field.SESSION_KEEP_ALIVE_SECONDS]: sessionKeepAlive.toSeconds() } : {},
      ...resultRows !== undefined ? { [Field.ROW_FORMAT]: resultRows.value } : {},
      ...resultExport !== undefined ? exportFields(resultExport) : {},
      ...singleton ? { [Field.ACTION]: Action.EXECUTE_SINGLETON_STATEMENT } : {},
      ...this.callback ? { [Field.TASK_TOKEN]: taskTokenValue(queryLanguage) } : {},
      [Field.EXECUTION_ARN]: executionArnValue(queryLanguage),
    };
    rejectJsonPathInJsonata(queryLanguage, {
      sql, sqlStatements, parameters, executionMode: executionMode?.value, sessionId, exportKeyPrefix: resultExport?.keyPrefix,
    }, this.node.path);
    const functionArn = this.props.tasker.lambdaFunction.functionArn;
    if (!this.callback) return { Resource: functionArn, ...this._renderParametersOrArguments(payload, queryLanguage) };
    return {
      Resource: `arn:${Aws.PARTITION}:states:::lambda:invoke.waitForTaskToken`,
      ...this._renderParametersOrArguments({ FunctionName: functionArn, Payload: payload }, queryLanguage),
    };
  }

  /** Soft problems: a callback that could wait a year, a heartbeat nothing sends. */
  private warn(): void {
    if (!this.callback) return;
    if (this.props.taskTimeout === undefined && this.props.timeout === undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:taskTimeout`, `${this.node.path} has no taskTimeout: if the `
        + 'statement\'s completion event is lost, the state waits up to a year (the execution\'s limit). Set taskTimeout '
        + 'to the time the statement may take, and catch States.Timeout.');
    }
    if (this.props.heartbeatTimeout !== undefined || this.props.heartbeat !== undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:heartbeatTimeout`, `${this.node.path} has a heartbeat `
        + 'timeout, but nothing sends heartbeats while a statement runs: every statement that runs longer fails with '
        + 'States.HeartbeatTimeout. Use taskTimeout for the time budget instead.');
    }
  }
}

/** Retries of a serializable isolation violation by default, and at most. */
const DEFAULT_CONFLICT_RETRIES = 3;
const MAX_CONFLICT_RETRIES = 10;

/** The SQL props of a task: exactly one of `sql` and `sqlStatements`, a valid list, valid parameters. */
function checkRunProps(props: RedshiftSqlTaskOptions, errors: string[]): void {
  if (props.tasker === undefined) errors.push('tasker is required; got undefined. Pass the SfnRedshiftTasker that runs the SQL.');
  if (props.sql === undefined && props.sqlStatements === undefined) {
    errors.push('Give exactly one of sql (one statement) and sqlStatements (a transaction of several); got neither. Pass '
      + 'sql: \'select ...\' for one statement, or sqlStatements: [...] for a transaction.');
  } else if (props.sql !== undefined && props.sqlStatements !== undefined) {
    errors.push('Give exactly one of sql (one statement) and sqlStatements (a transaction of several); got both. '
      + 'Remove one of them.');
  }
  if (props.sql !== undefined) checkSql('sql', props.sql, errors);
  if (props.sqlStatements !== undefined) {
    checkStatementList('sqlStatements', props.sqlStatements, errors);
  }
  checkExecutionMode('executionMode', props.executionMode?.value, props.sqlStatements !== undefined, 'sqlStatements', errors);
  const retries = props.conflictRetries;
  if (retries !== undefined && !Token.isUnresolved(retries) && (!Number.isInteger(retries) || retries < 0 || retries > MAX_CONFLICT_RETRIES)) {
    errors.push(`conflictRetries must be a whole number from 0 to ${MAX_CONFLICT_RETRIES}; got ${retries}. Use 0 to turn `
      + 'the retry off, or a small number such as 3.');
  }
  checkParameters('parameters', props.parameters, errors);
  checkSession(props.sessionKeepAlive, props.sessionId, errors);
  checkTaskParameters(props.sql, props.sqlStatements, props.parameters, errors);
}
