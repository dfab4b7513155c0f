import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine } from './util';
import { RedshiftSqlTask, RowFormat, SfnRedshiftTaskerErrors } from '../../src';

/**
 * Run and return in one state: the statement's rows come with its callback as plain objects (`resultRows`), and a
 * `Choice` branches on them — no second state to read the result, no typed cells to unpack.
 */
export class RowsChoiceMachine {
  public static readonly ID = 'RowsChoiceRsTask';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failed = new sfn.Fail(scope, 'RowsFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const read = RedshiftSqlTask.jsonPath(scope, 'ReadRowsWithTheCallback', {
      tasker: props.tasker,
      sql: 'select 3 as answer, \'EMEA\' as region, getdate() as checked_at',
      resultRows: RowFormat.OBJECTS,
      taskTimeout: sfn.Timeout.duration(Duration.minutes(5)),
      resultSelector: { 'rows.$': '$.result.rows', 'columns.$': '$.result.columns' },
      resultPath: '$.read',
      comment: 'Runs the statement and returns its rows as plain objects with the callback',
    })
      // More rows than a state can carry: the statement ran; read them page by page or export them instead.
      .addCatch(new sfn.Fail(scope, 'RowsTooLarge', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), {
        errors: [SfnRedshiftTaskerErrors.RESULT_TOO_LARGE], resultPath: '$.error',
      })
      .addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    const choice = new sfn.Choice(scope, 'AnswerIsThree')
      .when(sfn.Condition.numberEquals('$.read.rows[0].answer', 3), new sfn.Succeed(scope, 'RowsSaidThree'))
      .otherwise(new sfn.Fail(scope, 'RowsSaidSomethingElse', { error: 'UnexpectedRows', cause: 'The first row\'s answer is not 3.' }));

    this.stateMachine = exampleStateMachine(scope, RowsChoiceMachine.ID, read.next(choice), {
      logGroup: props.logGroup,
      timeout: Duration.minutes(10),
      comment: 'Runs a statement, gets its rows with the callback and branches on them',
    });
  }
}
