/**
 * Building blocks of the example state machines: the statements they run (the slow stored procedure gives a
 * statement that runs for a while), and the state machine every example is (logging, tracing, cdk-nag).
 */
import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagPackSuppression, NagSuppressions } from 'cdk-nag';
import { Construct, IConstruct } from 'constructs';
import { SfnRedshiftTasker } from '../../src';

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

export interface ExampleMachineProps {
  /** The tasker the machine runs its SQL with. */
  readonly tasker: SfnRedshiftTasker;
  /** Where the machine logs its executions. */
  readonly logGroup: logs.ILogGroup;
  /** The durations of the slow statements, the budgets and the waits. */
  readonly timing: ExampleTiming;
}

/**
 * The durations the example machines play with, in whole seconds (Step Functions' `TimeoutSeconds` and `Wait` take
 * whole seconds). The deployed example uses `DEFAULT_TIMING`; the local run shortens them, since the machines show
 * the same behaviour whatever the durations.
 */
export interface ExampleTiming {
  /** How long the cancelling machine waits for its slow statement before it cancels it (`TimeoutSeconds`). */
  readonly cancelAfterSeconds: number;
  /** The wait between two checks of the cancelled statement's status. */
  readonly cancelCheckIntervalSeconds: number;
  /** How long the polled statement runs. */
  readonly polledStatementSeconds: number;
  /** The wait between two polls. */
  readonly pollIntervalSeconds: number;
  /** How long the singleton statement runs: long enough for every parallel branch to try while it runs. */
  readonly singletonStatementSeconds: number;
}

/** The durations of the deployed example. */
export const DEFAULT_TIMING: ExampleTiming = {
  cancelAfterSeconds: 10,
  cancelCheckIntervalSeconds: 3,
  polledStatementSeconds: 20,
  pollIntervalSeconds: 5,
  singletonStatementSeconds: 15,
};

/**
 * A standard state machine with execution logging (level ALL, without execution data: the input and output hold
 * task tokens) and X-Ray tracing, and the cdk-nag suppressions of its role with their reasons.
 */
export function exampleStateMachine(scope: Construct, id: string, definition: sfn.IChainable, props: {
  readonly logGroup: logs.ILogGroup;
  readonly timeout: Duration;
  readonly comment: string;
  /** @default JSONPath */
  readonly queryLanguage?: sfn.QueryLanguage;
  /** Functions the machine invokes through `tasks.LambdaInvoke` (which grants `<function ARN>:*` too). */
  readonly lambdaInvokeFunctions?: lambda.IFunction[];
}): sfn.StateMachine {
  const machine = new sfn.StateMachine(scope, id, {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    timeout: props.timeout,
    comment: props.comment,
    queryLanguage: props.queryLanguage,
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
    }, ...invokeSuppressions(props.lambdaInvokeFunctions ?? [])]);
  }
  return machine;
}

/**
 * Accepts cdk-nag's `AwsSolutions-IAM5` (a wildcard in a resource) on `resource`'s policy, only for the resources that
 * match `pattern` (a regular expression over cdk-nag's `Resource::...` text), and says why.
 */
export function acceptWildcard(resource: IConstruct, pattern: string, reason: string): void {
  NagSuppressions.addResourceSuppressions(resource, [{ id: 'AwsSolutions-IAM5', reason, appliesTo: [{ regex: pattern }] }]);
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
