import { Annotations, CustomResource, Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BUILT_IN_ATTRIBUTES, CustomResource as CustomResourceNames, ResourceProperty, show } from './contract';
import { BatchExecutionMode } from './options';
import { WARNING_PREFIX } from './private/defaults';
import { checkExecutionMode, checkParameters, checkResourceParameters, checkStatementList, throwIfInvalid } from './private/sql-validation';
import { SfnRedshiftTasker } from './tasker';

/**
 * Properties of `RedshiftSql`.
 */
export interface RedshiftSqlProps {
  /**
   * The tasker that runs the SQL. Its starter function is the custom resource's service token: it runs the SQL of
   * each request and answers CloudFormation when the statement ends.
   */
  readonly tasker: SfnRedshiftTasker;

  /**
   * The SQL run when the resource is created: a list, even for one statement (`['create table ...']`), or several
   * statements run in order as one transaction (any failure rolls them all back; see `executionMode`). A failed Create reports the physical id `<LogicalResourceId>:CREATE_FAILED`, and the
   * rollback's Delete of that id runs no SQL.
   */
  readonly onCreate: string[];

  /**
   * The SQL run when a property of the resource changes (a statement, or a transaction). The resource is updated in
   * place (same physical id). When the update fails, CloudFormation rolls back with a second Update back to the old
   * properties, which runs the old `onUpdate`: make it idempotent (`create or replace view ...`) or a transaction.
   *
   * @default - an Update runs no SQL; a changed `onCreate` is not applied (give the resource a new id to re-create
   * it), a changed `onDelete` is what the next Delete runs
   */
  readonly onUpdate?: string[];

  /**
   * The SQL run when the resource is deleted (a statement, or a transaction). Make it succeed when the object is
   * already gone (`drop table if exists ...`): a failed Delete leaves the stack in `DELETE_FAILED`.
   *
   * @default - a Delete runs no SQL (the objects stay in the database)
   */
  readonly onDelete?: string[];

  /**
   * Named parameters, name → value: `{ region: 'EMEA' }` binds `:region` (the Data API binds the values; they are
   * never spliced into the SQL). The SQL of each request type (a statement or a list) gets the parameters it names;
   * literal SQL must use every name given, and every name it uses must be given (checked at synth). Values may be
   * tokens (an attribute of another resource, say).
   *
   * @default - no parameters
   */
  readonly parameters?: { [name: string]: string };

  /**
   * How a list of several statements runs: `BatchExecutionMode.TRANSACTION` (all or nothing) or
   * `BatchExecutionMode.AUTO_COMMIT` (each statement commits on its own, so `VACUUM` or `CREATE DATABASE` can run; a
   * failure stops the list and keeps what ran before it — make such SQL idempotent, `create ... if not exists`, since
   * a retried request runs the whole list again). Applies to `onCreate`, `onUpdate` and `onDelete` alike.
   *
   * @default BatchExecutionMode.TRANSACTION
   */
  readonly executionMode?: BatchExecutionMode;

  /**
   * How long CloudFormation waits for the answer before it fails the request (1 second to 1 hour). A lost completion
   * event then fails the deployment after this time instead of the hour. Without it the construct warns at synth
   * (`cdk-stepfunctions-redshift:serviceTimeout`; acknowledge it to keep CloudFormation's hour).
   *
   * @default Duration.hours(1)
   */
  readonly serviceTimeout?: Duration;

  /**
   * Whether the one row the SQL returns (for a list, the last statement that returns rows) becomes the resource's
   * attributes, one per column, read with `getResultAttribute('column')` (`Fn::GetAtt`): values as strings (numbers
   * and booleans as JSON, NULL as an empty string; the conversions of `RowFormat.OBJECTS`). CloudFormation limits a
   * response to 4,096 bytes: a row that does not fit, no row, several rows or a column named `statementId`, `state` or
   * `rows` (the built-in attributes) fail the Create or Update with a reason that says so (the SQL ran: a failed
   * Create's rollback runs `onDelete`). On Create and Update; a Delete answers without them.
   *
   * @default false
   */
  readonly resultAttributes?: boolean;
}

/**
 * SQL in a stack: runs `onCreate`, `onUpdate` and `onDelete` on Amazon Redshift when the resource is created,
 * updated or deleted, and the stack waits for each statement through the tasker's callback, without a function of
 * its own (the service token is the tasker's starter function).
 *
 * The resource depends on the tasker's resources and on its callback infrastructure (for a tasker with
 * `createCallbackInfra: false`, the infrastructure of the tasker that owns its tracking table), so the completion
 * events of its statements are caught on create and on delete.
 */
export class RedshiftSql extends Construct {
  /**
   * The custom resource (`Custom::RedshiftSql`). After a statement it carries the attributes `statementId`, `state`
   * and `rows` (not after a request that ran no SQL).
   */
  public readonly customResource: CustomResource;
  private readonly resultAttributes: boolean;

  constructor(scope: Construct, id: string, props: RedshiftSqlProps) {
    super(scope, id);
    const errors: string[] = [];
    if (props.tasker === undefined) errors.push('tasker is required; got undefined. Pass the SfnRedshiftTasker that runs the SQL.');
    if (props.onCreate === undefined) {
      errors.push('onCreate is required: the SQL run when the resource is created; got undefined. Pass onCreate: a list '
        + 'of statements, even for one (onCreate: [\'create table ...\']).');
    } else {
      checkStatementList('onCreate', props.onCreate, errors);
    }
    if (props.onUpdate !== undefined) checkStatementList('onUpdate', props.onUpdate, errors);
    if (props.onDelete !== undefined) checkStatementList('onDelete', props.onDelete, errors);
    checkParameters('parameters', props.parameters, errors);
    checkResourceParameters({ onCreate: props.onCreate, onUpdate: props.onUpdate, onDelete: props.onDelete }, props.parameters, errors);
    checkExecutionMode('executionMode', props.executionMode?.value, true, 'onCreate, onUpdate or onDelete', errors);
    const timeout = props.serviceTimeout;
    if (timeout !== undefined && !timeout.isUnresolved() && (timeout.toMilliseconds() < 1000 || timeout.toSeconds() > 3600)) {
      errors.push(`serviceTimeout must be from 1 second to 1 hour (CloudFormation's limit); got ${timeout.toHumanString()}. `
        + 'Use a duration in that range (Duration.minutes(10), say), or omit it for the hour.');
    }
    throwIfInvalid('RedshiftSql', this.node.path, errors);

    // Id `Default`: the resource's logical id is the construct's own (`SalesTable`, not `SalesTableResource1A2B3C4D`),
    // and it names the statements (`<LogicalResourceId>:<invocationId>`).
    this.customResource = new CustomResource(this, 'Default', {
      serviceToken: props.tasker.lambdaFunction.functionArn,
      resourceType: CustomResourceNames.SQL_RESOURCE_TYPE,
      serviceTimeout: timeout,
      properties: {
        [ResourceProperty.ON_CREATE]: statementsProperty(props.onCreate),
        ...props.onUpdate !== undefined ? { [ResourceProperty.ON_UPDATE]: statementsProperty(props.onUpdate) } : {},
        ...props.onDelete !== undefined ? { [ResourceProperty.ON_DELETE]: statementsProperty(props.onDelete) } : {},
        ...props.parameters !== undefined ? { [ResourceProperty.PARAMETERS]: props.parameters } : {},
        ...props.executionMode !== undefined ? { [ResourceProperty.EXECUTION_MODE]: props.executionMode.value } : {},
        ...props.resultAttributes ? { [ResourceProperty.RESULT_ATTRIBUTES]: 'true' } : {},
      },
    });
    this.resultAttributes = props.resultAttributes === true;
    this.dependOnCallbackInfrastructure(props.tasker);
    if (timeout === undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:serviceTimeout`, `${this.node.path} has no serviceTimeout: if no `
        + 'answer comes (a completion event lost and not reconciled, a function that fails before it answers), CloudFormation '
        + 'waits an hour before it fails the request. Set serviceTimeout to the time the SQL may take (Duration.minutes(10), say), or acknowledge this '
        + 'warning to keep the hour.');
    }
  }

  /**
   * A column of the row the SQL returned (`resultAttributes: true`), as `Fn::GetAtt` of the resource: a string.
   *
   * @param column the column's name in the result (as `RowFormat.OBJECTS` names it)
   */
  public getResultAttribute(column: string): string {
    if (!this.resultAttributes) {
      throw new Error(`${this.node.path}: getResultAttribute reads the row of resultAttributes; got resultAttributes off. Set `
        + 'resultAttributes: true on the resource, and make its SQL return one row.');
    }
    if ((BUILT_IN_ATTRIBUTES as readonly string[]).includes(column) || column.trim() === '') {
      throw new Error(`${this.node.path}: getResultAttribute needs a column of the SQL's row; got ${show(column)}, which is `
        + `${column.trim() === '' ? 'empty' : 'a built-in attribute'}. Use customResource.getAttString('${column}') for `
        + 'the built-in attributes, or pass a column name.');
    }
    return this.customResource.getAttString(column);
  }

  /**
   * On Create the completion event is only caught once the rule, the queue and the event source mapping exist; on
   * Delete they must outlive the resource's last statement.
   */
  private dependOnCallbackInfrastructure(tasker: SfnRedshiftTasker): void {
    // Everything of the tasker but its starter function, which the service token already references (Fn::GetAtt): a
    // DependsOn on it would be redundant (cfn-lint W3005). The function depends on its policy itself.
    for (const child of tasker.node.children) {
      if (child !== tasker.lambdaFunction) this.customResource.node.addDependency(child);
    }
    const owner = callbackInfrastructureOwner(tasker);
    if (owner !== undefined) {
      if (owner !== tasker) this.customResource.node.addDependency(owner);
      return;
    }
    Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:callbackInfrastructure`, `The tasker ${tasker.node.path} has no `
      + 'callback infrastructure of its own, and its tracking table does not belong to a tasker of this app, so the '
      + 'resource cannot depend on the infrastructure that completes its statements. Add that dependency yourself '
      + `(${this.node.path}.node.addDependency(<the tasker with the rule and the queue>)), or an event can be missed `
      + 'while the stack is created or deleted.');
  }
}

/**
 * The tasker whose rule, queue and completer complete `tasker`'s statements: itself, or, with
 * `createCallbackInfra: false`, the tasker that owns the tracking table it shares (`undefined` if unknown).
 */
function callbackInfrastructureOwner(tasker: SfnRedshiftTasker): SfnRedshiftTasker | undefined {
  if (tasker.rule !== undefined) return tasker;
  const tableOwner = tasker.trackingTable.node.scope;
  return tableOwner instanceof SfnRedshiftTasker && tableOwner.rule !== undefined ? tableOwner : undefined;
}

/** One statement as a string, several as a list (the handler accepts both; templates read better this way). */
function statementsProperty(statements: string[]): string | string[] {
  if (Token.isUnresolved(statements) || statements.length !== 1) return statements;
  return statements[0];
}
