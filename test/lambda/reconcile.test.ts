/**
 * The reconciler sweep (`action: "reconcile"`) against a real tracking table (dynalite, with its `inFlight` index) and
 * mocked Data API and Step Functions clients: lost events, statements the Data API does not know, orphans.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CancelStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, ListStatementsCommand, RedshiftDataClient,
  ResourceNotFoundException, ValidationException,
} from '@aws-sdk/client-redshift-data';
import {
  DescribeExecutionCommand, SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand,
  SendTaskSuccessCommand, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TestDeps, cloudFormationEvent, makeDeps, recordCalls, sqsRecord, statusEvent, tableItems } from './support';
import { route } from '../../lambda/router';
import { TrackingTable } from '../../lambda/tracking-table';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const START = 1_764_000_000_000;
const MINUTE = 60_000;
const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/presigned?X-Amz-Signature=secret';
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let clock: number;
let started: number;
/** Data API statements by id: status and name, as the mocked ListStatements and DescribeStatement answer. */
let statements: Map<string, { name: string; status: string; error?: string; rows?: number }>;
let dynamoCalls: string[];

beforeAll(async () => {
  dynamo = await startLocalDynamoDb();
  dynamoCalls = recordCalls(dynamo.client);
});
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  clock = START;
  started = 0;
  statements = new Map();
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => {
    const id = `00000000-0000-0000-0000-${String(++started).padStart(12, '0')}`;
    statements.set(id, { name: input.StatementName, status: 'STARTED' });
    return { Id: id };
  });
  redshiftData.on(ListStatementsCommand).callsFake(async (input) => ({
    Statements: [...statements].filter(([, s]) => s.name.startsWith(input.StatementName))
      .map(([id, s]) => ({ Id: id, StatementName: s.name, Status: s.status, QueryString: 'x' })),
  }));
  redshiftData.on(DescribeStatementCommand).callsFake(async (input) => {
    const s = statements.get(input.Id);
    if (!s) throw new ResourceNotFoundException({ message: 'Query does not exist.', $metadata: {}, Message: 'Query does not exist.', ResourceId: input.Id! });
    return {
      Id: input.Id,
      Status: s.status,
      Error: s.error,
      ResultRows: s.rows ?? -1,
      RedshiftQueryId: 4711,
      CreatedAt: new Date(START),
      UpdatedAt: new Date(START + 5000),
    };
  });
  redshiftData.on(CancelStatementCommand).callsFake(async (input) => {
    const s = statements.get(input.Id)!;
    if (s.status !== 'STARTED') throw new ValidationException({ message: `already in ${s.status} state`, $metadata: {} });
    s.status = 'ABORTED';
    return { Status: true };
  });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  sfn.on(SendTaskHeartbeatCommand).resolves({});
  sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
  deps = await makeDeps(dynamo, { now: () => clock, config: { functionName: 'starter' } });
  dynamoCalls.length = 0;
});

async function startForTask(token: string, extra: Record<string, unknown> = {}) {
  const { Id } = await route(deps, { sqlStatement: 'select 1', taskToken: token, executionArn: EXECUTION_ARN, ...extra }) as { Id: string };
  return { id: Id, name: statements.get(Id)!.name };
}

const sweep = (olderThanSeconds?: number) => route(deps, { action: 'reconcile', ...olderThanSeconds !== undefined ? { olderThanSeconds } : {} });

function finish(id: string, status: 'FINISHED' | 'FAILED' | 'ABORTED', extra: { error?: string; rows?: number } = {}) {
  Object.assign(statements.get(id)!, { status, ...extra });
}

describe('lost events', () => {
  test('a FINISHED statement whose event was lost is called back once, with the event the Data API would have sent', async () => {
    const { id, name } = await startForTask('token-1');
    finish(id, 'FINISHED', { rows: 3 });
    clock += 2 * MINUTE;

    const report = await sweep();

    expect(report).toMatchObject({ examined: 1, completed: 1, incomplete: false });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output).toMatchObject({
      'source': 'aws.redshift-data',
      'detail-type': 'Redshift Data Statement Status Change',
      'detail': { statementName: name, statementId: id, state: 'FINISHED', rows: 3, redshiftQueryId: 4711 },
    });
    // Handled: out of the index; the late event (or another sweep) calls nobody back.
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] });
    await expect(sweep(0)).resolves.toMatchObject({ examined: 0 });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const [item] = await tableItems(dynamo, deps);
    expect(item).toMatchObject({ completedBy: expect.stringMatching(/^reconciler:/), statementId: id });
    expect(item.inFlightOf).toBeUndefined();
  });

  test('a FAILED statement is failed with Redshift\'s error text', async () => {
    const { id } = await startForTask('token-1');
    finish(id, 'FAILED', { error: 'ERROR: relation "nope" does not exist' });
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    const input = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(input.error).toBe('FAILED');
    expect(JSON.parse(input.cause!).detail).toMatchObject({ state: 'FAILED', error: 'ERROR: relation "nope" does not exist' });
  });

  test('a statement whose event arrived is not in the index: the sweep makes no call for it', async () => {
    const { id, name } = await startForTask('token-1');
    finish(id, 'FINISHED');
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] });
    clock += 10 * MINUTE;
    redshiftData.resetHistory();
    dynamoCalls.length = 0;
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
    expect(dynamoCalls).toEqual(['Query']);
    expect(redshiftData.calls()).toHaveLength(0);
  });

  test('only statements older than olderThanSeconds (default 60) are examined', async () => {
    const { id } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 30_000;
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
    await expect(sweep(10)).resolves.toMatchObject({ examined: 1, completed: 1 });
  });

  test('calls per stale statement: DescribeStatement (its id was recorded at the start), claim, callback, settle', async () => {
    const { id } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    redshiftData.resetHistory();
    dynamoCalls.length = 0;
    await sweep();
    const calls = [...dynamoCalls, ...redshiftData.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, '')),
      ...sfn.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ''))].sort();
    expect(calls).toEqual(['DescribeStatement', 'Query', 'SendTaskSuccess', 'UpdateItem', 'UpdateItem']);
  });

  test('a callback that fails leaves the statement in the index; the next sweep calls back', async () => {
    const { id } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    sfn.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' })).resolves({});
    await expect(sweep()).resolves.toMatchObject({ failed: 1 });
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
  });

  test('a sweep that crashed between its claim and the callback is finished by a sweep after its lease', async () => {
    const { id, name } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    const key = { id: EXECUTION_ARN, invocationId: name.slice(EXECUTION_ARN.length + 1) };
    const dead = await deps.table.claimCompletion(key, {
      attempt: 'reconciler:dead', statementId: id, trusted: true, event: {}, ttl: 1, now: clock, leaseUntil: clock + MINUTE,
    });
    expect(dead.kind).toBe('claimed');
    // While its lease lasts, the claim is the dead sweep's: nobody calls back.
    await expect(sweep()).resolves.toMatchObject({ running: 1, completed: 0 });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
  });

  test('a settle that fails twice is tried again: one callback, and no sweep or event calls back again', async () => {
    const { id, name } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    const settle = jest.spyOn(deps.table, 'settle')
      .mockRejectedValueOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }))
      .mockRejectedValueOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    expect(settle).toHaveBeenCalledTimes(3);
    settle.mockRestore();
    clock += 30 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('a claim an earlier version left in the index (completedBy, no attempt) is taken over by a sweep', async () => {
    const { id, name } = await startForTask('token-1');
    finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    await DynamoDBDocumentClient.from(dynamo.client).send(new UpdateCommand({
      TableName: deps.config.tableName,
      Key: { id: EXECUTION_ARN, invocationId: name.slice(EXECUTION_ARN.length + 1) },
      UpdateExpression: 'SET completedBy = :owner',
      ExpressionAttributeValues: { ':owner': `reconciler:${id}` },
    }));
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
  });

  test('overlapping sweeps call back once', async () => {
    for (let i = 0; i < 20; i++) await startForTask(`token-${i}`, { sqlStatement: `select ${i}` });
    for (const id of statements.keys()) finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    const reports = await Promise.all([sweep(), sweep(), sweep()]);
    expect(reports.reduce((sum: number, r) => sum + (r as { completed: number }).completed, 0)).toBe(20);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 20);
    expect(new Set(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).size).toBe(20);
  });

  test('a running statement found by name keeps its id; later sweeps describe it directly', async () => {
    const { id } = await startForTask('token-1');
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1 });
    expect((await tableItems(dynamo, deps))[0].statementId).toBe(id);
    redshiftData.resetHistory();
    finish(id, 'FINISHED');
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
    expect(redshiftData).not.toHaveReceivedCommand(ListStatementsCommand);
  });
});

describe('statements the Data API does not know', () => {
  test('a registration whose statement never started: StatementNotFound after the 15-minute start lease', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    // A start that got no answer may have started its statement: its registration stays (for a retry, its event or a sweep)
    await expect(startForTask('token-0')).rejects.toThrow('socket hang up');
    expect(await tableItems(dynamo, deps)).toHaveLength(1);
    // and a start that died before ExecuteStatement leaves a registration too
    await deps.table.register({
      key: { id: EXECUTION_ARN, invocationId: '123456789012.123456789012345' },
      sqlStatement: 'select 1',
      callbackDetails: JSON.stringify({ taskToken: 'token-2', executionArn: EXECUTION_ARN }),
      ttl: 1,
      registeredAt: clock,
      startedBy: 'starter',
      reconciled: true,
    });
    clock += 10 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ starting: 2, notFound: 0 });
    clock += 6 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ notFound: 2 });
    expect(sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input.taskToken).sort()).toEqual(['token-0', 'token-2']);
    const input = sfn.commandCalls(SendTaskFailureCommand).find((c) => c.args[0].input.taskToken === 'token-2')!.args[0].input;
    expect(input).toMatchObject({ taskToken: 'token-2', error: 'StatementNotFound' });
    expect(JSON.parse(input.cause!).detail.error).toMatch(/^StatementNotFound: the Redshift Data API does not know statement/);
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
  });

  test('a statement older than the Data API\'s 24 hours fails its caller with StatementNotFound', async () => {
    const { id } = await startForTask('token-1');
    clock += 2 * MINUTE;
    await sweep(); // records its id
    statements.delete(id); // the Data API forgot it
    clock += 24 * 60 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ notFound: 1 });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input).toMatchObject({ error: 'StatementNotFound' });
  });
});

describe('orphans', () => {
  test('a running statement whose task was closed is cancelled and marked handled; its ABORTED event calls nobody back', async () => {
    const closed = await startForTask('closed-token');
    const waiting = await startForTask('waiting-token', { executionArn: `${EXECUTION_ARN}-2` });
    sfn.on(SendTaskHeartbeatCommand, { taskToken: 'closed-token' }).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    clock += 2 * MINUTE;

    await expect(sweep()).resolves.toMatchObject({ cancelled: 1, running: 1 });

    expect(redshiftData.commandCalls(CancelStatementCommand).map((c) => c.args[0].input.Id)).toEqual([closed.id]);
    await route(deps, { Records: [sqsRecord(statusEvent(closed.name, closed.id, 'ABORTED'))] });
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
    expect(statements.get(waiting.id)!.status).toBe('STARTED');
    const handled = (await tableItems(dynamo, deps)).find((i) => i.statementId === closed.id && i.completedBy);
    expect(handled).toMatchObject({ completedBy: expect.stringMatching(/^handled:/), finished_event_details: { handledWithoutCallback: expect.stringMatching(/TaskTimedOut/) } });
  });

  test('only the task token tells: a token handed to another workflow keeps its statement while its task waits', async () => {
    await startForTask('token-1');
    // The payload's execution has ended (the token went to a child workflow whose task still waits).
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
    sfn.on(SendTaskHeartbeatCommand).resolves({});
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1, cancelled: 0 });
    expect(redshiftData).not.toHaveReceivedCommand(CancelStatementCommand);
    expect(sfn).not.toHaveReceivedCommand(DescribeExecutionCommand);
  });

  test('a task whose state cannot be read (throttled) is not cancelled', async () => {
    await startForTask('token-1');
    sfn.on(SendTaskHeartbeatCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1, cancelled: 0 });
    expect(redshiftData).not.toHaveReceivedCommand(CancelStatementCommand);
  });

  test('a statement without a callback is not swept: never cancelled, nobody asked', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ examined: 0 });
    expect((await tableItems(dynamo, deps))[0]).toMatchObject({ startedBy: 'starter' });
    expect((await tableItems(dynamo, deps))[0].inFlightOf).toBeUndefined();
    expect(sfn.calls()).toHaveLength(0);
    expect(redshiftData).not.toHaveReceivedCommand(CancelStatementCommand);
  });

  test('CANCEL_ORPHANS=false: running statements are left alone', async () => {
    deps = await makeDeps(dynamo, { now: () => clock, config: { functionName: 'starter', cancelOrphans: false } });
    await startForTask('token-1');
    sfn.on(SendTaskHeartbeatCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1 });
    expect(sfn.calls()).toHaveLength(0);
  });

  test('a CloudFormation request past its service timeout is cancelled, without a response', async () => {
    const event = cloudFormationEvent('Create', RESPONSE_URL);
    event.ResourceProperties.ServiceTimeout = '600';
    const { Id } = await route(deps, { ...event, sqlStatement: 'create table t(id int)' }) as { Id: string };
    clock += 9 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1 });
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ cancelled: 1 });
    expect(redshiftData).toHaveReceivedCommandWith(CancelStatementCommand, { Id });
    expect(deps.puts).toEqual([]);
  });

  test('a CloudFormation request without ServiceTimeout waits CloudFormation\'s 3600 seconds', async () => {
    await route(deps, { ...cloudFormationEvent('Create', RESPONSE_URL), sqlStatement: 'create table t(id int)' });
    clock += 59 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1 });
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ cancelled: 1 });
  });

  test('a statement that ended while its orphan check ran is completed by the next sweep', async () => {
    const { id } = await startForTask('token-1');
    sfn.on(SendTaskHeartbeatCommand).callsFake(async () => {
      finish(id, 'FINISHED');
      throw new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} });
    });
    clock += 2 * MINUTE;
    await expect(sweep()).resolves.toMatchObject({ running: 1, cancelled: 0 });
    await expect(sweep()).resolves.toMatchObject({ completed: 1 });
  });
});

describe('the sweep', () => {
  test('short of time, a sweep still examines one statement and leaves the rest to the next', async () => {
    await startForTask('token-1', { sqlStatement: 'select 1' });
    await startForTask('token-2', { sqlStatement: 'select 2' });
    clock += 2 * MINUTE;
    const short = { ...deps, remainingTimeMs: () => 5_000 };
    await expect(route(short, { action: 'reconcile' })).resolves.toMatchObject({ examined: 1, incomplete: true });
  });

  test('pages through the index, 100 statements a query', async () => {
    for (let i = 0; i < 150; i++) await startForTask(`token-${i}`, { sqlStatement: `select ${i}` });
    for (const id of statements.keys()) finish(id, 'FINISHED');
    clock += 2 * MINUTE;
    dynamoCalls.length = 0;
    await expect(sweep()).resolves.toMatchObject({ examined: 150, completed: 150 });
    expect(dynamoCalls.filter((call) => call === 'Query')).toHaveLength(2);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 150);
  });

  test('a table without the inFlight index: ConfigurationError that says how to fix it', async () => {
    const name = `no-index-${Date.now()}`;
    await dynamo.client.send(new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'invocationId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }, { AttributeName: 'invocationId', KeyType: 'RANGE' }],
    }));
    const bare = await makeDeps(dynamo, { config: { functionName: 'starter', tableName: name } });
    const table = new TrackingTable(DynamoDBDocumentClient.from(dynamo.client), name);
    await expect(route({ ...bare, table }, { action: 'reconcile' }))
      .rejects.toMatchObject({ name: 'ConfigurationError', message: expect.stringMatching(/no usable inFlight index/) });
  });

  test('needs the function name', async () => {
    const nameless = await makeDeps(dynamo, { config: { functionName: undefined } });
    await expect(route(nameless, { action: 'reconcile' })).rejects.toMatchObject({ name: 'ConfigurationError' });
  });

  test.each([[-1], [1.5], ['60'], [8 * 86_400]])('olderThanSeconds %p is refused', async (value) => {
    await expect(route(deps, { action: 'reconcile', olderThanSeconds: value })).rejects.toMatchObject({
      name: 'InvalidRequest', message: expect.stringMatching(/olderThanSeconds must be a whole number of seconds from 0 to 604800/),
    });
  });
});
