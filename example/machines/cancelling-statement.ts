import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine, slowStatement } from './util';
import { RedshiftSqlTask, RedshiftStatementTask, StatementAction } from '../../src';

/** How long the slow statement would run if nobody cancelled it. */
export const CANCELLED_STATEMENT_SECONDS = 600;

/**
 * A time budget: the task waits at most `timing.cancelAfterSeconds` (`TimeoutSeconds`); on `States.Timeout` the machine cancels the
 * statement (`statementId: LATEST`), then describes it, waiting between checks, until Redshift reports ABORTED.
 */
export class CancellingStatementMachine {
  public static readonly ID = 'CancelRsTask';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failed = new sfn.Fail(scope, 'cancelingFailed', {
      error: 'CancellingFailed',
      cause: 'The slow statement ended on its own, or it could not be cancelled or described, or it did not end ABORTED.',
    });
    const cancel = RedshiftStatementTask.jsonPath(scope, 'cancelSlowQuery', {
      tasker: props.tasker,
      action: StatementAction.CANCEL,
      resultPath: '$.executionCancelDetails',
      comment: 'Cancels the statement this execution started last',
    }).addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const start = RedshiftSqlTask.jsonPath(scope, 'startSlowQuery', {
      tasker: props.tasker,
      sql: slowStatement(CANCELLED_STATEMENT_SECONDS),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(props.timing.cancelAfterSeconds)),
      resultPath: '$.executionDetails',
      comment: 'Runs a statement that takes longer than the task may wait',
    })
      .addCatch(cancel, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.error' })
      .addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const describe = RedshiftStatementTask.jsonPath(scope, 'describeCanceledSlowQuery', {
      tasker: props.tasker,
      action: StatementAction.DESCRIBE,
      resultPath: '$.executionDetails',
    }).addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const waitBeforeDescribing = new sfn.Wait(scope, 'waitBeforeDescribingAgain', { time: sfn.WaitTime.duration(Duration.seconds(props.timing.cancelCheckIntervalSeconds)) });
    const status = (value: string) => sfn.Condition.stringEquals('$.executionDetails.Status', value);
    const verify = new sfn.Choice(scope, 'verifyCancelledQuery')
      .when(sfn.Condition.booleanEquals('$.executionCancelDetails.Status', false), failed)
      .when(status('ABORTED'), new sfn.Succeed(scope, 'cancelingSucceeded'))
      .when(sfn.Condition.or(status('SUBMITTED'), status('PICKED'), status('STARTED')), waitBeforeDescribing)
      .otherwise(failed);
    waitBeforeDescribing.next(describe);
    cancel.next(describe).next(verify);

    this.stateMachine = exampleStateMachine(scope, CancellingStatementMachine.ID, start.next(failed), {
      logGroup: props.logGroup,
      timeout: Duration.minutes(15),
      comment: 'Gives a slow statement a time budget, cancels it on States.Timeout and verifies it ends ABORTED',
    });
  }
}
