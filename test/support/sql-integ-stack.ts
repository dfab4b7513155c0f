/**
 * The stack of the integration test `integ.redshift-sql.ts` (not named `integ.*`: a helper, not a test), also run on
 * the local stand-ins by `test/local/sql-constructs.test.ts`: a tasker on Redshift Serverless, RedshiftSql resources
 * that create a table and a row (a bound parameter), and a state machine of RedshiftSqlTask and RedshiftStatementTask
 * states in JSONPath and JSONata that succeeds when the row is there (input: `{ "region": "EMEA" }`).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { serverlessTarget } from './serverless-target';
import {
  RedshiftSql, RedshiftSqlTask, RedshiftStatementTask, SfnRedshiftTasker, SfnRedshiftTaskerErrors, StatementAction,
} from '../../src';

export interface SqlIntegStack {
  readonly stack: Stack;
  readonly tasker: SfnRedshiftTasker;
  readonly machine: sfn.StateMachine;
}

export function sqlIntegStack(app: App, env?: { account: string; region: string }): SqlIntegStack {
  const stack = new Stack(app, 'cdk-stepfunctions-redshift-integ-sql', { env });
  const target = serverlessTarget(stack, 'sfn-redshift-integ');
  const tasker = new SfnRedshiftTasker(stack, 'Tasker', { redshiftTargetProps: { workgroupName: target.workgroupName, dbName: target.dbName } });
  tasker.node.addDependency(target.workgroup);

  // ---- SQL in the stack: a table, then a row ----
  const table = new RedshiftSql(stack, 'SalesTable', {
    tasker,
    onCreate: ['create table if not exists public.integ_sales (id int, region varchar(20))'],
    onDelete: ['drop table if exists public.integ_sales'],
    serviceTimeout: Duration.minutes(15),
  });
  new RedshiftSql(stack, 'SalesRow', {
    tasker,
    onCreate: ['insert into public.integ_sales values (1, :region)'],
    onDelete: ['delete from public.integ_sales where region = :region'],
    parameters: { region: 'EMEA' },
    serviceTimeout: Duration.minutes(15),
  }).node.addDependency(table);

  // ---- A state machine: count the row (JSONPath), read the count, a transaction (JSONata), describe it ----
  const budget = sfn.Timeout.duration(Duration.minutes(10));
  const failed = new sfn.Fail(stack, 'Failed', { error: 'UnexpectedOutcome', cause: 'A statement failed or the row count is wrong.' });
  const count = RedshiftSqlTask.jsonPath(stack, 'CountRows', {
    tasker,
    sql: 'select count(*) from public.integ_sales where region = :region',
    parameters: { region: sfn.JsonPath.stringAt('$.region') },
    taskTimeout: budget,
    resultPath: sfn.JsonPath.DISCARD,
  }).addCatch(failed, { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED, sfn.Errors.TIMEOUT] });
  const read = RedshiftStatementTask.jsonPath(stack, 'ReadCount', {
    tasker,
    action: StatementAction.FETCH_RESULT,
    resultSelector: { 'rows.$': '$.Records[0][0].longValue' },
    resultPath: '$.count',
  });
  const check = new sfn.Choice(stack, 'OneRow?');
  const transaction = RedshiftSqlTask.jsonata(stack, 'InsertAndDeleteInOneTransaction', {
    tasker,
    sqlStatements: [
      'insert into public.integ_sales values (2, \'APAC\')',
      'delete from public.integ_sales where id = 2',
    ],
    singleton: true,
    taskTimeout: budget,
  }).addCatch(failed, { errors: [sfn.Errors.ALL] });
  const describe = RedshiftStatementTask.jsonata(stack, 'DescribeTheTransaction', {
    tasker,
    action: StatementAction.DESCRIBE,
    outputs: { status: '{% $states.result.Status %}' },
  });
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(count.next(read).next(check
      .when(sfn.Condition.numberEquals('$.count.rows', 1), transaction.next(describe).next(new sfn.Succeed(stack, 'Done')))
      .otherwise(failed))),
    timeout: Duration.minutes(30),
  });
  return { stack, tasker, machine };
}
