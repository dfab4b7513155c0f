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

test('plain statement: 3 calls to start (register, start, record its id), 2 to complete: 5, as the original', async () => {
  const { start, completion } = await lifecycle({}, 'FINISHED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem', 'UpdateItem']);
  expect(completion).toEqual(['SendTaskSuccess', 'UpdateItem']);
});

test('failed statement: 3 to start, 3 to complete (the error text is read once)', async () => {
  const { start, completion } = await lifecycle({}, 'FAILED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem', 'UpdateItem']);
  expect(completion).toEqual(['DescribeStatement', 'SendTaskFailure', 'UpdateItem']);
});

test('singleton statement: 5 to start (register, lock, start, confirm, record), 3 to complete (claim, unlock, callback)', async () => {
  const { start, completion } = await lifecycle({ action: 'executeSingletonStatement' }, 'FINISHED');
  expect(start).toEqual(['ExecuteStatement', 'PutItem', 'PutItem', 'UpdateItem', 'UpdateItem']);
  expect(completion).toEqual(['DeleteItem', 'SendTaskSuccess', 'UpdateItem']);
});

test('a duplicate event costs the refused claim and the read that explains it, and no callback', async () => {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  calls();
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  expect(calls()).toEqual(['GetItem', 'UpdateItem']);
});

test('a forged event (the right name, another statement id) costs 2 calls and calls nobody back', async () => {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  calls();
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'forged-id', 'FINISHED'))] });
  expect(calls()).toEqual(['GetItem', 'UpdateItem']);
});

test('an event whose id was never recorded (the start died after ExecuteStatement): the starter confirms it by name', async () => {
  // The record write fails; the start still succeeds.
  jest.spyOn(deps.table, 'recordStatementId').mockRejectedValueOnce(new Error('DynamoDB is down'));
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  redshiftData.on(ListStatementsCommand).resolves({ Statements: [{ Id: 'statement-1', StatementName: name, Status: 'FINISHED' }] });
  calls();
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  expect(calls()).toEqual(['GetItem', 'ListStatements', 'SendTaskSuccess', 'UpdateItem', 'UpdateItem', 'UpdateItem']);
});

test('a retried start of the same caller: the refused registration, its read, and ExecuteStatement with the same client token', async () => {
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  calls();
  await route(deps, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  expect(calls()).toEqual(['ExecuteStatement', 'GetItem', 'PutItem', 'UpdateItem']);
});

test('a sweep with nothing in flight costs one index query; a lost event costs the sweep five calls (its id is recorded)', async () => {
  const swept = { ...deps, config: { ...deps.config, functionName: 'tasker' } };
  await route(swept, { action: 'reconcile' });
  expect(calls()).toEqual(['Query']);
  await route(swept, { sqlStatement: 'select 1', taskToken: 'token', executionArn: EXECUTION_ARN });
  const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
  redshiftData.on(ListStatementsCommand).resolves({ Statements: [{ Id: 'statement-1', StatementName: name, Status: 'FINISHED' }] });
  redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'FINISHED', ResultRows: 1 });
  calls();
  await route(swept, { action: 'reconcile', olderThanSeconds: 0 });
  expect(calls()).toEqual(['DescribeStatement', 'Query', 'SendTaskSuccess', 'UpdateItem', 'UpdateItem']);
});
