import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, FAILING_STATEMENT, SUCCEEDING_STATEMENT, exampleStateMachine } from './util';
import { RedshiftSqlTask, RedshiftStatementTask, SfnRedshiftTaskerErrors, StatementAction } from '../../src';

/**
 * In JSONata: a statement that must succeed, the number of rows of its result, then a statement that must fail with
 * `FAILED` (its success would be a bug).
 */
export class SuccessAndFailMachine {
  public static readonly ID = 'ExampleStateMachineRSIntegration';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failure = new sfn.Fail(scope, 'Failure', {
      error: 'UnexpectedOutcome',
      cause: 'The valid statement failed, or its result could not be read, or the invalid statement did not fail with FAILED.',
    });
    const first = RedshiftSqlTask.jsonata(scope, 'StartRedshiftStatementAndWaitForCallback', {
      tasker: props.tasker,
      sql: SUCCEEDING_STATEMENT,
      taskTimeout: sfn.Timeout.duration(Duration.hours(1)),
      outputs: { statementId: '{% $states.result.detail.statementId %}' },
    }).addCatch(failure, { errors: [sfn.Errors.ALL] });
    const rows = RedshiftStatementTask.jsonata(scope, 'ReadTheFirstStatementsResult', {
      tasker: props.tasker,
      action: StatementAction.FETCH_RESULT,
      statementId: '{% $states.input.statementId %}',
      outputs: { statementId: '{% $states.input.statementId %}', rows: '{% $states.result.TotalNumRows %}' },
    }).addCatch(failure, { errors: [sfn.Errors.ALL] });
    const second = RedshiftSqlTask.jsonata(scope, 'StartInvalidRedshiftStatementAndWaitForCallback', {
      tasker: props.tasker,
      sql: FAILING_STATEMENT,
      taskTimeout: sfn.Timeout.duration(Duration.hours(1)),
    })
      .addCatch(new sfn.Succeed(scope, 'Succeed'), { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED] })
      .addCatch(failure, { errors: [sfn.Errors.ALL] });

    this.stateMachine = exampleStateMachine(scope, SuccessAndFailMachine.ID, first.next(rows).next(second).next(failure), {
      logGroup: props.logGroup,
      timeout: Duration.hours(2),
      comment: 'In JSONata: a valid statement (must succeed) and its result, then an invalid one (must fail with FAILED)',
      queryLanguage: sfn.QueryLanguage.JSONATA,
    });
  }
}
