import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, FAILING_STATEMENT, exampleStateMachine } from './util';
import { RedshiftSqlTask, RedshiftStatementTask, SfnRedshiftTaskerErrors, StatementAction } from '../../src';

/**
 * A failing statement: the task fails with `FAILED` (the cause holds the completion event with Redshift's error text
 * in `detail.error`), the machine catches it and describes the statement with `statementId: LATEST` to show its
 * status and error. The example app runs it through the second tasker (another database user).
 */
export class SingleFailureMachine {
  public static readonly ID = 'SimpleFailureRsTaskProcedureCallbackIntegration';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const testFailed = new sfn.Fail(scope, 'testFailed', {
      error: 'UnexpectedOutcome',
      cause: 'The invalid statement did not fail with FAILED, or it could not be described.',
    });
    const describe = RedshiftStatementTask.jsonPath(scope, 'simpleFailureDescribeTaskProcedure', {
      tasker: props.tasker,
      action: StatementAction.DESCRIBE,
      resultPath: '$.executionDetails',
      comment: 'Describes the statement this execution started last (status, error text)',
    }).addCatch(testFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const run = RedshiftSqlTask.jsonPath(scope, 'SimpleFailureRsTaskProcedure', {
      tasker: props.tasker,
      sql: FAILING_STATEMENT,
      taskTimeout: sfn.Timeout.duration(Duration.hours(1)),
      comment: 'Runs a statement that fails; the task fails with FAILED',
    })
      .addCatch(describe, { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED], resultPath: '$.error' })
      .addCatch(testFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const verify = new sfn.Choice(scope, 'verifyStatementFailed')
      .when(sfn.Condition.stringEquals('$.executionDetails.Status', 'FAILED'), new sfn.Succeed(scope, 'testSucceeded'))
      .otherwise(testFailed);
    describe.next(verify);

    this.stateMachine = exampleStateMachine(scope, SingleFailureMachine.ID, run.next(testFailed), {
      logGroup: props.logGroup,
      timeout: Duration.hours(2),
      comment: 'Runs a failing statement, catches FAILED and describes the statement with statementId LATEST',
    });
  }
}
