import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStatementCommand, ExecuteStatementCommand, RedshiftDataClient, ValidationException } from '@aws-sdk/client-redshift-data';
import {
  InvalidToken, SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, TaskDoesNotExist, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, cloudFormationEvent, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { MAX_CFN_RESPONSE_BYTES, MAX_TASK_CAUSE_CHARS } from '../../lambda/plain';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let started = 0;
const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/presigned?X-Amz-Signature=secret';

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  started = 0;
  redshiftData.on(ExecuteStatementCommand).callsFake(async () => ({ Id: `statement-${++started}` }));
  redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({
    Id: input.Id, Status: 'FAILED', Error: 'ERROR: function get_date() does not exist',
  }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  deps = await makeDeps(dynamo);
});

/** Starts a statement for a Step Functions task; returns its name and id. */
async function startForTask(taskToken = TASK_TOKEN, extra: Record<string, unknown> = {}) {
  const output = await route(deps, { sqlStatement: 'select 1', taskToken, executionArn: EXECUTION_ARN, ...extra }) as { Id: string };
  const calls = redshiftData.commandCalls(ExecuteStatementCommand);
  return { name: calls[calls.length - 1].args[0].input.StatementName!, id: output.Id };
}

describe('Step Functions callbacks', () => {
  test('FINISHED → SendTaskSuccess with the event as output; the item is marked handled with its TTL', async () => {
    const { name, id } = await startForTask();
    const event = statusEvent(name, id, 'FINISHED', 3);

    const response = await route(deps, { Records: [sqsRecord(event, 'm-1')] });

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN, output: JSON.stringify(event) });
    expect(redshiftData).not.toHaveReceivedCommand(DescribeStatementCommand);
    const [item] = await tableItems(dynamo, deps);
    expect(item).toMatchObject({ completedBy: expect.stringMatching(/^event:/), claimDelivery: 'm-1', statementId: id, finished_event_details: event });
    expect(item.TTL).toBeGreaterThan(Date.now() / 1000 + 86_400 - 10);
    expect(item.TTL).toBeLessThan(Date.now() / 1000 + 86_400 + 10);
  });

  test.each(['FAILED', 'ABORTED'])('%s → SendTaskFailure with error FAILED and the error text in the cause', async (state) => {
    const { name, id } = await startForTask();
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, state))] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    const input = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(input.error).toBe('FAILED');
    const cause = JSON.parse(input.cause!);
    expect(cause.detail).toMatchObject({ state, statementId: id, error: 'ERROR: function get_date() does not exist' });
  });

  test('a serializable isolation violation fails the task with SerializationConflict (a retry can succeed)', async () => {
    const text = 'ERROR: 1023 DETAIL: Serializable isolation violation on table - 100293, transactions forming the cycle are: 12345, 12346 (pid:2042)';
    redshiftData.on(DescribeStatementCommand).resolves({ Status: 'FAILED', Error: text });
    const { name, id } = await startForTask();
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FAILED'))] });
    const input = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(input.error).toBe('SerializationConflict');
    expect(JSON.parse(input.cause!).detail.error).toBe(text);
  });

  test('an ABORTED statement is never a conflict, whatever its text', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({ Status: 'ABORTED', Error: 'conflict with concurrent transaction' });
    const { name, id } = await startForTask();
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'ABORTED'))] });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.error).toBe('FAILED');
  });

  test('a failure is still called back when the error text cannot be read', async () => {
    redshiftData.on(DescribeStatementCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const { name, id } = await startForTask();
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FAILED'))] })).resolves.toEqual({ batchItemFailures: [] });
    expect(JSON.parse(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!).detail.error).toBeUndefined();
  });

  test('a huge error text is truncated so the cause fits 32,768 characters', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({ Error: `ERROR: ${'é'.repeat(40_000)}` });
    const { name, id } = await startForTask();
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FAILED'))] });
    const cause = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!;
    expect(cause.length).toBeLessThanOrEqual(MAX_TASK_CAUSE_CHARS);
    expect(JSON.parse(cause).detail.error).toMatch(/bytes truncated\]$/);
  });

  test('an error text that grows when JSON-escaped still gives a cause that is the event\'s JSON', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({ Error: `ERROR: ${'"\\\n\u0001'.repeat(5000)}` });
    const { name, id } = await startForTask();
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FAILED'))] });
    const cause = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!;
    expect(cause.length).toBeLessThanOrEqual(MAX_TASK_CAUSE_CHARS);
    expect(cause.length).toBeGreaterThan(MAX_TASK_CAUSE_CHARS - 100);
    expect(JSON.parse(cause).detail).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^ERROR: "\\\n\u0001.* characters truncated\]$/s) });
  });

  test('the same event delivered 3 times, partly concurrently → exactly one callback', async () => {
    const { name, id } = await startForTask();
    const event = statusEvent(name, id, 'FINISHED');
    await route(deps, { Records: [sqsRecord(event, 'copy-1'), sqsRecord(event, 'copy-2')] });
    await route(deps, { Records: [sqsRecord(event, 'copy-3')] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('50 statements × 3 concurrent copies → 50 callbacks, none twice', async () => {
    const starts = [];
    for (let i = 0; i < 50; i++) starts.push(await startForTask(`token-${i}`));
    const records = starts.flatMap(({ name, id }, i) => [1, 2, 3].map((copy) => sqsRecord(statusEvent(name, id, 'FINISHED'), `m-${i}-${copy}`)));
    const batches = [];
    for (let i = 0; i < records.length; i += 10) batches.push(records.slice(i, i + 10));
    const responses = await Promise.all(batches.map((batch) => route(deps, { Records: batch })));
    expect(responses.every((r: any) => r.batchItemFailures.length === 0)).toBe(true);
    const tokens = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken);
    expect(tokens).toHaveLength(50);
    expect(new Set(tokens).size).toBe(50);
  });

  test.each([
    ['TaskTimedOut', () => new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })],
    ['TaskDoesNotExist', () => new TaskDoesNotExist({ message: 'Task does not exist', $metadata: {} })],
    ['InvalidToken', () => new InvalidToken({ message: 'Invalid token', $metadata: {} })],
  ])('%s is final: acknowledged, marked handled, never retried', async (_, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error());
    const { name, id } = await startForTask();
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] })).resolves.toEqual({ batchItemFailures: [] });
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect((await tableItems(dynamo, deps))[0].completedBy).toBeDefined();
  });

  test('a throttled callback fails only its record; the retry delivers it exactly once', async () => {
    const a = await startForTask('token-a');
    const b = await startForTask('token-b');
    const c = await startForTask('token-c');
    sfn.on(SendTaskSuccessCommand, { taskToken: 'token-b' })
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: { throttling: true } }))
      .resolves({});
    const records = [a, b, c].map(({ name, id }, i) => sqsRecord(statusEvent(name, id, 'FINISHED'), `m-${i}`));

    await expect(route(deps, { Records: records })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    // The claim was given back: another copy of the event can complete it too; the item has the TTL of a statement
    // in flight again (a day and more), not the completed one's.
    const released = (await tableItems(dynamo, deps)).find((i) => i.statementId === b.id)!;
    expect(released.completedBy).toBeUndefined();
    expect(released.TTL).toBeGreaterThan(Date.now() / 1000 + 2 * 86_400 - 60);

    // SQS redelivers only m-1.
    await expect(route(deps, { Records: [records[1]] })).resolves.toEqual({ batchItemFailures: [] });
    const tokens = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken).sort();
    expect(tokens).toEqual(['token-a', 'token-b', 'token-b', 'token-c']); // b: the throttled try and the delivered one
    await route(deps, { Records: [sqsRecord(statusEvent(b.name, b.id, 'FINISHED'), 'late-copy')] });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(4);
  });

  /** The claim of an earlier delivery of message `messageId` that died after claiming, with its lease until `leaseUntil`. */
  async function deadClaim(name: string, id: string, messageId: string, leaseUntil: number) {
    const result = await deps.table.claimCompletion({ id: EXECUTION_ARN, invocationId: name.slice(EXECUTION_ARN.length + 1) }, {
      attempt: 'event:dead', deliveryId: messageId, statementId: id, trusted: false, event: {}, ttl: 1, now: Date.now(), leaseUntil,
    });
    expect(result.kind).toBe('claimed');
  }

  test('a redelivered message whose earlier delivery claimed and died calls back once its lease has passed', async () => {
    const { name, id } = await startForTask();
    await deadClaim(name, id, 'crashed', Date.now() - 1);
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'crashed')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    // Another copy of the event (another message) finds it done.
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'other')] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('a dead-lettered message redriven under a new id takes over the dead claim while the task still waits', async () => {
    sfn.on(SendTaskHeartbeatCommand).resolves({});
    const { name, id } = await startForTask();
    await deadClaim(name, id, 'dead-lettered', Date.now() - 1);
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'redriven')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskHeartbeatCommand, 1);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
  });

  test('a late copy of an event whose task was called back: the heartbeat says closed, nothing is sent', async () => {
    sfn.on(SendTaskHeartbeatCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));
    const { name, id } = await startForTask();
    await deadClaim(name, id, 'first', Date.now() - 1);
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'late-copy')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('another delivery of the same message while the first holds its lease is retried, not acknowledged', async () => {
    const { name, id } = await startForTask();
    await deadClaim(name, id, 'twice', Date.now() + 60_000);
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'twice')] }))
      .resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'twice' }] });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    // Another message is acknowledged: the holder's own message is redelivered if its attempt fails.
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'), 'other')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
  });

  test('the completion releases the singleton lock, so the next singleton start runs', async () => {
    const singleton = (taskToken: string) => ({
      sqlStatement: 'call sp_slow(5)', action: 'executeSingletonStatement', taskToken, executionArn: EXECUTION_ARN,
    });
    redshiftData.on(DescribeStatementCommand).resolves({ Status: 'STARTED' });
    await route(deps, singleton('t1'));
    await expect(route(deps, singleton('t2'))).rejects.toMatchObject({ name: 'ConcurrentExecution' });
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] });
    await expect(route(deps, singleton('t3'))).resolves.toMatchObject({ Id: 'statement-2' });
  });
});

/** A Lambda Invoke payload as the SDK returns it. */
function payload(value: unknown) {
  const bytes = Buffer.from(JSON.stringify(value));
  return Object.assign(bytes, { transformToString: (encoding = 'utf-8') => bytes.toString(encoding as BufferEncoding) });
}

describe('error text in every topology', () => {
  const failedEvent = (name: string, id: string) => ({ Records: [sqsRecord(statusEvent(name, id, 'FAILED'))] });
  const causeOf = () => JSON.parse(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.cause!).detail;

  beforeEach(() => {
    lambda.reset();
    lambda.on(InvokeCommand).callsFake(async (input) => {
      const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      return {
        StatusCode: 200,
        Payload: payload({ Id: request.statementId, Status: 'FAILED', Error: 'ERROR: read by the starter' }),
      };
    });
  });

  test('the completer is the starter: it describes the statement itself', async () => {
    const own = { ...deps, config: { ...deps.config, functionName: 'tasker' } };
    const output = await route(own, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }) as { Id: string };
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    await route(own, failedEvent(name, output.Id));
    expect(causeOf().error).toBe('ERROR: function get_date() does not exist');
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
  });

  test('another completer (a separate function, or another tasker\'s): it asks the starter to describe the statement', async () => {
    const starter = { ...deps, config: { ...deps.config, functionName: 'starter' } };
    const completer = { ...deps, config: { ...deps.config, functionName: 'completer' } };
    const output = await route(starter, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }) as { Id: string };
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    redshiftData.resetHistory();

    await route(completer, failedEvent(name, output.Id));

    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const invoke = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(invoke.FunctionName).toBe('starter');
    expect(JSON.parse(Buffer.from(invoke.Payload as Uint8Array).toString('utf8'))).toEqual({ action: 'describeStatement', statementId: output.Id });
    expect(redshiftData).not.toHaveReceivedCommand(DescribeStatementCommand);
    expect(causeOf()).toMatchObject({ state: 'FAILED', error: 'ERROR: read by the starter' });
  });

  test('the starter cannot be asked (its describe fails): the failure is called back without the text', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'AccessDeniedException', errorMessage: 'no' }),
    });
    const starter = { ...deps, config: { ...deps.config, functionName: 'starter' } };
    const completer = { ...deps, config: { ...deps.config, functionName: 'completer' } };
    const output = await route(starter, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }) as { Id: string };
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    await expect(route(completer, failedEvent(name, output.Id))).resolves.toEqual({ batchItemFailures: [] });
    expect(causeOf().error).toBeUndefined();
    expect(completer.log.text()).toContain('AccessDeniedException');
  });

  test('a duplicate failure event is not described again', async () => {
    const { name, id } = await startForTask();
    await route(deps, failedEvent(name, id));
    redshiftData.resetHistory();
    await route(deps, failedEvent(name, id));
    expect(redshiftData).not.toHaveReceivedCommand(DescribeStatementCommand);
  });
});

describe('records that are not ours', () => {
  test.each([
    ['malformed JSON', '{"source": "aws.redshift-data", '],
    ['another source', { ...statusEvent('x:1764000000.1', 's', 'FINISHED'), source: 'aws.s3' }],
    ['another detail type', { ...statusEvent('x:1764000000.1', 's', 'FINISHED'), 'detail-type': 'Something else' }],
    ['a state that is not final', statusEvent('x:1764000000.1', 's', 'STARTED')],
    ['no detail', { 'source': 'aws.redshift-data', 'detail-type': 'Redshift Data Statement Status Change' }],
    ['a statement named by someone else', statusEvent('nightly-etl', 's', 'FINISHED')],
    ['a statement name of our shape that is not tracked', statusEvent('arn:aws:states:eu-west-1:1:execution:M:other:1764000000.123456789012', 's', 'FAILED')],
    ['an empty body', ''],
  ])('%s → acknowledged, nothing called back', async (_, body) => {
    await expect(route(deps, { Records: [sqsRecord(body)] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn.calls()).toHaveLength(0);
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test('records without a messageId are acknowledged', async () => {
    await expect(route(deps, { Records: [{ body: 'x' }, null, 7] })).resolves.toEqual({ batchItemFailures: [] });
  });
});

describe('CloudFormation callbacks', () => {
  async function startForStack(requestType: 'Create' | 'Update' | 'Delete') {
    await route(deps, { ...cloudFormationEvent(requestType, RESPONSE_URL), sqlStatement: 'create table t(id int)' });
    const calls = redshiftData.commandCalls(ExecuteStatementCommand);
    return calls[calls.length - 1].args[0].input;
  }

  test('Create FINISHED → PUT SUCCESS with the statement name as physical id; the item keeps no resource properties', async () => {
    const statement = await startForStack('Create');
    expect(statement.WithEvent).toBe(true);
    expect(statement.StatementName).toMatch(/^ExampleTable:\d{12}\.\d{15}$/);
    const [item] = await tableItems(dynamo, deps);
    expect(item.callback_details).not.toContain('md5secret');
    expect(item.callback_details).not.toContain('ResourceProperties');

    await route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FINISHED', 0))] });

    expect(deps.puts).toHaveLength(1);
    expect(deps.puts[0].url).toBe(RESPONSE_URL);
    expect(JSON.parse(deps.puts[0].body)).toEqual({
      Status: 'SUCCESS',
      Reason: `Statement ${statement.StatementName} FINISHED, 0 rows (statement id statement-1).`,
      PhysicalResourceId: statement.StatementName,
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/example-stack/1a2b3c4d',
      RequestId: 'request-Create',
      LogicalResourceId: 'ExampleTable',
      NoEcho: false,
      Data: { statementId: 'statement-1', state: 'FINISHED', rows: 0 },
    });
  });

  test('Update FAILED → PUT FAILED keeping the incoming physical id, with Redshift\'s error as reason', async () => {
    const statement = await startForStack('Update');
    await route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FAILED'))] });
    const body = JSON.parse(deps.puts[0].body);
    expect(body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ExampleTable:1764000000.123000000001' });
    expect(body.Reason).toMatch(/^FAILED: ERROR: function get_date\(\) does not exist \(statement ExampleTable:/);
  });

  test('Create FAILED → the failed-Create physical id, so the rollback\'s Delete runs no drop SQL', async () => {
    const statement = await startForStack('Create');
    await route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FAILED'))] });
    expect(JSON.parse(deps.puts[0].body)).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ExampleTable:CREATE_FAILED' });
  });

  test('the response body stays within 4,096 bytes whatever the error text', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({ Error: `ERROR: "${'\u00e9\n'.repeat(5000)}"` });
    const statement = await startForStack('Create');
    await route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FAILED'))] });
    expect(Buffer.byteLength(deps.puts[0].body)).toBeLessThanOrEqual(MAX_CFN_RESPONSE_BYTES);
    expect(JSON.parse(deps.puts[0].body).Reason).toMatch(/truncated/);
  });

  test('a non-2xx answer is retried within the invocation', async () => {
    const answers = [503, 500, 200];
    deps = await makeDeps(dynamo, { httpPut: async () => answers.shift()! });
    const statement = await startForStack('Create');
    await expect(route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FINISHED'))] }))
      .resolves.toEqual({ batchItemFailures: [] });
    expect(deps.puts).toHaveLength(3);
  });

  test('an undeliverable answer puts the record back (then the DLQ), never drops it', async () => {
    deps = await makeDeps(dynamo, { httpPut: async () => 500 });
    const statement = await startForStack('Delete');
    await expect(route(deps, { Records: [sqsRecord(statusEvent(statement.StatementName!, 'statement-1', 'FINISHED'), 'm-cfn')] }))
      .resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-cfn' }] });
    expect(deps.puts).toHaveLength(3);
  });

  test('a request that cannot be started is answered FAILED at once (no SQL)', async () => {
    // The example properties are not RedshiftSql's, and no SQL came with the request.
    const result = await route(deps, cloudFormationEvent('Create', RESPONSE_URL));
    expect(result).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'ExampleTable:CREATE_FAILED' });
    const body = JSON.parse(deps.puts[0].body);
    expect(body.Status).toBe('FAILED');
    expect(body.Reason).toMatch(/^The SQL could not be started: InvalidRequest: Unknown resource properties "create_sql", "password"/);
    expect(await tableItems(dynamo, deps)).toEqual([]);
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  });

  test('a Data API error on Delete is answered FAILED with the incoming physical id', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(new ValidationException({ message: 'Cannot process query string larger than 100kB', $metadata: {} }));
    const result = await route(deps, { ...cloudFormationEvent('Delete', RESPONSE_URL), sqlStatement: 'drop table t' });
    expect(result).toEqual({
      Status: 'FAILED',
      Reason: 'The SQL could not be started: ValidationException: Cannot process query string larger than 100kB',
      PhysicalResourceId: 'ExampleTable:1764000000.123000000001',
    });
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test('an Update without PhysicalResourceId is answered FAILED', async () => {
    const { PhysicalResourceId: _, ...event } = cloudFormationEvent('Update', RESPONSE_URL);
    await route(deps, { ...event, sqlStatement: 'select 1' });
    expect(JSON.parse(deps.puts[0].body).Reason).toMatch(/needs PhysicalResourceId/);
  });

  test('when even the FAILED answer cannot be delivered, the invocation fails (the caller must answer)', async () => {
    deps = await makeDeps(dynamo, { httpPut: async () => { throw new Error('connect ECONNREFUSED'); } });
    await expect(route(deps, cloudFormationEvent('Create', RESPONSE_URL))).rejects.toMatchObject({ name: 'CloudFormationResponseError' });
  });
});

describe('logs', () => {
  test('task tokens, ResponseURLs and parameter values never appear at INFO', async () => {
    const { name, id } = await startForTask(TASK_TOKEN, { parameters: [{ name: 'p', value: 'parameter-secret' }], sqlStatement: 'select :p' });
    await route(deps, { Records: [sqsRecord(statusEvent(name, id, 'FINISHED'))] });
    await route(deps, { ...cloudFormationEvent('Create', RESPONSE_URL), sqlStatement: 'select 1' });
    const info = JSON.stringify(deps.log.lines.filter((line) => line.level !== 'DEBUG'));
    expect(info).not.toContain(TASK_TOKEN);
    expect(info).not.toContain('X-Amz-Signature');
    expect(info).not.toContain('parameter-secret');
    expect(info).toContain('Started statement');
  });
});
