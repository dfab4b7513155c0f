/**
 * Idempotent starts: a retried invocation for the same caller (task token, CloudFormation request) registers and
 * names the same statement and sends the same Data API client token; callers without a callback are not deduplicated.
 */
import {
  ActiveStatementsExceededException, DescribeStatementCommand, ExecuteStatementCommand, InternalServerException, RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TestDeps, cloudFormationEvent, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { clientToken, idempotencyKey, keyedInvocationId } from '../../lambda/idempotency';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/presigned?X-Amz-Signature=secret';
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let clock: number;
/** Statement ids by client token: what the Data API does with a repeated token (within 8 hours). */
let byToken: Map<string, string>;

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  byToken = new Map();
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => {
    const token = input.ClientToken ?? String(Math.random());
    if (!byToken.has(token)) byToken.set(token, `statement-${byToken.size + 1}`);
    return { Id: byToken.get(token) };
  });
  clock = 1_764_000_000_000;
  deps = await makeDeps(dynamo, { now: () => clock++, config: { functionName: 'starter' } });
});

const task = (taskToken: string, extra: Record<string, unknown> = {}) => ({ sqlStatement: 'insert into t values (1)', taskToken, executionArn: EXECUTION_ARN, ...extra });
const executeInputs = () => redshiftData.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);

test('a retried invocation with the same task token: the same name, registration and client token; one statement', async () => {
  const first = await route(deps, task('token-1'));
  const retry = await route(deps, task('token-1'));

  expect(retry).toEqual(first);
  const [a, b] = executeInputs();
  expect(b.StatementName).toBe(a.StatementName);
  expect(b.ClientToken).toBe(a.ClientToken);
  expect(byToken.size).toBe(1);
  const items = await tableItems(dynamo, deps);
  expect(items).toHaveLength(1);
  expect(items[0]).toMatchObject({ idempotencyKey: expect.stringMatching(/^[0-9a-f]{64}$/), startedBy: 'starter', inFlightOf: 'starter' });
  // The key is a hash: the token itself is kept only in callback_details.
  expect(items[0].idempotencyKey).not.toContain('token-1');
});

test('one callback for the caller, whatever the number of retries', async () => {
  await route(deps, task('token-1'));
  await route(deps, task('token-1'));
  await route(deps, task('token-1'));
  const name = executeInputs()[0].StatementName!;
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
});

test('a retry after the statement completed starts nothing (even after the Data API forgot the client token)', async () => {
  await route(deps, task('token-1'));
  const name = executeInputs()[0].StatementName!;
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
  byToken.clear();
  redshiftData.resetHistory();

  await expect(route(deps, task('token-1'))).resolves.toEqual({ Id: 'statement-1' });

  expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
});

test('a retry whose ExecuteStatement fails keeps the registration (the first attempt\'s statement may be running)', async () => {
  await route(deps, task('token-1'));
  redshiftData.on(ExecuteStatementCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
  await expect(route(deps, task('token-1'))).rejects.toMatchObject({ name: 'ThrottlingException' });
  expect(await tableItems(dynamo, deps)).toHaveLength(1);
});

test.each([
  ['a server error', () => new InternalServerException({ message: 'oops', Message: 'oops', $metadata: {} })],
  ['no answer', () => Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
])('a first attempt whose ExecuteStatement ends in %s keeps its registration; the retry reuses it and its client token', async (_, error) => {
  redshiftData.on(ExecuteStatementCommand).rejectsOnce(error()).callsFake(async () => ({ Id: 'statement-1' }));
  await expect(route(deps, task('token-1'))).rejects.toThrow();
  expect(await tableItems(dynamo, deps)).toHaveLength(1);
  await expect(route(deps, task('token-1'))).resolves.toMatchObject({ Id: 'statement-1' });
  const [first, second] = redshiftData.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input);
  expect(second).toMatchObject({ StatementName: first.StatementName, ClientToken: first.ClientToken });
  expect(await tableItems(dynamo, deps)).toEqual([expect.objectContaining({ statementId: 'statement-1' })]);
});

test('a retry with other parameters is refused, whatever the size of the SQL (the whole request is hashed)', async () => {
  const long = `select '${'x'.repeat(20_000)}' where 1 = :a`;
  await route(deps, { ...task('token-1'), sqlStatement: long, parameters: [{ name: 'a', value: '1' }] });
  await expect(route(deps, { ...task('token-1'), sqlStatement: long, parameters: [{ name: 'a', value: '2' }] }))
    .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/same SQL and parameters/) });
  await expect(route(deps, { ...task('token-1'), sqlStatement: `${long} `, parameters: [{ name: 'a', value: '1' }] }))
    .rejects.toMatchObject({ name: 'InvalidRequest' });
  expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
});

test('a first attempt whose ExecuteStatement is refused leaves nothing; its retry starts the statement', async () => {
  redshiftData.on(ExecuteStatementCommand).rejectsOnce(new ActiveStatementsExceededException({ message: 'no', $metadata: {} }))
    .callsFake(async () => ({ Id: 'statement-1' }));
  await expect(route(deps, task('token-1'))).rejects.toMatchObject({ name: 'ActiveStatementsExceededException' });
  expect(await tableItems(dynamo, deps)).toHaveLength(0);
  await expect(route(deps, task('token-1'))).resolves.toMatchObject({ Id: 'statement-1' });
  expect(await tableItems(dynamo, deps)).toHaveLength(1);
});

test('the same task token with other SQL is refused (InvalidRequest) and starts nothing', async () => {
  await route(deps, task('token-1'));
  redshiftData.resetHistory();
  await expect(route(deps, task('token-1', { sqlStatement: 'delete from t' }))).rejects.toMatchObject({
    name: 'InvalidRequest', message: expect.stringMatching(/already started another statement, .*a retried invocation must send the same SQL/),
  });
  expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  expect(await tableItems(dynamo, deps)).toHaveLength(1);
});

test('a refused or already completed singleton retry gives back the lock it took', async () => {
  const singleton = (sql: string) => task('token-1', { action: 'executeSingletonStatement', sqlStatement: sql });
  await route(deps, task('token-1'));
  // Other SQL for the same caller: refused, and the lock it took for that SQL is released.
  await expect(route(deps, singleton('call other()'))).rejects.toMatchObject({ name: 'InvalidRequest' });
  expect((await tableItems(dynamo, deps)).filter((i) => i.invocationId === 'lock')).toEqual([]);
  // The same singleton completed, then retried: nothing starts, and the lock is free for the next caller.
  await route(deps, task('token-2', { action: 'executeSingletonStatement', sqlStatement: 'call refresh()' }));
  const name = executeInputs().pop()!.StatementName!;
  const sfnBefore = sfn.commandCalls(SendTaskSuccessCommand).length;
  await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-2', 'FINISHED'))] });
  expect(sfn.commandCalls(SendTaskSuccessCommand).length).toBe(sfnBefore + 1);
  await route(deps, task('token-2', { action: 'executeSingletonStatement', sqlStatement: 'call refresh()' }));
  expect((await tableItems(dynamo, deps)).filter((i) => i.invocationId === 'lock')).toEqual([]);
  await expect(route(deps, task('token-3', { action: 'executeSingletonStatement', sqlStatement: 'call refresh()' }))).resolves.toBeDefined();
});

test('different task tokens of the same execution (Parallel branches, later tasks) are different statements', async () => {
  await Promise.all(['a', 'b', 'c'].map((token) => route(deps, task(token))));
  expect(new Set(executeInputs().map((i) => i.StatementName)).size).toBe(3);
  expect(await tableItems(dynamo, deps)).toHaveLength(3);
});

test('a singleton retried by the same caller does not find itself running', async () => {
  const singleton = task('token-1', { action: 'executeSingletonStatement' });
  await route(deps, singleton);
  await expect(route(deps, singleton)).resolves.toMatchObject({ Id: 'statement-1' });
  await expect(route(deps, task('token-2', { action: 'executeSingletonStatement' }))).rejects.toMatchObject({ name: 'ConcurrentExecution' });
});

test('CloudFormation: the same RequestId is the same statement; another request is another one', async () => {
  const create = { ...cloudFormationEvent('Create', RESPONSE_URL), sqlStatement: 'create table t(id int)' };
  await route(deps, create);
  await route(deps, create);
  await route(deps, { ...create, RequestId: 'another-request' });
  const names = executeInputs().map((i) => i.StatementName);
  expect(names[1]).toBe(names[0]);
  expect(names[2]).not.toBe(names[0]);
  expect(await tableItems(dynamo, deps)).toHaveLength(2);
});

test('without a callback every invocation starts a statement (no identity to deduplicate on)', async () => {
  await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
  await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
  const [a, b] = executeInputs();
  expect(a.StatementName).not.toBe(b.StatementName);
  expect(a.ClientToken).toBeUndefined();
});

test('LATEST is the most recently registered statement of the execution, whatever its invocation id', async () => {
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => ({ Id: `id-of-${input.StatementName!.slice(-6)}` }));
  const ids: string[] = [];
  for (const token of ['z', 'a', 'm']) {
    const { Id } = await route(deps, task(token)) as { Id: string };
    ids.push(Id);
    const name = executeInputs().pop()!.StatementName!;
    await route(deps, { Records: [sqsRecord(statusEvent(name, Id, 'FINISHED'))] });
  }
  redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({ Id: input.Id }));
  await expect(route(deps, { action: 'describeStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN })).resolves.toEqual({ Id: ids[2] });
});

test('keys, invocation ids and client tokens', () => {
  const key = idempotencyKey({ kind: 'stepFunctions', taskToken: 't', executionArn: 'e' })!;
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  expect(idempotencyKey({ kind: 'stepFunctions', taskToken: 't', executionArn: 'e' })).toBe(key);
  expect(idempotencyKey({ kind: 'stepFunctions', taskToken: 't', executionArn: 'other' })).not.toBe(key);
  expect(idempotencyKey({ kind: 'none' })).toBeUndefined();
  expect(keyedInvocationId(key)).toMatch(/^\d{12}\.\d{15}$/);
  expect(keyedInvocationId('0'.repeat(64))).toBe('000000000000.000000000000000');
  expect(clientToken(key)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(clientToken(key)).not.toBe(key.slice(0, 36));
});
