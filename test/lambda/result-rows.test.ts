import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, InternalServerException, RedshiftDataClient,
  BatchExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, makeDeps, sqsRecord, statusEvent } from './support';
import { MAX_TASK_OUTPUT_BYTES } from '../../lambda/plain';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { Limits } from '../../src/contract';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;

const COLUMNS = [{ name: 'id', typeName: 'int8' }, { name: 'name', typeName: 'varchar' }, { name: 'price', typeName: 'numeric' }];

/** `count` rows split into pages of `pageRows`, as the Data API's GetStatementResult serves them. */
function servePages(id: string, count: number, pageRows: number, text = 'x') {
  redshiftData.on(GetStatementResultCommand, { Id: id }).callsFake(async (input) => {
    const offset = input.NextToken ? Number(input.NextToken.replace('page-', '')) : 0;
    const end = Math.min(count, offset + pageRows);
    const records = [];
    for (let i = offset; i < end; i++) records.push([{ longValue: i + 1 }, { stringValue: `${text}${i + 1}` }, { stringValue: `${i}.50` }]);
    return { Records: records, ColumnMetadata: COLUMNS, TotalNumRows: count, ...end < count ? { NextToken: `page-${end}` } : {} };
  });
}

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  lambda.reset();
  redshiftData.on(ExecuteStatementCommand).resolves({ Id: 'stmt-1' });
  redshiftData.on(BatchExecuteStatementCommand).resolves({ Id: 'batch-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  deps = await makeDeps(dynamo);
});

async function start(extra: Record<string, unknown> = {}, d: TestDeps = deps): Promise<string> {
  await route(d, { sqlStatement: 'select id, name, price from t', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, rowFormat: 'OBJECTS', ...extra });
  const calls = [...redshiftData.commandCalls(ExecuteStatementCommand), ...redshiftData.commandCalls(BatchExecuteStatementCommand)];
  return calls[calls.length - 1].args[0].input.StatementName!;
}

const successOutput = () => JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);

describe('rows with the callback', () => {
  test('every page is read; the output is the event plus the rows as objects and the column types once', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true, ResultRows: 5 });
    servePages('stmt-1', 5, 2);
    const name = await start();
    const event = statusEvent(name, 'stmt-1', 'FINISHED', 5);

    await expect(route(deps, { Records: [sqsRecord(event)] })).resolves.toEqual({ batchItemFailures: [] });

    expect(redshiftData).toHaveReceivedCommandTimes(GetStatementResultCommand, 3);
    const output = successOutput();
    expect(output.detail).toEqual(event.detail);
    expect(output.result).toEqual({
      statementId: 'stmt-1',
      hasResultSet: true,
      rowCount: 5,
      columns: [{ name: 'id', type: 'int8' }, { name: 'name', type: 'varchar' }, { name: 'price', type: 'numeric' }],
      rows: [1, 2, 3, 4, 5].map((i) => ({ id: i, name: `x${i}`, price: `${i - 1}.50` })),
    });
  });

  test('TYPED_CELLS keeps the Data API\'s records', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true });
    servePages('stmt-1', 1, 10);
    const name = await start({ rowFormat: 'TYPED_CELLS' });
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 1))] });
    expect(successOutput().result.rows).toEqual([[{ longValue: 1 }, { stringValue: 'x1' }, { stringValue: '0.50' }]]);
  });

  test('a statement without rows (an INSERT) gives its changed row count, and reads no result', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: false, ResultRows: 7 });
    const name = await start({ sqlStatement: 'insert into t select * from s' });
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 7))] });
    expect(successOutput().result).toEqual({ statementId: 'stmt-1', hasResultSet: false, rowCount: 7 });
    expect(redshiftData).not.toHaveReceivedCommand(GetStatementResultCommand);
  });

  test('a list of statements: each sub-statement\'s rows or row count, by its id <id>:<n>', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'batch-1' }).resolves({
      Id: 'batch-1',
      Status: 'FINISHED',
      HasResultSet: true,
      SubStatements: [
        { Id: 'batch-1:1', Status: 'FINISHED', HasResultSet: false, ResultRows: 3 },
        { Id: 'batch-1:2', Status: 'FINISHED', HasResultSet: true, ResultRows: 2 },
      ],
    });
    servePages('batch-1:2', 2, 1);
    const name = await start({ sqlStatement: undefined, sqlStatements: ['insert into t values (1)', 'select * from t'] });
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'batch-1', 'FINISHED', 5))] });
    expect(successOutput().result).toEqual({
      statements: [
        { statementId: 'batch-1:1', hasResultSet: false, rowCount: 3 },
        { statementId: 'batch-1:2', hasResultSet: true, rowCount: 2, columns: expect.any(Array), rows: [{ id: 1, name: 'x1', price: '0.50' }, { id: 2, name: 'x2', price: '1.50' }] },
      ],
    });
  });

  test('rows over the budget fail the task with ResultTooLarge (rows, bytes, the alternatives); reading stops there', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({
      Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true, ResultRows: 1_000_000, ResultSize: 123_456_789,
    });
    servePages('stmt-1', 1_000_000, 1000, 'y'.repeat(100));
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 1_000_000))] });

    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(sfn).toHaveReceivedCommandTimes(SendTaskFailureCommand, 1);
    const input = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(input.error).toBe('ResultTooLarge');
    const cause = JSON.parse(input.cause!);
    expect(cause.detail.state).toBe('FINISHED');
    expect(cause.detail.error).toMatch(/1000000 rows, 123456789 bytes in Redshift/);
    expect(cause.detail.error).toContain(`${Limits.MAX_RESULT_ROWS_BYTES} bytes`);
    expect(cause.detail.error).toMatch(/FETCH_RESULT.*UNLOAD/s);
    // ~150 bytes a row: the budget ends within the second page of 1,000 rows.
    expect(redshiftData.commandCalls(GetStatementResultCommand).length).toBeLessThanOrEqual(2);
  });

  test('rows just within the budget are all returned, and the output fits Step Functions', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true });
    // {"id":N,"name":"<~1000 chars>","price":"..."} ≈ 1,040 bytes: 190 rows ≈ 198 KB.
    servePages('stmt-1', 190, 50, 'z'.repeat(1000));
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 190))] });
    const raw = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!;
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(MAX_TASK_OUTPUT_BYTES);
    expect(JSON.parse(raw).result.rows).toHaveLength(190);
  });

  test('a Data API error while reading is retried (the message comes back), then called back exactly once', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'stmt-1' }).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true });
    redshiftData.on(GetStatementResultCommand).rejectsOnce(new InternalServerException({ message: 'boom', Message: 'boom', $metadata: {} }));
    const name = await start();
    const record = sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 1), 'm-1');
    await expect(route(deps, { Records: [record] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);

    servePages('stmt-1', 1, 10);
    await expect(route(deps, { Records: [record] })).resolves.toEqual({ batchItemFailures: [] });
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 1), 'm-2')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('a failed statement is failed as before: no result is read', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({ Id: 'stmt-1', Status: 'FAILED', Error: 'ERROR: boom' });
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FAILED'))] });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input.error).toBe('FAILED');
    expect(redshiftData).not.toHaveReceivedCommand(GetStatementResultCommand);
  });

  test('another completer reads the rows through the starter (the Data API shows results only to the starter\'s role)', async () => {
    const starter = { ...deps, config: { ...deps.config, functionName: 'starter' } };
    const completer = { ...deps, config: { ...deps.config, functionName: 'completer' } };
    lambda.on(InvokeCommand).callsFake(async (input) => {
      const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      const answer = request.action === 'describeStatement'
        ? { Id: request.statementId, Status: 'FINISHED', HasResultSet: true }
        : { Records: [[{ longValue: 7 }, { stringValue: 'n' }, { isNull: true }]], ColumnMetadata: COLUMNS, TotalNumRows: 1 };
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(answer)) };
    });
    const name = await start({}, starter);
    redshiftData.resetHistory();
    await route(completer, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 1))] });
    expect(redshiftData).not.toHaveReceivedCommand(GetStatementResultCommand);
    const actions = lambda.commandCalls(InvokeCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')).action);
    expect(actions).toEqual(['describeStatement', 'getStatementResult']);
    expect(successOutput().result.rows).toEqual([{ id: 7, name: 'n', price: null }]);
  });
});

describe('rowFormat in requests', () => {
  test.each([
    [{ sqlStatement: 'select 1', rowFormat: 'OBJECTS' }, /rowFormat with SQL returns the rows with the Step Functions callback; got it without a taskToken/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, rowFormat: 'objects' }, /rowFormat must be "OBJECTS" or "TYPED_CELLS"; got "objects"/],
    [{ action: 'describeStatement', statementId: 'abc', rowFormat: 'OBJECTS' }, /rowFormat is only used with "getStatementResult"/],
  ])('%j is refused', async (event, message) => {
    await expect(route(deps, event)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  });

  test('a retried start with another rowFormat is refused (the same caller must send the same request)', async () => {
    await start();
    await expect(start({ rowFormat: 'TYPED_CELLS' })).rejects.toMatchObject({ name: 'InvalidRequest' });
  });

  test('getStatementResult with OBJECTS: plain rows, columns once, the total and the next page\'s token', async () => {
    servePages('abc', 3, 2);
    const first = await route(deps, { action: 'getStatementResult', statementId: 'abc', rowFormat: 'OBJECTS' }) as Record<string, any>;
    expect(first).toEqual({
      columns: [{ name: 'id', type: 'int8' }, { name: 'name', type: 'varchar' }, { name: 'price', type: 'numeric' }],
      rows: [{ id: 1, name: 'x1', price: '0.50' }, { id: 2, name: 'x2', price: '1.50' }],
      rowCount: 3,
      NextToken: 'page-2',
    });
    const second = await route(deps, { action: 'getStatementResult', statementId: 'abc', rowFormat: 'OBJECTS', nextToken: first.NextToken }) as Record<string, any>;
    expect(second.rows).toEqual([{ id: 3, name: 'x3', price: '2.50' }]);
    expect(second.NextToken).toBeUndefined();
  });
});
