/**
 * A stack of a user's own (not the example app), for the local runner's public API tests: a table created by a
 * `RedshiftSql` custom resource (with Redshift's physical-design clauses), a machine whose `RedshiftSqlTask` inserts
 * a row and whose next state publishes to SNS (answered by a mock), and a machine that runs a Redshift-only UNLOAD.
 */
import { join } from 'node:path';
import { App, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { RedshiftSql, RedshiftSqlTask, SfnRedshiftTasker } from '../../src';

export interface UserStack {
  readonly app: App;
  readonly stack: Stack;
}

/**
 * Builds the app (not synthesized); `outdir` is where it synthesizes. `version: 2` is the next version of the app:
 * the table's resource gains an `onUpdate` that adds a column.
 */
export function userApp(outdir: string, version: 1 | 2 = 1): UserStack {
  const app = new App({ outdir, context: { 'aws:cdk:disable-version-reporting': true } });
  const stack = new Stack(app, 'OrdersStack');
  const tasker = new SfnRedshiftTasker(stack, 'Tasker', {
    redshiftTargetProps: { clusterIdentifier: 'orders-cluster', dbName: 'orders', dbUser: 'etl' },
  });
  const table = new RedshiftSql(stack, 'OrdersTable', {
    tasker,
    onCreate: ['create table orders (id int distkey, region varchar(20) encode zstd, added timestamp default getdate()) diststyle key sortkey (id)'],
    onDelete: ['drop table orders'],
    ...version === 2 ? { onUpdate: ['alter table orders add column note varchar(10)'] } : {},
    serviceTimeout: Duration.minutes(5),
  });
  const topic = new sns.Topic(stack, 'OrderEvents');

  const insert = RedshiftSqlTask.jsonPath(stack, 'InsertOrder', {
    tasker,
    sql: 'insert into orders (id, region) values (:id, :region)',
    parameters: { id: sfn.JsonPath.stringAt('$.id'), region: sfn.JsonPath.stringAt('$.region') },
    resultPath: '$.insert',
  });
  const notify = new tasks.SnsPublish(stack, 'Notify', {
    topic,
    message: sfn.TaskInput.fromJsonPathAt('$.region'),
    resultPath: '$.published',
  });
  const orders = new sfn.StateMachine(stack, 'OrdersMachine', { definitionBody: sfn.DefinitionBody.fromChainable(insert.next(notify)) });
  orders.node.addDependency(table);

  const unload = RedshiftSqlTask.jsonPath(stack, 'ExportOrders', {
    tasker,
    sql: 'unload (\'select * from orders\') to \'s3://bucket/orders\' iam_role default',
  });
  new sfn.StateMachine(stack, 'ExportMachine', { definitionBody: sfn.DefinitionBody.fromChainable(unload) });

  new sfn.StateMachine(stack, 'SlowMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Wait(stack, 'Sleep', { time: sfn.WaitTime.duration(Duration.minutes(5)) })),
  });

  // The user's own functions: one in Node.js from an asset directory (runs for real), one in Python (needs a mock).
  const double = new lambda.Function(stack, 'DoubleFunction', {
    runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromAsset(join(__dirname, 'user-function')),
  });
  const score = new lambda.Function(stack, 'ScoreFunction', {
    runtime: lambda.Runtime.PYTHON_3_12, handler: 'index.handler', code: lambda.Code.fromInline('def handler(event, context):\n  return 1'),
  });
  // A custom resource answered by the Python function: it cannot run here, so it is not created.
  new CustomResource(stack, 'Scores', { serviceToken: score.functionArn });
  const doubleStep = new tasks.LambdaInvoke(stack, 'Double', { lambdaFunction: double, payloadResponseOnly: true, resultPath: '$.double' });
  const scoreStep = new tasks.LambdaInvoke(stack, 'Score', { lambdaFunction: score, payloadResponseOnly: true, resultPath: '$.score' });
  new sfn.StateMachine(stack, 'ScoreMachine', { definitionBody: sfn.DefinitionBody.fromChainable(doubleStep.next(scoreStep)) });
  return { app, stack };
}

/** Mocks in AWS Step Functions Local's format for the SNS task. */
export const USER_MOCKS = {
  StateMachines: {
    OrdersMachine: {
      TestCases: {
        HappyPath: { Notify: 'Published' },
        SnsDown: { Notify: 'SnsThrottled' },
      },
    },
    ScoreMachine: { TestCases: { Scored: { Score: 'Score42' } } },
  },
  MockedResponses: {
    Published: { 0: { Return: { MessageId: 'mocked-message-1' } } },
    SnsThrottled: { '0-9': { Throw: { Error: 'SNS.ThrottledException', Cause: 'Rate exceeded' } } },
    Score42: { 0: { Return: 42 } },
  },
};
