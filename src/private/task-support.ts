/**
 * What the task states that call the tasker share: the permission to invoke it, the retries a user would otherwise
 * copy from the docs, the execution and task-token values in each query language, and the task metrics.
 */
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RETRYABLE_DATA_API_ERRORS } from '../contract';

/** The Lambda service errors Step Functions advises retrying (what `tasks.LambdaInvoke` retries by default). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException',
];

/** `lambda:InvokeFunction` on the function itself: the tasks invoke it unqualified, never a version or an alias. */
export function invokeStatement(fn: lambda.IFunction): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] });
}

/**
 * The retries of every task that calls the tasker: the Lambda service errors (2 s, backoff 2, 6 attempts, as
 * `LambdaInvoke`), then the Data API's retryable errors, after which the statement did not start (10 s, backoff 2,
 * 5 attempts). Nothing else: `FAILED`, `ConcurrentExecution` and `States.Timeout` are outcomes to catch.
 */
export function addServiceRetries(task: sfn.TaskStateBase): void {
  task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 });
  task.addRetry({ errors: [...RETRYABLE_DATA_API_ERRORS], interval: Duration.seconds(10), maxAttempts: 5, backoffRate: 2 });
}

/** The query language a state renders in: its own, else the state machine's, else JSONPath. */
export function queryLanguageOf(topLevel: sfn.QueryLanguage | undefined, own: sfn.QueryLanguage | undefined): sfn.QueryLanguage {
  return own ?? topLevel ?? sfn.QueryLanguage.JSON_PATH;
}

/** The current execution's ARN, which the tasker records so that `statementId: LATEST` finds the statement. */
export function executionArnValue(queryLanguage: sfn.QueryLanguage): string {
  return queryLanguage === sfn.QueryLanguage.JSONATA ? '{% $states.context.Execution.Id %}' : sfn.JsonPath.stringAt('$$.Execution.Id');
}

/** The task token the tasker calls back with. */
export function taskTokenValue(queryLanguage: sfn.QueryLanguage): string {
  return queryLanguage === sfn.QueryLanguage.JSONATA ? '{% $states.context.Task.Token %}' : sfn.JsonPath.taskToken;
}

/**
 * A JSONata state cannot read JSONPath values (`sfn.JsonPath.stringAt(...)`): throws, naming them and the fix.
 */
export function rejectJsonPathInJsonata(queryLanguage: sfn.QueryLanguage, payload: object, path: string): void {
  if (queryLanguage !== sfn.QueryLanguage.JSONATA) return;
  const paths = [...sfn.FieldUtils.findReferencedPaths(payload as { [key: string]: unknown })];
  if (paths.length > 0) {
    throw new Error(`${path} renders in JSONata but its props use JSONPath values; got ${paths.join(', ')}. Use JSONata `
      + 'expressions instead (for example \'{% $states.input.sql %}\'), or create the state with jsonPath().');
  }
}

/** The task metrics of a Lambda task, for `metricRunTime()` and the others. */
export function lambdaTaskMetrics(fn: lambda.IFunction): sfn.TaskMetricsConfig {
  return {
    metricPrefixSingular: 'LambdaFunction',
    metricPrefixPlural: 'LambdaFunctions',
    metricDimensions: { LambdaFunctionArn: fn.functionArn },
  };
}
