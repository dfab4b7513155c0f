import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, makeDeps, sqsRecord, statusEvent } from './support';
import { PART_BYTES, csvField } from '../../lambda/result-export';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const lambda = mockClient(LambdaClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;

const COLUMNS = [{ name: 'id', typeName: 'int4' }, { name: 'note', typeName: 'varchar' }, { name: 'at', typeName: 'timestamp' }];
const EXPORT = { exportBucket: 'results-bucket', exportKeyPrefix: 'runs/' };

/** `count` rows in pages of `pageRows`; `note(i)` the second column. */
function servePages(id: string, count: number, pageRows: number, note: (i: number) => string | null = (i) => `n${i}`) {
  redshiftData.on(GetStatementResultCommand, { Id: id }).callsFake(async (input) => {
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const end = Math.min(count, offset + pageRows);
    const records = [];
    for (let i = offset; i < end; i++) {
      const text = note(i + 1);
      records.push([{ longValue: i + 1 }, text === null ? { isNull: true } : { stringValue: text }, { stringValue: '2024-05-01 12:30:00' }]);
    }
    return { Records: records, ColumnMetadata: COLUMNS, TotalNumRows: count, ...end < count ? { NextToken: String(end) } : {} };
  });
}

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  s3.reset();
  lambda.reset();
  redshiftData.on(ExecuteStatementCommand).resolves({ Id: 'stmt-1' });
  redshiftData.on(DescribeStatementCommand).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true, ResultRows: 3 });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
  s3.on(UploadPartCommand).callsFake(async (input) => ({ ETag: `etag-${input.PartNumber}` }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
  deps = await makeDeps(dynamo);
});

async function start(extra: Record<string, unknown> = {}, d: TestDeps = deps): Promise<string> {
  await route(d, { sqlStatement: 'select * from t', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, ...EXPORT, ...extra });
  const calls = redshiftData.commandCalls(ExecuteStatementCommand);
  return calls[calls.length - 1].args[0].input.StatementName!;
}

const bodyOf = (body: unknown) => Buffer.from(body as Uint8Array).toString('utf8');
const exportOutput = () => JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!).export;

describe('the result in S3', () => {
  test('JSON Lines: one object, one plain row per line; the output says where, how many rows and bytes', async () => {
    servePages('stmt-1', 3, 2);
    const name = await start();
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 3))] })).resolves.toEqual({ batchItemFailures: [] });

    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({ Bucket: 'results-bucket', Key: 'runs/stmt-1.jsonl' });
    const lines = bodyOf(put.Body).split('\n');
    expect(lines).toEqual([
      '{"id":1,"note":"n1","at":"2024-05-01T12:30:00"}', '{"id":2,"note":"n2","at":"2024-05-01T12:30:00"}',
      '{"id":3,"note":"n3","at":"2024-05-01T12:30:00"}', '',
    ]);
    expect(exportOutput()).toEqual({
      statementId: 'stmt-1',
      hasResultSet: true,
      rows: 3,
      bucket: 'results-bucket',
      key: 'runs/stmt-1.jsonl',
      bytes: Buffer.byteLength(bodyOf(put.Body)),
      format: 'JSON_LINES',
      columns: [{ name: 'id', type: 'int4' }, { name: 'note', type: 'varchar' }, { name: 'at', type: 'timestamp' }],
    });
    expect(redshiftData).toHaveReceivedCommandWith(ExecuteStatementCommand, { WithEvent: true });
    expect(redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.WaitTimeSeconds).toBeUndefined();
  });

  test('CSV: a header, RFC 4180 quoting, NULL as an empty field', async () => {
    servePages('stmt-1', 3, 10, (i) => [null, 'a,"b"', ' edge\nline'][i - 1]);
    const name = await start({ exportFormat: 'CSV' });
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 3))] });
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put.Key).toBe('runs/stmt-1.csv');
    expect(bodyOf(put.Body)).toBe('id,note,at\r\n1,,2024-05-01T12:30:00\r\n2,"a,""b""",2024-05-01T12:30:00\r\n3," edge\nline",2024-05-01T12:30:00\r\n');
    expect(csvField(true)).toBe('true');
    expect(csvField(1.5)).toBe('1.5');
  });

  test('larger than a part: a multipart upload of parts of at least 5 MiB, completed in order', async () => {
    const note = 'x'.repeat(1000);
    const count = Math.ceil((2.5 * PART_BYTES) / 1050);
    servePages('stmt-1', count, 1000, () => note);
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count))] });

    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    const parts = s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.length).toBe(3);
    parts.slice(0, -1).forEach((part) => expect((part.Body as Buffer).length).toBeGreaterThanOrEqual(5 * 1024 * 1024));
    expect(parts.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Key: 'runs/stmt-1.jsonl',
      UploadId: 'upload-1',
      MultipartUpload: { Parts: [{ ETag: 'etag-1', PartNumber: 1 }, { ETag: 'etag-2', PartNumber: 2 }, { ETag: 'etag-3', PartNumber: 3 }] },
    });
    const total = parts.reduce((sum, p) => sum + (p.Body as Buffer).length, 0);
    expect(exportOutput()).toMatchObject({ rows: count, bytes: total });
  });

  test('an upload that fails half-way is aborted; the completion is retried and calls back once, into the same key', async () => {
    const count = Math.ceil((1.5 * PART_BYTES) / 1050);
    servePages('stmt-1', count, 1000, () => 'y'.repeat(1000));
    let uploads = 0;
    s3.on(UploadPartCommand).callsFake(async (input) => {
      if (++uploads === 1) throw Object.assign(new Error('slow down'), { name: 'SlowDown' });
      return { ETag: `etag-${input.PartNumber}` };
    });
    const name = await start();
    const record = sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count), 'm-1');

    await expect(route(deps, { Records: [record] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { Bucket: 'results-bucket', Key: 'runs/stmt-1.jsonl', UploadId: 'upload-1' });
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);

    await expect(route(deps, { Records: [record] })).resolves.toEqual({ batchItemFailures: [] });
    // A duplicate of the event: no second export, no second callback.
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count), 'm-2')] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    expect(s3).toHaveReceivedCommandTimes(CompleteMultipartUploadCommand, 1);
    expect(new Set(s3.commandCalls(CreateMultipartUploadCommand).map((c) => c.args[0].input.Key))).toEqual(new Set(['runs/stmt-1.jsonl']));
  });

  test('reading, converting and sending overlap: the next page is asked for while a part is being sent', async () => {
    const count = Math.ceil((2.5 * PART_BYTES) / 1050);
    servePages('stmt-1', count, 1000, () => 'o'.repeat(1000));
    // Part 1 is answered only once a later page was asked for: a sequential export would wait here forever.
    const pagesAsked = () => redshiftData.commandCalls(GetStatementResultCommand).length;
    s3.on(UploadPartCommand).callsFake(async (input) => {
      if (input.PartNumber === 1) {
        const asked = pagesAsked();
        while (pagesAsked() <= asked) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return { ETag: `etag-${input.PartNumber}` };
    });
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count))] });

    expect(exportOutput()).toMatchObject({ rows: count });
    expect(s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input.PartNumber)).toEqual([1, 2, 3]);
    expect(s3).toHaveReceivedCommandTimes(CompleteMultipartUploadCommand, 1);
  });

  test.each([
    ['a part fails while the next page is read', 'part'],
    ['a page fails while a part is being sent', 'page'],
  ])('%s: the upload is aborted once, nothing completed, the completion retried', async (_title, failing) => {
    const count = Math.ceil((2.5 * PART_BYTES) / 1050);
    servePages('stmt-1', count, 1000, () => 'f'.repeat(1000));
    if (failing === 'part') {
      s3.on(UploadPartCommand).callsFake(async (input) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (input.PartNumber === 1) throw Object.assign(new Error('internal error'), { name: 'InternalError' });
        return { ETag: `etag-${input.PartNumber}` };
      });
    } else {
      const pageRows = 1000;
      redshiftData.on(GetStatementResultCommand, { Id: 'stmt-1' }).callsFake(async (input) => {
        const offset = input.NextToken ? Number(input.NextToken) : 0;
        // The page after the first part was filled fails.
        if (offset >= Math.ceil(PART_BYTES / 1050) + pageRows) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        const records = Array.from({ length: pageRows }, (_, i) => [{ longValue: offset + i }, { stringValue: 'f'.repeat(1000) }, { isNull: true }]);
        return { Records: records, ColumnMetadata: COLUMNS, TotalNumRows: count, NextToken: String(offset + pageRows) };
      });
      s3.on(UploadPartCommand).callsFake(async (input) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return { ETag: `etag-${input.PartNumber}` };
      });
    }
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const name = await start();
      const record = sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count), 'm-1');
      await expect(route(deps, { Records: [record] })).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(s3).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 1);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(sfn).not.toHaveReceivedCommand(SendTaskFailureCommand);
  });

  test('past the time budget: aborted, nothing written, the task fails with ResultExportTooLarge naming UNLOAD', async () => {
    // Each page asked for takes 30 s; the next page is asked for while one is written.
    let left = 120_000;
    const timed = { ...deps, remainingTimeMs: () => left };
    const count = Math.ceil((3 * PART_BYTES) / 1050);
    redshiftData.on(GetStatementResultCommand).callsFake(async (input) => {
      left -= 30_000;
      const offset = input.NextToken ? Number(input.NextToken) : 0;
      const records = Array.from({ length: Math.min(5000, count - offset) }, (_, i) => [{ longValue: offset + i }, { stringValue: 'z'.repeat(1000) }, { isNull: true }]);
      return { Records: records, ColumnMetadata: COLUMNS, TotalNumRows: count, ...offset + 5000 < count ? { NextToken: String(offset + 5000) } : {} };
    });
    redshiftData.on(DescribeStatementCommand).resolves({ Id: 'stmt-1', Status: 'FINISHED', HasResultSet: true, ResultRows: count });
    const name = await start();
    await route(timed, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', count))] });

    expect(s3).toHaveReceivedCommandTimes(AbortMultipartUploadCommand, 1);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    const failure = sfn.commandCalls(SendTaskFailureCommand)[0].args[0].input;
    expect(failure.error).toBe('ResultExportTooLarge');
    expect(JSON.parse(failure.cause!).detail.error).toMatch(new RegExp(`stopped after 15000 of ${count} rows .*nothing was written.*UNLOAD`, 's'));
  });

  test('a list: each statement with rows in its own object (<id>:<n>), the others by their changed rows', async () => {
    redshiftData.on(DescribeStatementCommand).resolves({
      Id: 'stmt-1',
      Status: 'FINISHED',
      SubStatements: [
        { Id: 'stmt-1:1', HasResultSet: false, ResultRows: 4 }, { Id: 'stmt-1:2', HasResultSet: true, ResultRows: 1 },
      ],
    });
    servePages('stmt-1:2', 1, 10);
    const name = await start();
    await route(deps, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 5))] });
    expect(exportOutput().statements).toEqual([
      { statementId: 'stmt-1:1', hasResultSet: false, rows: 4 },
      expect.objectContaining({ statementId: 'stmt-1:2', key: 'runs/stmt-1:2.jsonl', rows: 1 }),
    ]);
  });

  test('another completer asks the starter to export (the Data API shows results only to the starter\'s role)', async () => {
    const starter = { ...deps, config: { ...deps.config, functionName: 'starter' } };
    const completer = { ...deps, config: { ...deps.config, functionName: 'completer' } };
    const answer = { statementId: 'stmt-1', hasResultSet: true, rows: 3, bucket: 'results-bucket', key: 'runs/stmt-1.jsonl', bytes: 10, format: 'JSON_LINES', columns: [] };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(answer)) as never });
    const name = await start({}, starter);
    await route(completer, { Records: [sqsRecord(statusEvent(name, 'stmt-1', 'FINISHED', 3))] });
    const invoke = lambda.commandCalls(InvokeCommand)[0].args[0].input;
    expect(invoke.FunctionName).toBe('starter');
    expect(JSON.parse(bodyOf(invoke.Payload))).toEqual({
      action: 'exportResult', statementId: 'stmt-1', exportBucket: 'results-bucket', exportKeyPrefix: 'runs/', exportFormat: 'JSON_LINES',
    });
    expect(s3).not.toHaveReceivedAnyCommand();
    expect(exportOutput()).toEqual(answer);
  });

  test('exportResult of a finished statement, by id', async () => {
    servePages('stmt-1', 2, 10);
    await expect(route(deps, { action: 'exportResult', statementId: 'stmt-1', exportBucket: 'results-bucket', exportFormat: 'CSV' }))
      .resolves.toMatchObject({ key: 'stmt-1.csv', rows: 2, format: 'CSV' });
  });
});

describe('export fields in requests', () => {
  test.each([
    [{ sqlStatement: 'select 1', exportBucket: 'b-1' }, /exportBucket with SQL writes the result before the Step Functions callback/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, exportBucket: 'Bad_Bucket' }, /exportBucket must be an S3 bucket name; got "Bad_Bucket"/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, exportBucket: 'b-1', exportKeyPrefix: '/abs' }, /exportKeyPrefix must be .*; got "\/abs"/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, exportBucket: 'b-1', exportFormat: 'PARQUET' }, /exportFormat must be "JSON_LINES" or "CSV"; got "PARQUET"/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, exportKeyPrefix: 'p/' }, /exportKeyPrefix needs exportBucket/],
    [{ sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, exportBucket: 'b-1', rowFormat: 'OBJECTS' }, /Give either rowFormat .* or exportBucket .*; got both/],
    [{ action: 'exportResult', statementId: 'abc' }, /"exportResult" needs exportBucket; got none/],
    [{ action: 'describeStatement', statementId: 'abc', exportBucket: 'b-1' }, /exportBucket is only used with "exportResult" or a start/],
  ])('%j is refused', async (event, message) => {
    await expect(route(deps, event)).rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  });
});
