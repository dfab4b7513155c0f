/**
 * Every validation error of the constructs names its fix: each problem says what is wrong, the value received
 * ("got ...") and what to do (a sentence in the imperative: "Remove ...", "Pass ...", "Wrap it in a list ...").
 * The cases below make each error site of src/ (test/support/error-sites.ts finds them) report its problem; a site
 * without a case fails the test, so a new error cannot go unchecked.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { newStack } from './helpers';
import {
  BatchExecutionMode, LogLevel, RedshiftSql, RedshiftSqlProps, RedshiftSqlTask, RedshiftSqlTaskProps, RedshiftStatementTask,
  RedshiftStatementTaskProps, ExportFormat, ResultExport, RowFormat,
  SfnRedshiftTasker, SfnRedshiftTaskerProps, StatementAction, TablePermission,
} from '../../src';
import { errorSites } from '../support/error-sites';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };
const HOUR = sfn.Timeout.duration(Duration.hours(1));

/** The sentence that says what to do: an imperative verb that starts a sentence. */
const FIX = /(?:^|[.:;)]\s+)(?:Add|Ask|Deploy|Give|Omit|Pass|Remove|Rename|Run|Set|Split|Use|Wrap|Write)\b/;
/** The value received. */
const GOT = /\bgot\b/;

type Attempt = (stack: Stack) => unknown;

const tasker = (props: (stack: Stack) => Partial<SfnRedshiftTaskerProps>): Attempt => (stack) =>
  new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, ...props(stack) } as SfnRedshiftTaskerProps);
const sqlTask = (props: Partial<RedshiftSqlTaskProps>): Attempt => (stack) => new RedshiftSqlTask(stack, 'RunSql', {
  tasker: new SfnRedshiftTasker(stack, 'T', { redshiftTargetProps: CLUSTER }), taskTimeout: HOUR, ...props,
});
const statementTask = (props: Partial<RedshiftStatementTaskProps>): Attempt => (stack) => new RedshiftStatementTask(stack, 'Ask', {
  tasker: new SfnRedshiftTasker(stack, 'T', { redshiftTargetProps: CLUSTER }), action: StatementAction.DESCRIBE, ...props,
});
const sql = (props: Partial<RedshiftSqlProps>): Attempt => (stack) => new RedshiftSql(stack, 'Sql', {
  tasker: new SfnRedshiftTasker(stack, 'T', { redshiftTargetProps: CLUSTER }),
  onCreate: ['select 1'],
  serviceTimeout: Duration.minutes(5),
  ...props,
} as RedshiftSqlProps);
const imported = (stack: Stack) => dynamodb.Table.fromTableName(stack, 'Shared', 'shared-state');
const existingFunction = (stack: Stack, timeout?: Duration) => new lambda.Function(stack, 'Own', {
  runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1'), timeout,
});

/** One attempt per kind of problem (several may report more than one). */
const CASES: [string, Attempt][] = [
  // ---- SfnRedshiftTasker: target ----
  ['no target', tasker(() => ({ redshiftTargetProps: undefined }))],
  ['neither cluster nor workgroup', tasker(() => ({ redshiftTargetProps: { dbName: 'dev' } }))],
  ['both cluster and workgroup', tasker(() => ({ redshiftTargetProps: { clusterIdentifier: 'c', workgroupName: 'wg-1', dbName: 'dev' } }))],
  ['an uppercase cluster identifier', tasker(() => ({ redshiftTargetProps: { clusterIdentifier: 'MyCluster', dbName: 'dev' } }))],
  ['an invalid cluster identifier', tasker(() => ({ redshiftTargetProps: { clusterIdentifier: '1cluster', dbName: 'dev' } }))],
  ['an invalid workgroup name', tasker(() => ({ redshiftTargetProps: { workgroupName: 'wg', dbName: 'dev' } }))],
  ['an empty database name', tasker(() => ({ redshiftTargetProps: { clusterIdentifier: 'c', dbName: '' } }))],
  ['an empty database user', tasker(() => ({ redshiftTargetProps: { ...CLUSTER, dbUser: '' } }))],
  ['a database user for a workgroup', tasker(() => ({ redshiftTargetProps: { workgroupName: 'wg-1', dbName: 'dev', dbUser: 'admin' } }))],
  ['a database user and a secret', tasker((s) => ({ redshiftTargetProps: { ...CLUSTER, dbUser: 'admin', secret: new secretsmanager.Secret(s, 'S') } }))],
  // ---- functions ----
  ['a managed environment variable', tasker(() => ({ starterLambdaFunctionProps: { environment: { DATABASE: 'x' } } }))],
  ['logRetention', tasker(() => ({ starterLambdaFunctionProps: { logRetention: logs.RetentionDays.ONE_WEEK } }))],
  ['completerMaxConcurrency out of range', tasker(() => ({ completerMaxConcurrency: 1 }))],
  ['an existing starter and starter options', tasker((s) => ({
    starterExistingLambdaObj: lambda.Function.fromFunctionName(s, 'F', 'f'), starterLambdaFunctionProps: { memorySize: 512 },
  }))],
  ['a visibility timeout shorter than the completer\'s timeout', tasker(() => ({
    starterLambdaFunctionProps: { timeout: Duration.minutes(2) }, queueProps: { visibilityTimeout: Duration.seconds(60) },
  }))],
  ['a fast-path wait out of range', tasker(() => ({ fastPathWaitTime: Duration.seconds(31) }))],
  ['a starter timeout too short for the fast path', tasker(() => ({
    fastPathWaitTime: Duration.seconds(20), starterLambdaFunctionProps: { timeout: Duration.seconds(24) },
  }))],
  ['an existing starter too short for the fast path', tasker((s) => ({ starterExistingLambdaObj: existingFunction(s, Duration.seconds(4)) }))],
  // ---- table ----
  ['dynamoTableProps and existingTableObj', tasker((s) => ({ dynamoTableProps: {}, existingTableObj: imported(s) }))],
  ['a changed partition key', tasker(() => ({ dynamoTableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } } }))],
  ['a changed TTL attribute', tasker(() => ({ dynamoTableProps: { timeToLiveAttribute: 'expires' } }))],
  ['a tracking-table TTL in hours', tasker(() => ({ trackingTableTtl: Duration.hours(36) }))],
  ['an unknown table permission', tasker(() => ({ tablePermissions: TablePermission.of('Admin') }))],
  ['an unknown log level', tasker(() => ({ logLevel: LogLevel.of('LOUD') }))],
  ['a table of the app without the index', tasker((s) => ({
    existingTableObj: new dynamodb.Table(s, 'Own', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } }),
  }))],
  // ---- reconciler ----
  ['reconciler props with the reconciler off', tasker(() => ({ enableReconciler: false, reconcileInterval: Duration.minutes(5) }))],
  ['a reconcile interval in seconds', tasker(() => ({ reconcileInterval: Duration.seconds(90) }))],
  ['a starter timeout too short for sweeps', tasker(() => ({ fastPathWaitTime: Duration.seconds(0), starterLambdaFunctionProps: { timeout: Duration.seconds(10) } }))],
  // ---- callback infrastructure and queue ----
  ['createCallbackInfra false without a table', tasker(() => ({ createCallbackInfra: false }))],
  ['createCallbackInfra false with queue props', tasker((s) => ({ createCallbackInfra: false, existingTableObj: imported(s), maxReceiveCount: 3 }))],
  ['an existing queue with props of the created one', tasker((s) => ({ existingQueueObj: new sqs.Queue(s, 'Q'), maxReceiveCount: 3 }))],
  ['a FIFO existing queue', tasker((s) => ({ existingQueueObj: new sqs.Queue(s, 'Q', { fifo: true }) }))],
  ['queueProps.encryption', tasker(() => ({ queueProps: { encryption: sqs.QueueEncryption.KMS_MANAGED } }))],
  ['queueProps.fifo', tasker(() => ({ queueProps: { fifo: true } }))],
  ['deadLetterQueueProps.encryption', tasker(() => ({ deadLetterQueueProps: { encryption: sqs.QueueEncryption.SQS_MANAGED } }))],
  ['dead-letter settings without a dead-letter queue', tasker(() => ({ deployDeadLetterQueue: false, maxReceiveCount: 3 }))],
  ['a key with SQS-managed encryption', tasker((s) => ({ enableEncryptionWithCustomerManagedKey: false, encryptionKey: new kms.Key(s, 'K') }))],
  ['encryptionKey and encryptionKeyProps', tasker((s) => ({ encryptionKey: new kms.Key(s, 'K'), encryptionKeyProps: {} }))],
  // ---- metrics of a tasker that shares what the app does not know ----
  ['a shared queue\'s metric the app cannot find', (s) => new SfnRedshiftTasker(s, 'RSTask', {
    redshiftTargetProps: CLUSTER, createCallbackInfra: false, enableReconciler: false, existingTableObj: imported(s),
  }).metricIgnoredEvents()],
  ['a dead-letter metric without a dead-letter queue', (s) => new SfnRedshiftTasker(s, 'RSTask', {
    redshiftTargetProps: CLUSTER, deployDeadLetterQueue: false,
  }).metricDeadLetterMessages()],
  // ---- RedshiftSqlTask ----
  ['no tasker for a SQL task', (s) => new RedshiftSqlTask(s, 'RunSql', { sql: 'select 1', taskTimeout: HOUR } as RedshiftSqlTaskProps)],
  ['RUN_JOB', sqlTask({ sql: 'select 1', integrationPattern: sfn.IntegrationPattern.RUN_JOB })],
  ['neither sql nor sqlStatements', sqlTask({})],
  ['both sql and sqlStatements', sqlTask({ sql: 'select 1', sqlStatements: ['select 2'] })],
  ['sql not a string', sqlTask({ sql: 42 as unknown as string })],
  ['an empty statement', sqlTask({ sql: ' ' })],
  ['an oversized statement', sqlTask({ sql: 'x'.repeat(100_001) })],
  ['sqlStatements not a list', sqlTask({ sqlStatements: 'select 1' as unknown as string[] })],
  ['an empty list', sqlTask({ sqlStatements: [] })],
  ['a list of 41 statements', sqlTask({ sqlStatements: Array(41).fill('select 1') })],
  ['a parameter no statement of the list uses', sqlTask({ sqlStatements: ['select 1'], parameters: { a: '1' } })],
  ['an execution mode without a list', sqlTask({ sql: 'select 1', executionMode: BatchExecutionMode.AUTO_COMMIT })],
  ['an unknown execution mode', sqlTask({ sqlStatements: ['select 1'], executionMode: BatchExecutionMode.of('EACH') })],
  ['a keep-alive over 24 hours', sqlTask({ sql: 'select 1', sessionKeepAlive: Duration.days(2) })],
  ['a session id that is not one', sqlTask({ sql: 'select 1', sessionId: 'my-session' })],
  ['a session id that is not a string', sqlTask({ sql: 'select 1', sessionId: 42 as unknown as string })],
  ['a fractional number of conflict retries', sqlTask({ sql: 'select 1', conflictRetries: 1.5 })],
  ['empty parameters', sqlTask({ sql: 'select 1', parameters: {} })],
  ['an invalid parameter name', sqlTask({ sql: 'select 1', parameters: { 'two words': '1' } })],
  ['a parameter that is not a string', sqlTask({ sql: 'select :a', parameters: { a: 1 as unknown as string } })],
  ['an empty parameter value', sqlTask({ sql: 'select :a', parameters: { a: '' } })],
  ['a name used but not given, a name given but not used', sqlTask({ sql: 'select :a', parameters: { b: '1' } })],
  ['a name a list uses but not given', sqlTask({ sqlStatements: ['delete from t', 'insert into t values (:a)'] })],
  ['rows with REQUEST_RESPONSE', sqlTask({ sql: 'select 1', resultRows: RowFormat.OBJECTS, integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE })],
  ['an export with REQUEST_RESPONSE, and rows too', (s) => sqlTask({
    sql: 'select 1',
    resultRows: RowFormat.OBJECTS,
    resultExport: { bucket: new s3.Bucket(s, 'B') },
    integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
  })(s)],
  ['an export without a bucket, an absolute prefix, an unknown format', sqlTask({
    sql: 'select 1', resultExport: { keyPrefix: '/abs/', format: { value: 'PARQUET' } as unknown as ExportFormat } as ResultExport,
  })],
  ['an unknown row format', sqlTask({ sql: 'select 1', resultRows: { value: 'CSV' } as unknown as RowFormat })],
  ['JSONPath in a JSONata state', (s) => sqlTask({ sql: sfn.JsonPath.stringAt('$.sql'), queryLanguage: sfn.QueryLanguage.JSONATA })(s) as RedshiftSqlTask],
  // ---- RedshiftStatementTask ----
  ['no tasker for a statement task', (s) => new RedshiftStatementTask(s, 'Ask', { action: StatementAction.DESCRIBE } as RedshiftStatementTaskProps)],
  ['an unknown action', statementTask({ action: 'describe' as unknown as StatementAction })],
  ['a callback pattern', statementTask({ integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN })],
  ['nextToken without FETCH_RESULT', statementTask({ nextToken: 'abc' })],
  ['an empty statement id', statementTask({ statementId: ' ' })],
  ['rowFormat without FETCH_RESULT', statementTask({ rowFormat: RowFormat.OBJECTS })],
  ['EXPORT_RESULT without resultExport', statementTask({ action: StatementAction.EXPORT_RESULT })],
  ['resultExport without EXPORT_RESULT', (s) => statementTask({ resultExport: { bucket: new s3.Bucket(s, 'B') } })(s)],
  // ---- RedshiftSql ----
  ['no onCreate', sql({ onCreate: undefined })],
  ['onCreate as a string', sql({ onCreate: 'create table t (id int)' as unknown as string[] })],
  ['a service timeout over an hour', sql({ serviceTimeout: Duration.minutes(61) })],
  ['customerManagedKey with encryptionKey', tasker((stack) => ({
    customerManagedKey: new kms.Key(stack, 'TaskerKey'), encryptionKey: new kms.Key(stack, 'QueueKey'),
  }))],
  ['customerManagedKey with encryptionKeyProps', tasker((stack) => ({
    customerManagedKey: new kms.Key(stack, 'TaskerKey'), encryptionKeyProps: { description: 'queues' },
  }))],
  ['customerManagedKey with SQS-managed encryption', tasker((stack) => ({
    customerManagedKey: new kms.Key(stack, 'TaskerKey'), enableEncryptionWithCustomerManagedKey: false,
  }))],
  ['customerManagedKey with the table\'s own encryption', tasker((stack) => ({
    customerManagedKey: new kms.Key(stack, 'TaskerKey'), dynamoTableProps: { encryption: dynamodb.TableEncryption.AWS_MANAGED },
  }))],
  ['a reserved concurrency of 0', tasker(() => ({ starterLambdaFunctionProps: { reservedConcurrentExecutions: 0 } }))],
  ['a parameter no statement uses', sql({ parameters: { region: 'EMEA' } })],
  ['a result attribute without resultAttributes', (s) => (sql({})(s) as RedshiftSql).getResultAttribute('total')],
  ['a built-in name as a result attribute', (s) => (sql({ resultAttributes: true })(s) as RedshiftSql).getResultAttribute('rows')],
];

/** The problems an attempt reports: the items of the error it throws (or of the state it renders). */
function problems(attempt: Attempt): string[] {
  const stack = newStack();
  try {
    const result = attempt(stack);
    if (result instanceof sfn.State) result.toStateJson();
  } catch (error) {
    const message = (error as Error).message;
    const items = message.split('\n- ');
    return items.length > 1 ? items.slice(1) : items;
  }
  throw new Error('expected the attempt to fail');
}

const REPORTED = CASES.map(([name, attempt]) => [name, problems(attempt)] as const);

test.each(REPORTED)('%s: each problem says what is wrong, the value received and the fix', (_, reported) => {
  expect(reported.length).toBeGreaterThan(0);
  for (const problem of reported) {
    expect({ problem, got: GOT.test(problem), fix: FIX.test(problem) }).toEqual({ problem, got: true, fix: true });
  }
});

test('every error site of src/ is reported by a case above', () => {
  const sites = errorSites();
  expect(sites.length).toBeGreaterThan(50);
  const all = REPORTED.flatMap(([, reported]) => reported);
  const unreported = sites.filter((site) => !all.some((problem) => problem.includes(site.fragment)))
    .map((site) => `${site.file}:${site.line} ${JSON.stringify(site.fragment)}`);
  expect(unreported).toEqual([]);
});

test('onCreate given as a string: wrap it in a list', () => {
  expect(problems(sql({ onCreate: 'create table t (id int)' as unknown as string[] }))).toEqual([
    'onCreate must be a list of SQL statements, even for one statement; got "create table t (id int)". Wrap it in a list: '
      + 'onCreate: ["create table t (id int)"].',
  ]);
});
