import {
  BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, cloudFormationEvent, makeDeps, tableItems } from './support';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let started = 0;
const executeStatement = async (input: any) => ({
  $metadata: { httpStatusCode: 200, requestId: 'r' },
  Id: `statement-${++started}`,
  CreatedAt: new Date('2026-11-24T10:00:00.000Z'),
  ClusterIdentifier: input.ClusterIdentifier,
  Database: input.Database,
  DbUser: input.DbUser,
});

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  started = 0;
  redshiftData.on(ExecuteStatementCommand).callsFake(executeStatement);
  redshiftData.on(BatchExecuteStatementCommand).callsFake(async (input) => ({
    Id: `batch-${++started}`, CreatedAt: new Date('2026-11-24T10:00:00.000Z'), ClusterIdentifier: input.ClusterIdentifier,
  }));
  deps = await makeDeps(dynamo);
});

describe('executeStatement', () => {
  test('Step Functions callback: registers, then starts with an event; answers plain JSON', async () => {
    // WHEN
    const result = await route(deps, { sqlStatement: 'select getdate()', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

    // THEN
    expect(result).toEqual({
      Id: 'statement-1', CreatedAt: '2026-11-24T10:00:00.000Z', ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'admin',
    });
    const call = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(call).toEqual({
      ClusterIdentifier: 'examplecluster',
      Database: 'dev',
      DbUser: 'admin',
      Sql: 'select getdate()',
      // Derived from the task token: a retried invocation names (and registers) the same statement.
      StatementName: expect.stringMatching(new RegExp(`^${EXECUTION_ARN}:\\d{12}\\.\\d{15}$`)),
      WithEvent: true,
      // The fast path (default 2 s): a statement that ends within it is called back from this answer.
      WaitTimeSeconds: 2,
      ClientToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
    const items = await tableItems(dynamo, deps);
    expect(items).toHaveLength(1);
    expect(`${items[0].id}:${items[0].invocationId}`).toBe(call.StatementName);
    expect(items[0].sqlStatement).toBe('select getdate()');
    expect(JSON.parse(items[0].callback_details)).toEqual({ taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    // In flight: expires after the Data API's 24 h horizon plus the TTL (1 day).
    const now = Math.floor(Date.now() / 1000);
    expect(items[0].TTL).toBeGreaterThanOrEqual(now + 2 * 86_400 - 5);
    expect(items[0].TTL).toBeLessThanOrEqual(now + 2 * 86_400 + 5);
  });

  test('no callback and no executionArn: an ad-hoc name, no event', async () => {
    await route(deps, { sqlStatement: 'select 1' });
    const call = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(call.StatementName).toMatch(/^arn:::eu-west-1::custom_invocation:[0-9a-f-]{36}:\d{10}\.\d{15}$/);
    expect(call.WithEvent).toBe(false);
    expect(JSON.parse((await tableItems(dynamo, deps))[0].callback_details)).toEqual({});
  });

  test('executionArn without a token is recorded (so LATEST finds it), without an event', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    const call = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(call.StatementName!.startsWith(`${EXECUTION_ARN}:`)).toBe(true);
    expect(call.WithEvent).toBe(false);
  });

  test('parameters are passed as Data API parameters, never spliced into the SQL', async () => {
    await route(deps, {
      sqlStatement: 'select * from t where id = :id and name = :name and active = :active',
      parameters: [{ name: 'id', value: 42 }, { name: 'name', value: "O'Brien; drop table t" }, { name: 'active', value: true }],
    });
    const call = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(call.Sql).toBe('select * from t where id = :id and name = :name and active = :active');
    expect(call.Parameters).toEqual([
      { name: 'id', value: '42' }, { name: 'name', value: "O'Brien; drop table t" }, { name: 'active', value: 'true' },
    ]);
    expect(deps.log.text()).not.toContain("O'Brien");
  });

  test('sqlStatements run as one transaction with BatchExecuteStatement', async () => {
    const result = await route(deps, { sqlStatements: ['create table a(i int)', 'insert into a values (1)'], taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    expect(result).toMatchObject({ Id: 'batch-1' });
    expect(redshiftData).toHaveReceivedCommandWith(BatchExecuteStatementCommand, {
      Sqls: ['create table a(i int)', 'insert into a values (1)'], WithEvent: true, ClusterIdentifier: 'examplecluster',
    });
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
    expect((await tableItems(dynamo, deps))[0].sqlStatement).toBe('create table a(i int);\ninsert into a values (1)');
  });

  test('sqlStatements with parameters and AUTO_COMMIT: each statement commits on its own', async () => {
    await route(deps, {
      sqlStatements: ['insert into a values (:id)', 'vacuum a'], parameters: [{ name: 'id', value: 7 }], executionMode: 'AUTO_COMMIT',
    });
    expect(redshiftData).toHaveReceivedCommandWith(BatchExecuteStatementCommand, {
      Sqls: ['insert into a values (:id)', 'vacuum a'], Parameters: [{ name: 'id', value: '7' }], ExecutionMode: 'AUTO_COMMIT',
    });
  });

  test('Serverless with a secret', async () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs-AbCdEf';
    const serverless = await makeDeps(dynamo, { env: { CLUSTER_IDENTIFIER: '', DB_USER: '', WORKGROUP_NAME: 'wg', SECRET_ARN: secret } });
    await route(serverless, { sqlStatement: 'select 1' });
    expect(redshiftData).toHaveReceivedCommandWith(ExecuteStatementCommand, { WorkgroupName: 'wg', SecretArn: secret, Database: 'dev' });
    const input = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(input.ClusterIdentifier).toBeUndefined();
    expect(input.DbUser).toBeUndefined();
  });

  test('a Data API error keeps its SDK name and leaves nothing in the table', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(new ValidationException({ message: 'Cannot process query string larger than 100kB', $metadata: {} }));
    await expect(route(deps, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }))
      .rejects.toMatchObject({ name: 'ValidationException' });
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test('many starts of the same execution in the same millisecond get distinct names (Parallel branches)', async () => {
    const sameMillisecond = await makeDeps(dynamo, { now: () => 1_764_000_000_000 });
    await Promise.all(Array.from({ length: 25 }, () => route(sameMillisecond, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN })));
    const names = redshiftData.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.StatementName);
    expect(new Set(names).size).toBe(25);
    expect(await tableItems(dynamo, sameMillisecond)).toHaveLength(25);
  });
});

describe('name collisions', () => {
  test('a name already taken in the table (another environment, same millisecond) is retried with a new id', async () => {
    const register = deps.table.register.bind(deps.table);
    let attempts = 0;
    deps.table.register = async (item) => (++attempts === 1 ? false : register(item));
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    expect(attempts).toBe(2);
    const items = await tableItems(dynamo, deps);
    expect(items).toHaveLength(1);
    expect(redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName).toBe(`${items[0].id}:${items[0].invocationId}`);
  });

  test('a singleton keeps its lock when its name has to change', async () => {
    const register = deps.table.register.bind(deps.table);
    let attempts = 0;
    deps.table.register = async (item) => (++attempts === 1 ? false : register(item));
    await route(deps, { sqlStatement: 'call sp(1)', action: 'executeSingletonStatement', executionArn: EXECUTION_ARN });
    const items = await tableItems(dynamo, deps);
    const statement = items.find((i) => i.invocationId !== 'lock')!;
    expect(items.find((i) => i.invocationId === 'lock')).toMatchObject({ holder: `${statement.id}:${statement.invocationId}`, statementId: 'statement-1' });
  });

  test('gives up after three taken names, leaving nothing behind', async () => {
    deps.table.register = async () => false;
    await expect(route(deps, { sqlStatement: 'call sp(1)', action: 'executeSingletonStatement' })).rejects.toThrow(/Could not register a unique statement name/);
    expect(await tableItems(dynamo, deps)).toEqual([]);
    expect(redshiftData.calls()).toHaveLength(0);
  });
});

describe('invalid invocations', () => {
  const cfnWithoutUrl = { ...cloudFormationEvent('Create', 'https://example.invalid/x'), ResponseURL: 'not a url' };
  const invalid: [string, unknown, RegExp][] = [
    ['not an object', 'select 1', /must be a JSON object/],
    ['an array', [{ sqlStatement: 'select 1' }], /must be a JSON object/],
    ['null', null, /must be a JSON object/],
    ['no known field', { query: 'select 1' }, /Unsupported invocation.*"query"/],
    ['empty SQL', { sqlStatement: '   ' }, /sqlStatement must be a non-empty string/],
    ['SQL not a string', { sqlStatement: 42 }, /sqlStatement must be a non-empty string of SQL; got 42/],
    ['SQL over 100,000 bytes', { sqlStatement: `select '${'x'.repeat(100_000)}'` }, /100000 bytes per statement/],
    ['unknown action with SQL', { sqlStatement: 'select 1', action: 'runStatement' }, /Unsupported action "runStatement"/],
    ['both sqlStatement and sqlStatements', { sqlStatement: 'select 1', sqlStatements: ['select 2'] }, /not both/],
    ['empty sqlStatements', { sqlStatements: [] }, /array of 1 to 40 SQL strings.*0 items/],
    ['41 sqlStatements', { sqlStatements: Array(41).fill('select 1') }, /41 items/],
    ['sqlStatements with an empty item', { sqlStatements: ['select 1', ''] }, /sqlStatements\[1\] must be a non-empty string/],
    ['executionMode with one statement', { sqlStatement: 'select 1', executionMode: 'AUTO_COMMIT' }, /executionMode is only for a list of statements/],
    ['an unknown executionMode', { sqlStatements: ['select 1'], executionMode: 'auto' }, /executionMode must be "TRANSACTION" or "AUTO_COMMIT"; got "auto"/],
    ['parameters not an array', { sqlStatement: 'select :a', parameters: { a: 1 } }, /parameters must be a non-empty array/],
    ['parameter name not an identifier', { sqlStatement: 'select :a', parameters: [{ name: 'a-b', value: '1' }] }, /name must be an identifier.*"a-b"/],
    ['parameter name twice', { sqlStatement: 'select :a', parameters: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }, /given twice/],
    ['parameter value null', { sqlStatement: 'select :a', parameters: [{ name: 'a', value: null }] }, /no NULL or empty parameter values.*got null/],
    ['parameter value an object (not echoed)', { sqlStatement: 'select :a', parameters: [{ name: 'a', value: { password: 'hunter2' } }] }, /^(?!.*hunter2).*got an object\.$/],
    ['parameter value empty', { sqlStatement: 'select :a', parameters: [{ name: 'a', value: '' }] }, /non-empty string, number or boolean/],
    ['taskToken without executionArn', { sqlStatement: 'select 1', taskToken: TASK_TOKEN }, /taskToken was given without executionArn/],
    ['taskToken not a string', { sqlStatement: 'select 1', taskToken: 7, executionArn: EXECUTION_ARN }, /taskToken must be a non-empty string.*got a number/],
    ['taskToken too long (not echoed)', { sqlStatement: 'select 1', taskToken: `AQ${'t'.repeat(3000)}`, executionArn: EXECUTION_ARN }, /^(?!.*AQttt).*got a string of 3002 characters\.$/],
    ['executionArn too long', { sqlStatement: 'select 1', executionArn: `arn:${'x'.repeat(500)}` }, /executionArn must be a non-empty string of at most 450/],
    ['describe without statementId value', { action: 'describeStatement', statementId: '' }, /statementId must be a Data API statement id/],
    ['LATEST without executionArn', { action: 'describeStatement', statementId: 'LATEST' }, /needs executionArn/],
    ['unknown action with statementId', { action: 'deleteStatement', statementId: 'abc' }, /Unsupported action "deleteStatement" with statementId/],
    ['nextToken with describe', { action: 'describeStatement', statementId: 'abc', nextToken: 't' }, /nextToken is only used with "getStatementResult"/],
    ['Records not an array', { Records: 'x' }, /Records must be the array of an SQS batch/],
    ['CloudFormation fields but no usable ResponseURL', { ...cfnWithoutUrl, sqlStatement: 'select 1' }, /ResponseURL an http\(s\) URL/],
  ];

  test.each(invalid)('%s → InvalidRequest, nothing written, nothing started', async (_, event, message) => {
    await expect(route(deps, event)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(await tableItems(dynamo, deps)).toEqual([]);
    expect(redshiftData.calls()).toHaveLength(0);
  });

  test('the table has at least 20 cases', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(20);
  });
});

describe('executeSingletonStatement', () => {
  const singleton = { sqlStatement: 'call public.sp_slow(59)', action: 'executeSingletonStatement' };

  test('20 concurrent identical requests start exactly one statement; the rest get ConcurrentExecution', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      route(deps, { ...singleton, taskToken: `${TASK_TOKEN}${i}`, executionArn: EXECUTION_ARN })));
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(19);
    expect(rejected.every((r) => r.reason.name === 'ConcurrentExecution')).toBe(true);
    expect(rejected[0].reason.message).toMatch(/There is already an instance of "call public.sp_slow\(59\)" running/);
    expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    // One statement item and its lock; the rejected requests wrote nothing.
    const items = await tableItems(dynamo, deps);
    expect(items.filter((i) => i.invocationId === 'lock')).toHaveLength(1);
    expect(items.filter((i) => i.invocationId !== 'lock')).toHaveLength(1);
    const lock = items.find((i) => i.invocationId === 'lock')!;
    expect(lock.statementId).toBe('statement-1');
    expect(lock.leaseExpiresAt).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
  });

  test('different SQL is not blocked, and the same SQL is not blocked on another database', async () => {
    await route(deps, singleton);
    await route(deps, { ...singleton, sqlStatement: 'call public.sp_slow(58)' });
    const otherDatabase = await makeDeps(dynamo, { env: { DATABASE: 'other' } });
    await route(otherDatabase, singleton);
    expect(redshiftData.commandCalls(ExecuteStatementCommand)).toHaveLength(3);
  });

  test('a failed start releases the lock', async () => {
    redshiftData.on(ExecuteStatementCommand).rejectsOnce(new ValidationException({ message: 'syntax', $metadata: {} })).callsFake(executeStatement);
    await expect(route(deps, singleton)).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await tableItems(dynamo, deps)).toEqual([]);
    await expect(route(deps, singleton)).resolves.toMatchObject({ Id: expect.any(String) });
  });

  test('recovers the lock when its holder already ended (its completion event was lost)', async () => {
    await route(deps, singleton);
    redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'FINISHED' });
    await expect(route(deps, singleton)).resolves.toMatchObject({ Id: 'statement-2' });
    expect(deps.log.lines.some((l) => l.message.includes('Took over a singleton lock'))).toBe(true);
  });

  test('a holder that is still running keeps the lock', async () => {
    await route(deps, singleton);
    redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'STARTED' });
    await expect(route(deps, singleton)).rejects.toMatchObject({ name: 'ConcurrentExecution' });
  });

  test('a holder that crashed before starting loses the lock when its start lease expires', async () => {
    // GIVEN a lock taken 16 minutes ago whose statement never started (no statement id on the lock)
    let now = Date.now() - 16 * 60_000;
    const clocked = await makeDeps(dynamo, { now: () => now });
    redshiftData.on(ExecuteStatementCommand).rejectsOnce(Object.assign(new Error('Lambda crashed'), { name: 'Crash' })).callsFake(executeStatement);
    clocked.table.releaseLock = async () => true; // the crash skips the clean-up
    clocked.table.unregister = async () => undefined;
    await expect(route(clocked, singleton)).rejects.toThrow('Lambda crashed');
    // WHEN another start comes now
    now = Date.now();
    // THEN it takes the expired lock
    await expect(route(clocked, singleton)).resolves.toMatchObject({ Id: expect.any(String) });
  });
});
