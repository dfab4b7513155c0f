import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { Action, Field, LATEST, show } from './contract';
import { RowFormat } from './options';
import { checkResultExport, exportFields, grantResultExport } from './private/result-export';
import { checkRowFormat, isLiteral, throwIfInvalid } from './private/sql-validation';
import {
  addServiceRetries, executionArnValue, invokeStatement, lambdaTaskMetrics, queryLanguageOf, rejectJsonPathInJsonata,
} from './private/task-support';
import { RedshiftTaskOptions, ResultExport } from './task-options';

/**
 * What `RedshiftStatementTask` asks the tasker about a statement.
 */
export class StatementAction {
  /**
   * `describeStatement`: the statement's status (`SUBMITTED`, `PICKED`, `STARTED`, `FINISHED`, `ABORTED`, `FAILED`),
   * Redshift's error text, its SQL, timings and row counts (the Data API's `DescribeStatement`, as plain JSON).
   */
  public static readonly DESCRIBE = new StatementAction(Action.DESCRIBE_STATEMENT);

  /**
   * `cancelStatement`: asks Redshift to cancel the statement; succeeds with `{ "Status": true }` when the cancel was
   * accepted. The statement then ends `ABORTED` (describe it until it does).
   */
  public static readonly CANCEL = new StatementAction(Action.CANCEL_STATEMENT);

  /**
   * `getStatementResult`: one page of the statement's result (`Records`, `ColumnMetadata`, `TotalNumRows`,
   * `NextToken`), at most about 200 KiB so that it fits a state; pass `NextToken` back as `nextToken`.
   */
  public static readonly FETCH_RESULT = new StatementAction(Action.GET_STATEMENT_RESULT);

  /**
   * `exportResult`: writes the whole result of a finished statement to S3 (`resultExport`): succeeds with
   * `{statementId, hasResultSet, bucket, key, rows, bytes, format, columns}` (for a list of statements,
   * `{statements: [...]}`), ready for a `DistributedMap`'s `ItemReader`. The Data API keeps results 24 hours.
   */
  public static readonly EXPORT_RESULT = new StatementAction(Action.EXPORT_RESULT);

  /** @param value the invocation API's action name */
  private constructor(public readonly value: string) {}

  /** The invocation API's action name. */
  public toString(): string {
    return this.value;
  }
}

/**
 * What `RedshiftStatementTask` asks, and about which statement.
 */
export interface RedshiftStatementTaskOptions extends RedshiftTaskOptions {
  /**
   * What to do: `StatementAction.DESCRIBE`, `StatementAction.CANCEL` or `StatementAction.FETCH_RESULT`.
   */
  readonly action: StatementAction;

  /**
   * The Data API statement id, for example from the state input (`sfn.JsonPath.stringAt('$.started.Id')`, or
   * `'{% $states.input.started.Id %}'` in JSONata). For a batch's results, a sub-statement id (`<id>:1`, ...).
   *
   * @default 'LATEST': the statement this execution started last (in a `Parallel` state, of any branch)
   */
  readonly statementId?: string;

  /**
   * With `StatementAction.FETCH_RESULT`: the `NextToken` of the previous page.
   *
   * @default - the first page
   */
  readonly nextToken?: string;

  /**
   * With `StatementAction.FETCH_RESULT`: the page's rows as the Data API's typed fields (`Records`, `ColumnMetadata`,
   * `TotalNumRows`, `NextToken`) or, with `RowFormat.OBJECTS`, as plain objects keyed by column name:
   * `{columns: [{name, type}], rows: [...], rowCount, NextToken}` (`rowCount`: the statement's rows in all pages).
   *
   * @default RowFormat.TYPED_CELLS
   */
  readonly rowFormat?: RowFormat;

  /**
   * With `StatementAction.EXPORT_RESULT` (and only with it, where it is required): where and how to write the result.
   * The tasker's function gets the grant to write under the prefix.
   *
   * @default - none
   */
  readonly resultExport?: ResultExport;
}

/**
 * Properties of `RedshiftStatementTask` in JSONPath.
 */
export interface RedshiftStatementTaskJsonPathProps extends RedshiftStatementTaskOptions, sfn.TaskStateJsonPathBaseProps {}

/**
 * Properties of `RedshiftStatementTask` in JSONata.
 */
export interface RedshiftStatementTaskJsonataProps extends RedshiftStatementTaskOptions, sfn.TaskStateJsonataBaseProps {}

/**
 * Properties of `RedshiftStatementTask`.
 */
export interface RedshiftStatementTaskProps extends RedshiftStatementTaskOptions, sfn.TaskStateBaseProps {}

/**
 * A Step Functions task that describes, cancels, reads or exports the result of a statement a `SfnRedshiftTasker` started,
 * in one call: it invokes the tasker's function and succeeds with its answer (plain JSON, no SDK metadata).
 *
 * Errors: `PreviousExecutionNotFound` (`LATEST` found no statement of this execution), `InvalidRequest`, and the
 * Data API's errors by their names (`ValidationException` when, for example, the statement has no result).
 */
export class RedshiftStatementTask extends sfn.TaskStateBase {
  /**
   * A task that describes, cancels or reads a statement, in JSONPath.
   */
  public static jsonPath(scope: Construct, id: string, props: RedshiftStatementTaskJsonPathProps): RedshiftStatementTask {
    return new RedshiftStatementTask(scope, id, props);
  }

  /**
   * A task that describes, cancels or reads a statement, in JSONata.
   */
  public static jsonata(scope: Construct, id: string, props: RedshiftStatementTaskJsonataProps): RedshiftStatementTask {
    return new RedshiftStatementTask(scope, id, { ...props, queryLanguage: sfn.QueryLanguage.JSONATA });
  }

  protected readonly taskMetrics?: sfn.TaskMetricsConfig;
  protected readonly taskPolicies?: iam.PolicyStatement[];

  constructor(scope: Construct, id: string, private readonly props: RedshiftStatementTaskProps) {
    super(scope, id, props);
    const errors: string[] = [];
    if (props.tasker === undefined) errors.push('tasker is required; got undefined. Pass the SfnRedshiftTasker that started the statement.');
    if (!(props.action instanceof StatementAction)) {
      errors.push(`action must be StatementAction.DESCRIBE, CANCEL, FETCH_RESULT or EXPORT_RESULT; got ${show(props.action)}. `
        + 'Pass one of them (action: StatementAction.DESCRIBE, say).');
    }
    if (props.integrationPattern !== undefined && props.integrationPattern !== sfn.IntegrationPattern.REQUEST_RESPONSE) {
      errors.push('integrationPattern must be REQUEST_RESPONSE: describing, cancelling and reading results answer at '
        + `once; got ${props.integrationPattern}. Remove integrationPattern.`);
    }
    if (props.nextToken !== undefined && props.action !== StatementAction.FETCH_RESULT) {
      errors.push(`nextToken pages a result; it only works with StatementAction.FETCH_RESULT, got ${show(props.action?.value)}. `
        + 'Remove nextToken.');
    }
    if (props.rowFormat !== undefined && props.action !== StatementAction.FETCH_RESULT) {
      errors.push(`rowFormat shapes the rows of a result; it only works with StatementAction.FETCH_RESULT, got ${show(props.action?.value)}. `
        + 'Remove rowFormat.');
    }
    checkRowFormat('rowFormat', props.rowFormat, errors);
    if ((props.resultExport !== undefined) !== (props.action === StatementAction.EXPORT_RESULT)) {
      errors.push(props.resultExport === undefined
        ? 'StatementAction.EXPORT_RESULT needs resultExport; got none. Pass resultExport: { bucket, keyPrefix }.'
        : `resultExport only works with StatementAction.EXPORT_RESULT; got ${show(props.action?.value)}. Remove resultExport, `
          + 'or use resultExport of RedshiftSqlTask to export when the statement finishes.');
    }
    checkResultExport('resultExport', props.resultExport, errors);
    if (props.statementId !== undefined && isLiteral(props.statementId)
      && (props.statementId.trim() === '' || props.statementId.length > 128)) {
      errors.push(`statementId must be a Data API statement id (or omitted for ${LATEST}); got ${show(props.statementId)}. `
        + `Pass the Id a start returned (sfn.JsonPath.stringAt('$.started.Id'), say), or omit statementId for ${LATEST}.`);
    }
    throwIfInvalid('RedshiftStatementTask', this.node.path, errors);

    this.taskMetrics = lambdaTaskMetrics(props.tasker.lambdaFunction);
    this.taskPolicies = [invokeStatement(props.tasker.lambdaFunction)];
    if (props.resultExport !== undefined) grantResultExport(this, props.tasker, props.resultExport);
    if (props.retryOnServiceExceptions ?? true) addServiceRetries(this);
  }

  /**
   * @internal
   */
  protected _renderTask(topLevelQueryLanguage?: sfn.QueryLanguage): any {
    const queryLanguage = queryLanguageOf(topLevelQueryLanguage, this.props.queryLanguage);
    const { action, statementId, nextToken, rowFormat, resultExport } = this.props;
    rejectJsonPathInJsonata(queryLanguage, { statementId, nextToken, exportKeyPrefix: resultExport?.keyPrefix }, this.node.path);
    const payload = {
      [Field.ACTION]: action.value,
      [Field.STATEMENT_ID]: statementId ?? LATEST,
      [Field.EXECUTION_ARN]: executionArnValue(queryLanguage),
      ...nextToken !== undefined ? { [Field.NEXT_TOKEN]: nextToken } : {},
      ...rowFormat !== undefined ? { [Field.ROW_FORMAT]: rowFormat.value } : {},
      ...resultExport !== undefined ? exportFields(resultExport) : {},
    };
    return { Resource: this.props.tasker.lambdaFunction.functionArn, ...this._renderParametersOrArguments(payload, queryLanguage) };
  }
}
