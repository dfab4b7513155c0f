/**
 * A `RedshiftSql` request whose SQL fails with a serialization conflict runs it again, as a statement of its own, up
 * to 3 times before the resource is answered FAILED (router, real tracking table on dynalite, Data API mocked): the
 * SQL and parameters of the failed statement, never an AUTO_COMMIT list, never another failure, never twice for one
 * failed statement.
 */
import {
  BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TestDeps, cloudFormationEvent, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { CustomResource } from '../../src/contract';

const redshiftData = mockClient(RedshiftDataClient);
const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=abc';
const CONFLICT = 'ERROR: 1023\n  Detail: Serializable isolation violation on table - 12345, transactions forming the cycle are: 1, 2';
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let started = 0;
/** Statement id → what DescribeStatement says of it. */
const described = new Map<string, Record<string, unknown>>();

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  described.clear();
  started = 0;
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => {
    const id = `statement-${++started}`;
    described.set(id, { Id: id, QueryString: input.Sql, QueryParameters: input.Parameters });
    return { Id: id };
  });
  redshiftData.on(BatchExecuteStatementCommand).callsFake(async (input) => {
    const id = `batch-${++started}`;
    // Sub-statements as the Data API lists them (not necessarily in order).
    const subs = (input.Sqls as string[]).map((sql, index) => ({ Id: `${id}:${index + 1}`, QueryString: sql })).reverse();
    described.set(id, { Id: id, SubStatements: subs, QueryParameters: input.Parameters });
    return { Id: id };
  });
  redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({ Status: 'FAILED', Error: CONFLICT, ...described.get(input.Id!) }));
  deps = await makeDeps(dynamo);
});

function resource(properties: Record<string, unknown>) {
  return cloudFormationEvent('Create', RESPONSE_URL, {
    LogicalResourceId: 'Grants',
    ResourceType: CustomResource.SQL_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:Tasker', ServiceTimeout: '600', ...properties },
  });
}

/** The name of the statement a start call sent (ExecuteStatement or BatchExecuteStatement), by its order. */
function nameOf(index: number): string {
  const calls = [...redshiftData.commandCalls(ExecuteStatementCommand), ...redshiftData.commandCalls(BatchExecuteStatementCommand)]
    .map((call) => call.args[0].input as { StatementName?: string; Sql?: string });
  return calls[index].StatementName!;
}

/** Delivers the FAILED (or FINISHED) event of the n-th statement started. */
async function complete(n: number, state: 'FAILED' | 'FINISHED' = 'FAILED') {
  const id = [...described.keys()][n - 1];
  return route(deps, { Records: [sqsRecord(statusEvent(nameOf(n - 1), id, state, state === 'FINISHED' ? 0 : -1))] });
}

test('a conflict runs the same SQL and parameters again as a new statement; the run that finishes answers SUCCESS', async () => {
  await route(deps, resource({ OnCreate: 'grant select on sales to group :grp', Parameters: { grp: 'analysts' } }));
  await complete(1);

  expect(deps.puts).toEqual([]);
  const runs = redshiftData.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
  expect(runs).toHaveLength(2);
  expect(runs[1]).toMatchObject({ Sql: runs[0].Sql, Parameters: [{ name: 'grp', value: 'analysts' }], WithEvent: true });
  expect(runs[1].StatementName).not.toBe(runs[0].StatementName);
  expect(runs[1].ClientToken).not.toBe(runs[0].ClientToken);
  const rerun = (await tableItems(dynamo, deps)).find((item) => `${item.id}:${item.invocationId}` === runs[1].StatementName)!;
  expect(JSON.parse(rerun.callback_details)).toMatchObject({ LogicalResourceId: 'Grants', ConflictAttempt: 1, ServiceTimeout: 600 });

  await complete(2, 'FINISHED');
  expect(deps.puts).toHaveLength(1);
  expect(JSON.parse(deps.puts[0].body)).toMatchObject({
    Status: 'SUCCESS', PhysicalResourceId: runs[1].StatementName, Reason: expect.stringContaining('It ran 2 times'),
  });
});

test('after 3 runs again, the fourth conflict answers FAILED with Redshift\'s text', async () => {
  await route(deps, resource({ OnCreate: 'grant select on sales to group analysts' }));
  for (let n = 1; n <= 4; n++) await complete(n);

  expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(4);
  expect(deps.puts).toHaveLength(1);
  expect(JSON.parse(deps.puts[0].body)).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/1023[\s\S]*It ran 4 times/) });
});

test('a list runs again in its order (the transaction rolled back); an AUTO_COMMIT list does not (some of it committed)', async () => {
  await route(deps, resource({ OnCreate: ['grant select on a to u', 'grant select on b to u', 'grant select on c to u'] }));
  await complete(1);
  const batches = redshiftData.commandCalls(BatchExecuteStatementCommand).map((call) => call.args[0].input);
  expect(batches).toHaveLength(2);
  expect(batches[1].Sqls).toEqual(['grant select on a to u', 'grant select on b to u', 'grant select on c to u']);

  deps.puts.length = 0;
  redshiftData.resetHistory();
  deps = await makeDeps(dynamo);
  described.clear();
  started = 0;
  await route(deps, resource({ OnCreate: ['vacuum a', 'vacuum b'], ExecutionMode: 'AUTO_COMMIT' }));
  await complete(1);
  expect(redshiftData.commandCalls(BatchExecuteStatementCommand)).toHaveLength(1);
  expect(JSON.parse(deps.puts[0].body)).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('1023') });
});

test('another failure is not run again; the same failed event twice runs the SQL again once', async () => {
  await route(deps, resource({ OnCreate: 'select 1' }));
  const event = statusEvent(nameOf(0), 'statement-1', 'FAILED', -1);
  await route(deps, { Records: [sqsRecord(event, 'm-1'), sqsRecord(event, 'm-2')] });
  await route(deps, { Records: [sqsRecord(event, 'm-3')] });
  expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(2);

  deps = await makeDeps(dynamo);
  redshiftData.resetHistory();
  described.clear();
  started = 0;
  redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({
    ...described.get(input.Id!), Status: 'FAILED', Error: 'ERROR: relation "sales" does not exist',
  }));
  await route(deps, resource({ OnCreate: 'select * from sales' }));
  await complete(1);
  expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  expect(JSON.parse(deps.puts[0].body)).toMatchObject({ Status: 'FAILED', Reason: expect.stringContaining('does not exist') });
});

test('an event that says "conflict" for a statement the Data API describes otherwise runs nothing again', async () => {
  await route(deps, resource({ OnCreate: 'grant select on sales to group analysts' }));
  described.set('statement-1', { ...described.get('statement-1'), Status: 'FINISHED', Error: undefined });
  const forged = statusEvent(nameOf(0), 'statement-1', 'FAILED', -1);
  forged.detail.error = CONFLICT;

  await route(deps, { Records: [sqsRecord(forged)] });

  expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  expect(deps.puts).toHaveLength(1);
  expect(deps.log.lines.some((line) => /the Data API does not; not running it again/.test(line.message))).toBe(true);
});
