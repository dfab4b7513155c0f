import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ExampleMachineProps, SUCCEEDING_STATEMENT, exampleStateMachine } from './util';
import { SfnRedshiftTaskerErrors } from '../../src';
import { Action, Field, LATEST } from '../../src/contract';

/**
 * The happy path: run a statement, wait for it to finish (callback), then read its result with `statementId: LATEST`
 * (the statement this execution started last).
 *
 * The reference of the raw payload: this machine calls the tasker with `tasks.LambdaInvoke`, writing the invocation
 * API's fields itself (what `RedshiftSqlTask` and `RedshiftStatementTask` render), as a state machine written in
 * JSON or in another tool would. The other examples use those classes.
 */
export class SingleSuccessMachine {
  public static readonly ID = 'SimpleStateMachineSuccessRSCallbackIntegration';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const fn = props.tasker.lambdaFunction;
    const failure = new sfn.Fail(scope, 'Failure1', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    // Starts the statement and waits for the tasker's callback; its result is the completion event.
    const run = new tasks.LambdaInvoke(scope, 'SimpleSuccessfullRsTaskProcedure', {
      lambdaFunction: fn,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        [Field.TASK_TOKEN]: sfn.JsonPath.taskToken,
        [Field.EXECUTION_ARN]: sfn.JsonPath.stringAt('$$.Execution.Id'),
        [Field.SQL_STATEMENT]: SUCCEEDING_STATEMENT,
      }),
      taskTimeout: sfn.Timeout.duration(Duration.hours(1)),
      resultPath: '$.executionDetails',
      comment: 'Runs the statement and waits for its completion event',
    });
    // The statement did not start: wait and try again (LambdaInvoke retries the Lambda service errors itself).
    run.addRetry({ errors: SfnRedshiftTaskerErrors.RETRYABLE_DATA_API_ERRORS, interval: Duration.seconds(10), maxAttempts: 5, backoffRate: 2 });
    // A serializable isolation violation rolled the statement back: running it again is safe (a new statement).
    run.addRetry({
      errors: [SfnRedshiftTaskerErrors.SERIALIZATION_CONFLICT],
      interval: Duration.seconds(2),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    run.addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    // A plain synchronous invoke: the function's answer (one result page) is the state's result.
    const getResult = new tasks.LambdaInvoke(scope, 'simpleSuccessfullRsTaskGetResult', {
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        [Field.ACTION]: Action.GET_STATEMENT_RESULT,
        [Field.STATEMENT_ID]: LATEST,
        [Field.EXECUTION_ARN]: sfn.JsonPath.stringAt('$$.Execution.Id'),
      }),
      taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
      resultPath: '$.executionResult',
      comment: 'Reads the result of the statement this execution started last',
    }).addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.stateMachine = exampleStateMachine(scope, SingleSuccessMachine.ID,
      run.next(getResult).next(new sfn.Succeed(scope, 'Succeed1')), {
        logGroup: props.logGroup,
        timeout: Duration.hours(2),
        comment: 'Runs one statement, waits for it, then reads its result with statementId LATEST',
        lambdaInvokeFunctions: [fn],
      });
  }
}
