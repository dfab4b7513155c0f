import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ExampleMachineProps, exampleStateMachine } from './util';
import { BatchExecutionMode, RedshiftSqlTask } from '../../src';

/** The table the session machine merges its staged rows into. */
export const DAILY_SALES_TABLE = 'public.daily_sales';

/** Creates the merge target (run by the stack's `daily_sales` resource); the machine only writes rows. */
export const DAILY_SALES_CREATE_SQL = `CREATE TABLE IF NOT EXISTS ${DAILY_SALES_TABLE} (day date NOT NULL, amount bigint NOT NULL)`;
export const DAILY_SALES_DROP_SQL = `DROP TABLE IF EXISTS ${DAILY_SALES_TABLE}`;

/**
 * Staging across steps in one Data API session: the first task opens a session (`sessionKeepAlive`) and creates a
 * temporary table in it; the next tasks run in that session (`sessionId` from the first task's output), fill the
 * temporary table and merge it into `public.daily_sales` in one transaction. Temporary tables live as long as their
 * session, so without a session the second step would not find the table. If the workflow fails half-way, the session
 * closes itself once its keep-alive passes, and its temporary table with it: nothing to clean up.
 *
 * Then a maintenance step that Redshift refuses inside a transaction block: `VACUUM` and `ANALYZE` in a list run with
 * `BatchExecutionMode.AUTO_COMMIT` (each statement commits on its own).
 */
export class SessionStagingMachine {
  public static readonly ID = 'SessionStagingRsTask';
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, props: ExampleMachineProps) {
    const failed = new sfn.Fail(scope, 'StagingFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const budget = sfn.Timeout.duration(Duration.minutes(15));
    const open = RedshiftSqlTask.jsonPath(scope, 'OpenSessionAndStage', {
      tasker: props.tasker,
      sql: 'CREATE TEMP TABLE staged_sales (day date, amount bigint)',
      sessionKeepAlive: Duration.minutes(10),
      taskTimeout: budget,
      resultSelector: { 'sessionId.$': '$.sessionId' },
      resultPath: '$.session',
      comment: 'Opens a session (kept 10 minutes after each statement) and creates a temporary table in it',
    });
    const inSession = sfn.JsonPath.stringAt('$.session.sessionId');
    const stage = RedshiftSqlTask.jsonPath(scope, 'StageRows', {
      tasker: props.tasker,
      sessionId: inSession,
      sqlStatements: [
        'INSERT INTO staged_sales VALUES (CURRENT_DATE, :first)',
        'INSERT INTO staged_sales VALUES (CURRENT_DATE, :second)',
      ],
      parameters: { first: '10', second: '32' },
      taskTimeout: budget,
      resultPath: sfn.JsonPath.DISCARD,
      comment: 'Fills the temporary table (in the session: another connection would not see it)',
    });
    const merge = RedshiftSqlTask.jsonPath(scope, 'MergeStaged', {
      tasker: props.tasker,
      sessionId: inSession,
      sqlStatements: [
        `DELETE FROM ${DAILY_SALES_TABLE} USING staged_sales WHERE ${DAILY_SALES_TABLE}.day = staged_sales.day`,
        `INSERT INTO ${DAILY_SALES_TABLE} SELECT day, SUM(amount) FROM staged_sales GROUP BY day`,
      ],
      taskTimeout: budget,
      resultSelector: { 'rows.$': '$.detail.rows' },
      resultPath: '$.merged',
      comment: 'Replaces the day\'s totals with the staged ones, in one transaction',
    });
    const maintain = RedshiftSqlTask.jsonPath(scope, 'VacuumAndAnalyze', {
      tasker: props.tasker,
      sqlStatements: [`VACUUM ${DAILY_SALES_TABLE}`, `ANALYZE ${DAILY_SALES_TABLE}`],
      executionMode: BatchExecutionMode.AUTO_COMMIT,
      taskTimeout: budget,
      resultPath: sfn.JsonPath.DISCARD,
      comment: 'VACUUM cannot run in a transaction block: each statement commits on its own',
    });
    for (const task of [open, stage, merge, maintain]) task.addCatch(failed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    this.stateMachine = exampleStateMachine(scope, SessionStagingMachine.ID,
      open.next(stage).next(merge).next(maintain).next(new sfn.Succeed(scope, 'Merged')), {
        logGroup: props.logGroup,
        timeout: Duration.hours(1),
        comment: 'Stages rows in a temporary table across steps of one Data API session, merges them, then vacuums',
      });
  }
}
