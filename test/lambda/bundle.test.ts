/**
 * The bundled handler (`assets/handler/index.js`), loaded as Lambda loads it (configuration and SDK clients at module
 * load, `AWS_ENDPOINT_URL_<SERVICE>` pointing at local servers), end to end: DynamoDB (dynalite), the Redshift Data
 * API stand-in (embedded PostgreSQL), the Step Functions callback endpoint and a CloudFormation ResponseURL server.
 * Completion events travel Data API → local queue (SQS semantics) → the same bundled function.
 */
import { join } from 'node:path';
import { EXECUTION_ARN, cloudFormationEvent } from './support';
import { handlerEnvironment as handlerEnv } from '../../local/lambda/handler';
import { CfnResponseServer, startCfnResponseServer } from '../../local/servers/cfn-response';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { RedshiftDataServer, startRedshiftDataServer } from '../../local/servers/redshift-data';
import { SfnCallbackServer, startSfnCallbackServer } from '../../local/servers/sfn-callbacks';
import { LocalQueue, until } from '../../local/servers/sqs-queue';

type Handler = (event: unknown) => Promise<any>;

const BUNDLE = join(__dirname, '..', '..', 'assets', 'handler', 'index.js');
const savedEnv = { ...process.env };
let dynamo: LocalDynamoDb;
let dataApi: RedshiftDataServer;
let sfn: SfnCallbackServer;
let cfn: CfnResponseServer;
let queue: LocalQueue;
let handler: Handler;

/** Loads a fresh copy of the bundle with `env`, as a new Lambda execution environment would. */
function loadBundle(env: Record<string, string>): Handler {
  // The metrics' EMF lines would fill the test output (their format is tested in metrics.test.ts).
  Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'true' }, env);
  let loaded: Handler | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- load the file the way the Lambda runtime does
    loaded = require(BUNDLE).handler;
  });
  return loaded!;
}

beforeAll(async () => {
  [dynamo, dataApi, sfn, cfn] = await Promise.all([
    startLocalDynamoDb(), startRedshiftDataServer({ clusters: ['examplecluster'] }), startSfnCallbackServer(), startCfnResponseServer(),
  ]);
  const tableName = await dynamo.createTrackingTable();
  handler = loadBundle(handlerEnv({ dynamodb: dynamo.endpoint, sfn: sfn.endpoint, redshiftData: dataApi.endpoint }, tableName));
  queue = new LocalQueue({ visibilityTimeoutMs: 200 });
  queue.setConsumer((event) => handler(event));
  dataApi.connectQueue(queue);
});

afterAll(async () => {
  queue?.close();
  await Promise.all([dynamo?.close(), dataApi?.close(), sfn?.close(), cfn?.close()]);
  process.env = savedEnv;
});

afterEach(async () => {
  await queue.whenIdle();
  expect(queue.deadLetters).toEqual([]);
});

async function describeLatest(executionArn: string) {
  return handler({ action: 'describeStatement', statementId: 'LATEST', executionArn });
}

test('Step Functions: FINISHED calls back with the event; LATEST reads the result', async () => {
  const taskToken = sfn.issueToken();
  const started = await handler({ sqlStatement: 'select 41 + 1 as answer, getdate() is not null as has_date', taskToken, executionArn: EXECUTION_ARN });
  expect(started).toMatchObject({ Id: expect.any(String), ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'admin' });
  expect(typeof started.CreatedAt).toBe('string');

  const callback = await sfn.waitForCallback(taskToken, 20_000);
  expect(callback.kind).toBe('success');
  const event = JSON.parse((callback as { output: string }).output);
  expect(event.detail).toMatchObject({ statementId: started.Id, state: 'FINISHED', rows: 1 });

  const result = await handler({ action: 'getStatementResult', statementId: 'LATEST', executionArn: EXECUTION_ARN });
  expect(result.Records).toEqual([[{ longValue: 42 }, { booleanValue: true }]]);
  expect(result.TotalNumRows).toBe(1);
});

test('Step Functions: FAILED calls back FAILED with PostgreSQL\'s error text; describe LATEST says why', async () => {
  const executionArn = `${EXECUTION_ARN}-failure`;
  const taskToken = sfn.issueToken();
  await handler({ sqlStatement: 'select get_date()', taskToken, executionArn });

  const callback = await sfn.waitForCallback(taskToken, 20_000);
  expect(callback).toMatchObject({ kind: 'failure', error: 'FAILED' });
  const cause = JSON.parse((callback as { cause: string }).cause);
  expect(cause.detail.state).toBe('FAILED');
  expect(cause.detail.error).toMatch(/function get_date\(\) does not exist/);
  await expect(describeLatest(executionArn)).resolves.toMatchObject({ Status: 'FAILED', Error: expect.stringMatching(/get_date/) });
});

test('parameters and a transaction of several statements', async () => {
  const executionArn = `${EXECUTION_ARN}-batch`;
  const taskToken = sfn.issueToken();
  await handler({
    sqlStatements: ['create table bundle_t(id int, name varchar(20))', "insert into bundle_t values (1, 'a'), (2, 'b')", 'select count(*) from bundle_t'],
    taskToken,
    executionArn,
  });
  expect((await sfn.waitForCallback(taskToken, 20_000)).kind).toBe('success');
  const described = await describeLatest(executionArn);
  expect(described.SubStatements).toHaveLength(3);
  const count = await handler({ action: 'getStatementResult', statementId: described.SubStatements[2].Id });
  expect(count.Records).toEqual([[{ longValue: 2 }]]);

  const paramToken = sfn.issueToken();
  await handler({ sqlStatement: 'select name from bundle_t where id = :id', parameters: [{ name: 'id', value: 2 }], taskToken: paramToken, executionArn });
  await sfn.waitForCallback(paramToken, 20_000);
  await expect(handler({ action: 'getStatementResult', statementId: 'LATEST', executionArn }))
    .resolves.toMatchObject({ Records: [[{ stringValue: 'b' }]] });
});

test('cancelling a running statement: ABORTED, and the waiting task is called back with a failure', async () => {
  const executionArn = `${EXECUTION_ARN}-cancel`;
  const taskToken = sfn.issueToken();
  await handler({ sqlStatement: 'select pg_sleep(60)', taskToken, executionArn });
  await until(() => dataApi.statements().some((s) => s.statementName?.startsWith(executionArn) && s.status === 'STARTED'), 20_000, 'the statement to start');

  await expect(handler({ action: 'cancelStatement', statementId: 'LATEST', executionArn })).resolves.toEqual({ Status: true });

  const callback = await sfn.waitForCallback(taskToken, 20_000);
  expect(callback.kind).toBe('failure');
  expect(JSON.parse((callback as { cause: string }).cause).detail.state).toBe('ABORTED');
  await expect(describeLatest(executionArn)).resolves.toMatchObject({ Status: 'ABORTED' });
});

test('singleton: of 5 concurrent identical requests exactly one starts', async () => {
  const executionArn = `${EXECUTION_ARN}-singleton`;
  const tokens = Array.from({ length: 5 }, () => sfn.issueToken());
  const results = await Promise.allSettled(tokens.map((taskToken) =>
    handler({ sqlStatement: 'select pg_sleep(0.5)', action: 'executeSingletonStatement', taskToken, executionArn })));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(rejected.map((r) => r.reason.name)).toEqual(Array(4).fill('ConcurrentExecution'));
  const winner = tokens[results.findIndex((r) => r.status === 'fulfilled')];
  expect((await sfn.waitForCallback(winner, 20_000)).kind).toBe('success');
  // Released on completion: the next run starts.
  const next = sfn.issueToken();
  await handler({ sqlStatement: 'select pg_sleep(0.5)', action: 'executeSingletonStatement', taskToken: next, executionArn });
  expect((await sfn.waitForCallback(next, 20_000)).kind).toBe('success');
});

test('CloudFormation: Create answers SUCCESS with the statement name; failing SQL answers FAILED with the error', async () => {
  const createUrl = cfn.newResponseUrl({ expect: { LogicalResourceId: 'ExampleTable', RequestId: 'request-Create' } });
  const started = await handler({ ...cloudFormationEvent('Create', createUrl), sqlStatement: 'create table cfn_table(id int)' });
  const created = await cfn.waitForResponse(createUrl, 20_000);
  expect(created.problems).toEqual([]);
  expect(created.body).toMatchObject({
    Status: 'SUCCESS',
    PhysicalResourceId: expect.stringMatching(/^ExampleTable:\d{12}\.\d{15}$/),
    Data: { statementId: started.Id, state: 'FINISHED', rows: expect.any(Number) },
  });

  const updateUrl = cfn.newResponseUrl();
  await handler({ ...cloudFormationEvent('Update', updateUrl), sqlStatement: 'create table cfn_table(id int)' });
  const updated = await cfn.waitForResponse(updateUrl, 20_000);
  expect(updated.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ExampleTable:1764000000.123000000001' });
  expect(updated.body!.Reason).toMatch(/^FAILED: .*"cfn_table" already exists/);
});

test('RedshiftSql: CloudFormation\'s own requests, the SQL in the properties: create, update, failing update and its rollback, delete', async () => {
  const viewExists = async () => (await dataApi.query('dev', 'select to_regclass(\'public.sql_resource_view\') is not null')).rows[0]?.[0];
  let requests = 0;
  const sqlResource = (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    // Every CloudFormation request has its own RequestId (a rollback Update too).
    const RequestId = `request-${requestType}-${++requests}`;
    const url = cfn.newResponseUrl({ expect: { LogicalResourceId: 'SqlView', RequestId } });
    const event = {
      ...cloudFormationEvent(requestType, url, { LogicalResourceId: 'SqlView', RequestId, ...extra }),
      ResourceProperties: { ServiceToken: 'tasker', ...properties },
    };
    return { url, event };
  };
  const answered = async (requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const { url, event } = sqlResource(requestType, properties, extra);
    await handler(event);
    const answer = await cfn.waitForResponse(url, 20_000);
    expect(answer.problems).toEqual([]);
    return answer.body!;
  };
  const v1 = {
    OnCreate: 'create or replace view public.sql_resource_view as select 1 as one',
    OnUpdate: 'create or replace view public.sql_resource_view as select 1 as one',
    OnDelete: 'drop view if exists public.sql_resource_view',
  };
  const created = await answered('Create', v1);
  expect(created).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: expect.stringMatching(/^SqlView:\d{12}\.\d{15}$/) });
  expect(await viewExists()).toBe('t');
  const physical = { PhysicalResourceId: created.PhysicalResourceId };

  // An Update whose SQL fails: FAILED with Redshift's error text; CloudFormation's rollback Update runs the old SQL.
  const broken = { ...v1, OnUpdate: 'create or replace view public.sql_resource_view as select no_such_column' };
  const failed = await answered('Update', broken, physical);
  expect(failed).toMatchObject({ Status: 'FAILED', PhysicalResourceId: created.PhysicalResourceId });
  expect(failed.Reason).toMatch(/^FAILED: .*no_such_column/);
  const rolledBack = await answered('Update', v1, physical);
  expect(rolledBack).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
  expect(await viewExists()).toBe('t');

  const deleted = await answered('Delete', v1, physical);
  expect(deleted).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: created.PhysicalResourceId });
  expect(await viewExists()).toBe('f');

  // A failed Create (SQL error) reports the failed-Create id; its rollback Delete runs no SQL.
  const failedCreate = await answered('Create', { OnCreate: 'create view public.sql_resource_view as select nope', OnDelete: 'drop table if exists public.my_table' });
  expect(failedCreate).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'SqlView:CREATE_FAILED' });
  const before = dataApi.statements().length;
  const rollback = await answered('Delete', { OnCreate: 'x', OnDelete: 'drop table if exists public.my_table' }, { PhysicalResourceId: 'SqlView:CREATE_FAILED' });
  expect(rollback).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'SqlView:CREATE_FAILED' });
  expect(dataApi.statements()).toHaveLength(before);
});

test('CloudFormation: a request that cannot start is answered FAILED at once', async () => {
  const url = cfn.newResponseUrl();
  const result = await handler({ ...cloudFormationEvent('Delete', url), ResourceProperties: { OnCreate: 'select 1', OnDelete: ' ' } });
  expect(result).toMatchObject({ Status: 'FAILED' });
  const answer = await cfn.waitForResponse(url, 5_000);
  expect(answer.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ExampleTable:1764000000.123000000001' });
});

test('invalid requests are typed errors and start nothing', async () => {
  const before = dataApi.statements().length;
  await expect(handler({ sqlStatement: 'select 1', taskToken: 'token-without-arn' })).rejects.toMatchObject({ name: 'InvalidRequest' });
  await expect(handler({ action: 'describeStatement', statementId: 'LATEST', executionArn: `${EXECUTION_ARN}-none` }))
    .rejects.toMatchObject({ name: 'PreviousExecutionNotFound' });
  expect(dataApi.statements()).toHaveLength(before);
});

test('a misconfigured function fails every invocation with ConfigurationError', async () => {
  const broken = loadBundle({ CLUSTER_IDENTIFIER: 'a', WORKGROUP_NAME: 'b' });
  await expect(broken({ sqlStatement: 'select 1' })).rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/Exactly one of CLUSTER_IDENTIFIER and WORKGROUP_NAME/) });
  await expect(broken({ Records: [] })).rejects.toMatchObject({ name: 'ConfigurationError' });
  delete process.env.WORKGROUP_NAME;
});
