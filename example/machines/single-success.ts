import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  ExampleMachineProps, SUCCEEDING_STATEMENT, exampleStateMachine, latestStatementRequest, redshiftCallbackTask, redshiftRequestTask,
} from './util';
import { Action } from '../../src/contract';

/**
 * The happy path: run a statement, wait for it to finish (callback), then read its result with `statementId: LATEST`
 * (the statement this execution started last).
 */
export class SingleSuccessMachine {
  public static readonly ID = 'SimpleStateMachineSuccessRSCallbackIntegration';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failure = new sfn.Fail(scope, 'Failure1', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const run = redshiftCallbackTask(scope, 'SimpleSuccessfullRsTaskProcedure', {
      lambdaFunction: props.lambdaFunction,
      sqlStatement: SUCCEEDING_STATEMENT,
      timeout: Duration.hours(1),
      resultPath: '$.executionDetails',
      comment: 'Runs the statement and waits for its completion event',
    }).addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const getResult = redshiftRequestTask(scope, 'simpleSuccessfullRsTaskGetResult', {
      lambdaFunction: props.lambdaFunction,
      request: latestStatementRequest(Action.GET_STATEMENT_RESULT),
      resultPath: '$.executionResult',
      comment: 'Reads the result of the statement this execution started last',
    }).addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.stateMachine = exampleStateMachine(scope, SingleSuccessMachine.ID,
      run.next(getResult).next(new sfn.Succeed(scope, 'Succeed1')), {
        ...props,
        timeout: Duration.hours(2),
        comment: 'Runs one statement, waits for it, then reads its result with statementId LATEST',
        invokedFunctions: [props.lambdaFunction],
      });
  }
}
