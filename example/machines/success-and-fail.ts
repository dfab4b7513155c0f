import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, FAILING_STATEMENT, SUCCEEDING_STATEMENT, exampleStateMachine, redshiftCallbackTask } from './util';
import { SfnRedshiftTaskerErrors } from '../../src';

/** Two statements in a row: the first must succeed, the second must fail with `FAILED` (its success would be a bug). */
export class SuccessAndFailMachine {
  public static readonly ID = 'ExampleStateMachineRSIntegration';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failure = new sfn.Fail(scope, 'Failure', {
      error: 'UnexpectedOutcome',
      cause: 'The valid statement failed, or the invalid statement did not fail with FAILED.',
    });
    const first = redshiftCallbackTask(scope, 'StartRedshiftStatementAndWaitForCallback', {
      lambdaFunction: props.lambdaFunction,
      sqlStatement: SUCCEEDING_STATEMENT,
      timeout: Duration.hours(1),
      resultPath: '$.executionDetails',
    }).addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const second = redshiftCallbackTask(scope, 'StartInvalidRedshiftStatementAndWaitForCallback', {
      lambdaFunction: props.lambdaFunction,
      sqlStatement: FAILING_STATEMENT,
      timeout: Duration.hours(1),
      resultPath: '$.invalidExecutionDetails',
    })
      .addCatch(new sfn.Succeed(scope, 'Succeed'), { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED], resultPath: '$.error' })
      .addCatch(failure, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.stateMachine = exampleStateMachine(scope, SuccessAndFailMachine.ID, first.next(second).next(failure), {
      ...props,
      timeout: Duration.hours(2),
      comment: 'Runs a valid statement (must succeed), then an invalid one (must fail with FAILED)',
      invokedFunctions: [props.lambdaFunction],
    });
  }
}
