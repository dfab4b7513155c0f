/**
 * Building blocks of the example state machines: the two ways a state calls the starter function, and the slow
 * stored procedure the examples use to have a statement that runs for a while.
 */
import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { NagPackSuppression, NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { Field, LATEST } from '../../src/contract';

/** Name of the slow procedure (created by the example app's `rs_slow_procedure` custom resource). */
export const SLOW_PROCEDURE = 'public.sp_wait';

/**
 * A stored procedure that returns after `seconds` seconds. It loops on `timeofday()`, the wall clock (`getdate()` and
 * `sysdate` stay at the start of the statement or transaction). Redshift no longer accepts new Python UDFs, so the
 * original's `plpythonu` sleep function cannot be created any more; this is plain PL/pgSQL, valid on Redshift and
 * PostgreSQL. The loop keeps one leader-node slot busy while it waits: use it for demonstrations, not production.
 */
export const SLOW_PROCEDURE_CREATE_SQL = `CREATE OR REPLACE PROCEDURE ${SLOW_PROCEDURE}(seconds int)
AS $$
DECLARE
  deadline float8;
BEGIN
  deadline := extract(epoch from timeofday()::timestamp) + seconds;
  WHILE extract(epoch from timeofday()::timestamp) < deadline LOOP
    NULL;
  END LOOP;
END;
$$ LANGUAGE plpgsql`;

/** Drops the slow procedure (idempotent). */
export const SLOW_PROCEDURE_DROP_SQL = `DROP PROCEDURE IF EXISTS ${SLOW_PROCEDURE}(int)`;

/** The statement that takes `seconds` seconds. */
export function slowStatement(seconds: number): string {
  return `CALL ${SLOW_PROCEDURE}(${seconds})`;
}

/** A statement that succeeds at once and returns one row. */
export const SUCCEEDING_STATEMENT = 'select getdate()';

/** A statement that fails: `get_date` is not a function (the function is `getdate`). */
export const FAILING_STATEMENT = 'select get_date()';

/** The current execution's ARN (`$$.Execution.Id`), which the tasker uses to find the `LATEST` statement. */
export const EXECUTION_ARN = sfn.JsonPath.stringAt('$$.Execution.Id');

/**
 * Data API errors after which the statement did not start and a later attempt can succeed: too many statements
 * running on the cluster or workgroup, a service error, no connection to the database.
 */
export const DATA_API_TRANSIENT_ERRORS = ['ActiveStatementsExceededException', 'InternalServerException', 'DatabaseConnectionException'] as const;

export interface RedshiftCallbackTaskProps {
  /** The tasker's `lambdaFunction`. */
  readonly lambdaFunction: lambda.IFunction;
  /** The SQL to run. */
  readonly sqlStatement: string;
  /** `executeSingletonStatement` to refuse starting while the same SQL runs. @default - executeStatement */
  readonly action?: string;
  /** How long the state waits for the statement to end before it fails with `States.Timeout`. */
  readonly timeout: Duration;
  /** Where the completion event goes in the state's output. @default '$' */
  readonly resultPath?: string;
  readonly comment?: string;
}

/**
 * A task that runs SQL and waits for it to end (`lambda:invoke.waitForTaskToken`): it succeeds with the status-change
 * event when the statement finishes, and fails with `FAILED` when it fails or is aborted.
 *
 * Retries: the Lambda service errors (`LambdaInvoke`'s default, 2 s, 6 attempts, backoff 2) and the Data API's
 * transient errors (`DATA_API_TRANSIENT_ERRORS`: the statement did not start; wait and try again). Nothing else is
 * retried: `FAILED` (the SQL failed; running it again is your decision), `ConcurrentExecution` (an outcome, not an
 * accident) and `States.Timeout` (cancel the statement instead, see the cancelling example).
 */
export function redshiftCallbackTask(scope: Construct, id: string, props: RedshiftCallbackTaskProps): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: props.lambdaFunction,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({
      [Field.TASK_TOKEN]: sfn.JsonPath.taskToken,
      [Field.EXECUTION_ARN]: EXECUTION_ARN,
      [Field.SQL_STATEMENT]: props.sqlStatement,
      ...props.action !== undefined ? { [Field.ACTION]: props.action } : {},
    }),
    taskTimeout: sfn.Timeout.duration(props.timeout),
    resultPath: props.resultPath,
    comment: props.comment,
  });
  task.addRetry({
    errors: [...DATA_API_TRANSIENT_ERRORS],
    interval: Duration.seconds(10),
    maxAttempts: 5,
    backoffRate: 2,
  });
  return task;
}

export interface RedshiftRequestTaskProps {
  /** The tasker's `lambdaFunction`. */
  readonly lambdaFunction: lambda.IFunction;
  /** The request (see the invocation API): describe, cancel, fetch results, or execute without a callback. */
  readonly request: Record<string, unknown>;
  /** Where the function's answer goes in the state's output. @default '$' */
  readonly resultPath?: string;
  /** @default 1 minute */
  readonly timeout?: Duration;
  readonly comment?: string;
}

/** A task that calls the tasker and continues with its answer (a plain synchronous invoke, no callback). */
export function redshiftRequestTask(scope: Construct, id: string, props: RedshiftRequestTaskProps): tasks.LambdaInvoke {
  return new tasks.LambdaInvoke(scope, id, {
    lambdaFunction: props.lambdaFunction,
    payload: sfn.TaskInput.fromObject(props.request),
    payloadResponseOnly: true,
    taskTimeout: sfn.Timeout.duration(props.timeout ?? Duration.minutes(1)),
    resultPath: props.resultPath,
    comment: props.comment,
  });
}

/** A request about the statement this execution started last (`statementId: LATEST`). */
export function latestStatementRequest(action: string): Record<string, unknown> {
  return { [Field.STATEMENT_ID]: LATEST, [Field.EXECUTION_ARN]: EXECUTION_ARN, [Field.ACTION]: action };
}

export interface ExampleMachineProps {
  /** The tasker's `lambdaFunction` the machine calls. */
  readonly lambdaFunction: lambda.IFunction;
  /** Where the machine logs its executions. */
  readonly logGroup: logs.ILogGroup;
}

/**
 * A standard state machine with execution logging (level ALL, without execution data: the input and output hold
 * task tokens) and X-Ray tracing, and the cdk-nag suppressions of its role with their reasons.
 */
export function exampleStateMachine(scope: Construct, id: string, definition: sfn.IChainable, props: {
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  readonly comment: string;
  /** The functions the machine invokes (for the suppression of their `:*` ARNs). */
  readonly invokedFunctions: lambda.IFunction[];
}): sfn.StateMachine {
  const machine = new sfn.StateMachine(scope, id, {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: props.timeout,
    comment: props.comment,
    tracingEnabled: true,
    logs: { destination: props.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
  });
  const policy = machine.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (policy !== undefined) {
    NagSuppressions.addResourceSuppressions(policy, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Step Functions needs the CloudWatch Logs delivery actions (logs:CreateLogDelivery, logs:GetLogDelivery, '
        + 'logs:UpdateLogDelivery, logs:DeleteLogDelivery, logs:ListLogDeliveries, logs:PutResourcePolicy, '
        + 'logs:DescribeResourcePolicies, logs:DescribeLogGroups) and X-Ray (xray:PutTraceSegments, '
        + 'xray:PutTelemetryRecords, xray:GetSamplingRules, xray:GetSamplingTargets) on "*": these actions support '
        + 'no resource-level permissions.',
      appliesTo: ['Resource::*'],
    }, ...invokeSuppressions(props.invokedFunctions)]);
  }
  return machine;
}

/** `LambdaInvoke` grants `lambda:InvokeFunction` on the function and on `<function ARN>:*` (its versions and aliases). */
function invokeSuppressions(functions: lambda.IFunction[]): NagPackSuppression[] {
  const appliesTo = functions
    .map((fn) => fn.node.defaultChild)
    .filter((child): child is CfnResource => child instanceof CfnResource)
    .map((cfn) => `Resource::<${Stack.of(cfn).resolve(cfn.logicalId)}.Arn>:*`);
  return appliesTo.length === 0 ? [] : [{
    id: 'AwsSolutions-IAM5',
    reason: 'lambda:InvokeFunction on "<function ARN>:*" (granted by LambdaInvoke) covers the versions and aliases of '
      + 'the starter function the machine calls, and nothing else.',
    appliesTo,
  }];
}
