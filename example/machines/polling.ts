import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine, slowStatement } from './util';
import { RedshiftSqlTask, RedshiftStatementTask, StatementAction } from '../../src';

/**
 * The alternative without a callback: start the statement (no task token, so no completion event is requested),
 * then describe it in a Wait/Choice loop until it finished, failed or was aborted.
 */
export class PollingMachine {
  public static readonly ID = 'PollingRsTask';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failed = new sfn.Fail(scope, 'StatementFailed_', {
      error: 'StatementFailed',
      cause: 'The statement failed or was aborted, or the tasker could not be called.',
    });
    const succeeded = new sfn.Succeed(scope, 'StatementSucceeded_');
    const execute = RedshiftSqlTask.jsonPath(scope, 'executeBeforePolling', {
      tasker: props.tasker,
      sql: slowStatement(props.timing.polledStatementSeconds),
      integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
      resultPath: '$.executionDetails',
      comment: 'Starts the statement and returns its id at once (no callback)',
    }).addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const wait = new sfn.Wait(scope, 'WaitBetweenPolls', { time: sfn.WaitTime.duration(Duration.seconds(props.timing.pollIntervalSeconds)) });
    const check = RedshiftStatementTask.jsonPath(scope, 'checkExecutionStateRSTask', {
      tasker: props.tasker,
      action: StatementAction.DESCRIBE,
      statementId: sfn.JsonPath.stringAt('$.executionDetails.Id'),
      resultPath: '$.executionDetails',
    }).addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const status = (value: string) => sfn.Condition.stringEquals('$.executionDetails.Status', value);
    const choice = new sfn.Choice(scope, 'choiceExecutionResult')
      .when(status('FINISHED'), succeeded)
      .when(sfn.Condition.or(status('ABORTED'), status('FAILED')), failed)
      .otherwise(wait);

    this.stateMachine = exampleStateMachine(scope, PollingMachine.ID, execute.next(wait).next(check).next(choice), {
      logGroup: props.logGroup,
      timeout: Duration.minutes(30),
      comment: 'Starts a statement without a callback and polls its status until it ends',
    });
  }
}
