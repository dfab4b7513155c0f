/**
 * AWS calls per statement lifecycle (the figures quoted in the docs): counted on the real DynamoDB client and on the
 * mocked Data API and Step Functions clients.
 */
import { DescribeStatementCommand, ExecuteStatementCommand, ListStatementsCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { EXECUTION_ARN, TestDeps, makeDeps, recordCalls, sqsRecord, statusEvent } from './support';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let dynamoCalls: string[];

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  dynamoCalls = recordCalls(dynamo.client);
});
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  let started = 0;
  redshiftData.on(ExecuteStatementCommand).callsFake(async () => ({ Id: `statement-${++started}` }));
  redshiftData.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: 'ERROR: boom' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  deps = await makeDeps(dynamo);
  dynamoCalls.length = 0;
});

function calls(): string[] {
  const all = [...dynamoCalls, ...redshiftData.calls().map((c) => c.args[0].constructor.name), ...sfn.calls().map((c) => c.args[0].constructor.name)];
  dynamoCalls.length = 0;
  redshiftData.resetHistory();
  sfn.resetHistory();
  return all.map((name) => name.replace(/Command$/, '')).sort();
}

async function lifecycle(request: Record<string, unknown>, state: string) {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN, ...request });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  const start = calls();
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', state))] });
  return { start, completion: calls() };
}

test('plain statement: 2 calls to start, 2 to complete (the original made 2 + 3)', async () => {
  const { start, completion } = await lifecycle({}, 'FINISHED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem']);
  expect(completion).toEqual(['SendTaskSuccess', 'UpdateItem']);
});

test('failed statement: 2 to start, 3 to complete (the error text is read once)', async () => {
  const { start, completion } = await lifecycle({}, 'FAILED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem']);
  expect(completion).toEqual(['DescribeStatement', 'SendTaskFailure', 'UpdateItem']);
});

test('singleton statement: 4 to start (register, lock, start, confirm), 3 to complete (claim, unlock, callback)', async () => {
  const { start, completion } = await lifecycle({ action: 'executeSingletonStatement' }, 'FINISHED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem', 'PutItem', 'UpdateItem']);
  expect(completion).toEqual(['DeleteItem', 'SendTaskSuccess', 'UpdateItem']);
});

test('a duplicate event costs one conditional write and no callback', async () => {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  calls();
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  expect(calls()).toEqual(['UpdateItem']);
});

test('a retried start of the same caller: the refused registration, its read, and ExecuteStatement with the same client token', async () => {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  calls();
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  expect(calls()).toEqual(['ExecuteStatement', 'GetItem', 'PutItem']);
});

test('a sweep with nothing in flight costs one index query; a lost event costs the sweep five calls', async () => {
  const swept = { ...deps, config: { ...deps.config, functionName: 'tasker' } };
  await route(swept, { action: 'reconcile' });
  expect(calls()).toEqual(['Query']);
  await route(swept, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  redshiftData.on(ListStatementsCommand).resolves({ Statements: [{ Id: 'statement-1', StatementName: name, Status: 'FINISHED' }] });
  redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'FINISHED', ResultRows: 1 });
  calls();
  await route(swept, { action: 'reconcile', olderThanSeconds: 0 });
  expect(calls()).toEqual(['DescribeStatement', 'ListStatements', 'Query', 'SendTaskSuccess', 'UpdateItem', 'UpdateItem']);
});
