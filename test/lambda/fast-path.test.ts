/**
 * The fast path: a start that waits (`WaitTimeSeconds`) and whose answer is final calls back at once, through the
 * same exactly-once claim as the event; the event that follows is a duplicate. Real DynamoDB (dynalite), mocked
 * Data API and Step Functions clients.
 */
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, cloudFormationEvent, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { reconcile } from '../../lambda/reconcile';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { Metric } from '../../src/contract';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
const STARTED = new Date('2026-12-02T10:00:00.000Z');
const ENDED = new Date('2026-12-02T10:00:00.740Z');

/** The Data API answers a start with `status` (what `WaitTimeSeconds` gives), and describes it as ended `described`. */
function dataApi(status: string, described: string = status, error?: string) {
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => ({
    Id: 'statement-1', CreatedAt: STARTED, ...input.WaitTimeSeconds ? { Status: status } : {},
  }));
  redshiftData.on(DescribeStatementCommand).resolves({
    Id: 'statement-1',
    Status: described as any,
    CreatedAt: STARTED,
    UpdatedAt: ENDED,
    ResultRows: 7,
    RedshiftQueryId: 42,
    ...error !== undefined ? { Error: error } : {},
  });
}

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  deps = await makeDeps(dynamo, { env: { AWS_LAMBDA_FUNCTION_NAME: 'starter-fn' } });
});

const start = () => route(deps, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

describe('fast path', () => {
  test('a statement that ends within the wait is called back from the start, with the described rows', async () => {
    dataApi('FINISHED');

    const output = await start();

    expect(output).toMatchObject({ Id: 'statement-1', Status: 'FINISHED' });
    expect(redshiftData).toHaveReceivedCommandWith(ExecuteStatementCommand, { WaitTimeSeconds: 2, WithEvent: true });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    const sent = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(sent.detail).toMatchObject({ statementId: 'statement-1', state: 'FINISHED', rows: 7, redshiftQueryId: 42 });
    expect(sent.time).toBe('2026-12-02T10:00:00Z');
    const [item] = await tableItems(dynamo, deps);
    expect(item.completedBy).toMatch(/^fastPath:/);
    // Settled: out of the in-flight index, so no sweep looks at it again.
    expect(item.inFlightOf).toBeUndefined();
    expect(deps.metrics.completions).toEqual([expect.objectContaining({
      tasker: 'starter-fn', state: 'FINISHED', path: 'fastPath', rows: 7,
    })]);
  });

  test('the event that follows is a duplicate: one refused claim, no second callback', async () => {
    dataApi('FINISHED');
    await start();
    const [item] = await tableItems(dynamo, deps);

    const response = await route(deps, { Records: [sqsRecord(statusEvent(`${item.id}:${item.invocationId}`, 'statement-1', 'FINISHED'))] });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(deps.metrics.total(Metric.DUPLICATE_EVENTS)).toBe(1);
  });

  test('a FAILED answer is called back with Redshift\'s error text', async () => {
    dataApi('FAILED', 'FAILED', 'ERROR: relation "nope" does not exist');

    await start();

    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    const input = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(input.error).toBe('FAILED');
    expect(JSON.parse(input.cause!).detail.error).toBe('ERROR: relation "nope" does not exist');
    expect(deps.metrics.completions[0]).toMatchObject({ state: 'FAILED', path: 'fastPath' });
  });

  test('a statement still running after the wait is left to its event (no describe, no callback)', async () => {
    dataApi('STARTED');

    const output = await start();

    expect(output).toMatchObject({ Id: 'statement-1', Status: 'STARTED' });
    expect(redshiftData).not.toHaveReceivedCommand(DescribeStatementCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    const [item] = await tableItems(dynamo, deps);
    expect(item.completedBy).toBeUndefined();
    expect(item.inFlightOf).toBe('starter-fn');
  });

  test('a failed callback leaves the claim to the next sweep, and the start still succeeds', async () => {
    dataApi('FINISHED');
    sfn.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});

    await expect(start()).resolves.toMatchObject({ Id: 'statement-1' });
    expect(deps.metrics.total(Metric.CALLBACK_FAILURES)).toBe(1);
    expect(deps.log.text()).toContain('The fast path could not call back');

    // The next sweep finds it in flight (the claim was given back) and calls back, once.
    const later = { ...deps, now: () => Date.now() + 120_000 };
    const report = await reconcile(later, { type: 'reconcile', olderThanSeconds: 60 });
    expect(report.completed).toBe(1);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
  });

  test('a failed callback is completed by the event (no sweep needed: the reconciler may be off)', async () => {
    dataApi('FINISHED');
    sfn.on(SendTaskSuccessCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })).resolves({});
    await start();
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toEqual([TASK_TOKEN, TASK_TOKEN]);
  });

  test('the fast path and a sweep at the same time: one callback', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => { release = resolve; });
    dataApi('FINISHED');
    // The fast path's callback is slow; a sweep of the same statement runs meanwhile.
    sfn.on(SendTaskSuccessCommand).callsFakeOnce(async () => { await held; return {}; }).resolves({});
    const starting = start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = { ...deps, now: () => Date.now() + 120_000, remainingTimeMs: () => 60_000 };
    const report = await reconcile(later, { type: 'reconcile', olderThanSeconds: 60 });
    release();
    await starting;
    expect(report).toMatchObject({ examined: 1, completed: 0 });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('too many waiting requests on the target: started again without waiting, with the same client token', async () => {
    dataApi('FINISHED');
    redshiftData.on(ExecuteStatementCommand, { WaitTimeSeconds: 2 }).rejectsOnce(
      Object.assign(new Error('Too many waiting requests'), { name: 'ActiveWaitingRequestsExceededException' }));

    await expect(start()).resolves.toMatchObject({ Id: 'statement-1' });

    const inputs = redshiftData.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.WaitTimeSeconds)).toEqual([2, undefined]);
    expect(inputs[1].ClientToken).toBe(inputs[0].ClientToken);
    expect(inputs[1].StatementName).toBe(inputs[0].StatementName);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('FAST_PATH_WAIT_SECONDS=0: no wait, the event completes it', async () => {
    deps = await makeDeps(dynamo, { env: { FAST_PATH_WAIT_SECONDS: '0' } });
    dataApi('FINISHED');

    await start();

    expect(redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.WaitTimeSeconds).toBeUndefined();
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('a start without a callback never waits', async () => {
    dataApi('FINISHED');
    await route(deps, { sqlStatement: 'select 1' });
    expect(redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.WaitTimeSeconds).toBeUndefined();
  });

  test('the wait is cut to the invocation\'s remaining time', async () => {
    dataApi('STARTED');
    await route({ ...deps, remainingTimeMs: () => 6_500 }, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    await route({ ...deps, remainingTimeMs: () => 4_000 }, { sqlStatement: 'select 1', taskToken: `${TASK_TOKEN}-2`, executionArn: EXECUTION_ARN });
    const waits = redshiftData.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input.WaitTimeSeconds);
    expect(waits).toEqual([1, undefined]);
  });

  test('CloudFormation: the stack gets its answer from the start', async () => {
    dataApi('FINISHED');

    await route(deps, {
      ...cloudFormationEvent('Create', 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/presigned'), sqlStatement: 'create table t(id int)',
    });

    expect(deps.puts).toHaveLength(1);
    expect(JSON.parse(deps.puts[0].body)).toMatchObject({ Status: 'SUCCESS', Data: { statementId: 'statement-1', rows: 7 } });
  });
});
