import {
  CancelStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, ListStatementsCommand,
  RedshiftDataClient, ResourceNotFoundException,
} from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TestDeps, makeDeps, sqsRecord, statusEvent } from './support';
import { decodePageToken, encodePageToken } from '../../lambda/actions';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
let started = 0;

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  started = 0;
  redshiftData.on(ExecuteStatementCommand).callsFake(async () => ({ Id: `statement-${++started}` }));
  deps = await makeDeps(dynamo);
});

describe('describeStatement', () => {
  test('by id: plain JSON, ISO dates, no SDK metadata', async () => {
    redshiftData.on(DescribeStatementCommand, { Id: 'abc' }).resolves({
      $metadata: { httpStatusCode: 200 },
      Id: 'abc',
      Status: 'FAILED',
      Error: 'ERROR: function get_date() does not exist',
      CreatedAt: new Date('2026-11-24T10:00:00Z'),
      UpdatedAt: new Date('2026-11-24T10:00:01.5Z'),
      HasResultSet: false,
      ResultRows: -1,
    });
    await expect(route(deps, { action: 'describeStatement', statementId: 'abc' })).resolves.toEqual({
      Id: 'abc',
      Status: 'FAILED',
      Error: 'ERROR: function get_date() does not exist',
      CreatedAt: '2026-11-24T10:00:00.000Z',
      UpdatedAt: '2026-11-24T10:00:01.500Z',
      HasResultSet: false,
      ResultRows: -1,
    });
  });
});

describe('LATEST', () => {
  test('a running statement is found by its exact name (ListStatements matches prefixes)', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    redshiftData.on(ListStatementsCommand).resolves({
      Statements: [
        { Id: 'longer-name', StatementName: `${name}7`, Status: 'STARTED', QueryString: 'x' },
        { Id: 'statement-1', StatementName: name, Status: 'STARTED', QueryString: 'select 1' },
      ],
    });
    redshiftData.on(CancelStatementCommand, { Id: 'statement-1' }).resolves({ Status: true });
    await expect(route(deps, { action: 'cancelStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .resolves.toEqual({ Status: true });
    expect(redshiftData).toHaveReceivedCommandWith(ListStatementsCommand, { StatementName: name, Status: 'ALL' });
  });

  test('picks the most recent of several statements of the execution', async () => {
    let now = 1_764_000_000_000;
    const clocked = await makeDeps(dynamo, { now: () => now });
    await route(clocked, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    now += 1;
    await route(clocked, { sqlStatement: 'select 2', executionArn: EXECUTION_ARN });
    const names = redshiftData.commandCalls(ExecuteStatementCommand).map((c) => c.args[0].input.StatementName!);
    redshiftData.on(ListStatementsCommand).callsFake(async (input) => ({
      Statements: [{ Id: input.StatementName === names[1] ? 'second' : 'first', StatementName: input.StatementName, Status: 'FINISHED', QueryString: 'x' }],
    }));
    redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({ Id: input.Id, Status: 'FINISHED' }));
    await expect(route(clocked, { action: 'describeStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .resolves.toMatchObject({ Id: 'second' });
  });

  test('a completed statement resolves from the tracking table, without ListStatements', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN, taskToken: 'token' });
    const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    await expect(route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED'))] })).resolves.toEqual({ batchItemFailures: [] });
    expect(sfn).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    redshiftData.on(DescribeStatementCommand, { Id: 'statement-1' }).resolves({ Id: 'statement-1', Status: 'FINISHED' });
    await expect(route(deps, { action: 'describeStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .resolves.toMatchObject({ Id: 'statement-1' });
    expect(redshiftData).not.toHaveReceivedCommand(ListStatementsCommand);
  });

  test('fails with PreviousExecutionNotFound when nothing was started for the execution', async () => {
    await expect(route(deps, { action: 'getStatementResult', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .rejects.toMatchObject({ name: 'PreviousExecutionNotFound', message: `No started statements found for ${EXECUTION_ARN}.` });
  });

  test('fails with PreviousExecutionNotFound when the Data API no longer knows the statement', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN });
    redshiftData.on(ListStatementsCommand).resolves({ Statements: [] });
    await expect(route(deps, { action: 'describeStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .rejects.toMatchObject({ name: 'PreviousExecutionNotFound', message: expect.stringMatching(/kept for 24 hours/) });
  });

  test('a statement that could not be started is never LATEST', async () => {
    await route(deps, { sqlStatement: 'select 1', executionArn: EXECUTION_ARN, taskToken: 't' });
    redshiftData.on(ExecuteStatementCommand).rejects(new ResourceNotFoundException({ message: 'cluster not found', Message: 'cluster not found', ResourceId: 'examplecluster', $metadata: {} }));
    await expect(route(deps, { sqlStatement: 'select 2', executionArn: EXECUTION_ARN, taskToken: 't2' })).rejects.toThrow('cluster not found');
    const firstName = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
    redshiftData.on(ListStatementsCommand).callsFake(async (input) => ({
      Statements: input.StatementName === firstName ? [{ Id: 'statement-1', StatementName: firstName, Status: 'STARTED', QueryString: 'x' }] : [],
    }));
    redshiftData.on(DescribeStatementCommand).callsFake(async (input) => ({ Id: input.Id, Status: 'STARTED' }));
    await expect(route(deps, { action: 'describeStatement', statementId: 'LATEST', executionArn: EXECUTION_ARN }))
      .resolves.toMatchObject({ Id: 'statement-1' });
  });
});

describe('getStatementResult', () => {
  const column = [{ name: 'n', typeName: 'int4' }];

  test('passes nextToken through and returns the Data API NextToken (the original dropped it)', async () => {
    redshiftData.on(GetStatementResultCommand, { Id: 'abc', NextToken: undefined }).resolves({
      Records: [[{ longValue: 1 }]], ColumnMetadata: column, TotalNumRows: 2, NextToken: 'page-2',
    });
    redshiftData.on(GetStatementResultCommand, { Id: 'abc', NextToken: 'page-2' }).resolves({
      Records: [[{ longValue: 2 }]], ColumnMetadata: column, TotalNumRows: 2,
    });
    const first = await route(deps, { action: 'getStatementResult', statementId: 'abc' }) as any;
    expect(first).toEqual({ Records: [[{ longValue: 1 }]], ColumnMetadata: column, TotalNumRows: 2, NextToken: 'page-2' });
    const second = await route(deps, { action: 'getStatementResult', statementId: 'abc', nextToken: first.NextToken }) as any;
    expect(second).toEqual({ Records: [[{ longValue: 2 }]], ColumnMetadata: column, TotalNumRows: 2 });
  });

  test('splits a Data API page that would not fit a Step Functions state, and continues where it stopped', async () => {
    const big = 'x'.repeat(1000);
    const rows = Array.from({ length: 500 }, (_, i) => [{ longValue: i }, { stringValue: big }, { isNull: true }]);
    redshiftData.on(GetStatementResultCommand).resolves({ Records: rows, ColumnMetadata: column, TotalNumRows: 500 });
    const seen: number[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await route(deps, { action: 'getStatementResult', statementId: 'abc', ...nextToken ? { nextToken } : {} }) as any;
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(256 * 1024);
      seen.push(...page.Records.map((r: any) => r[0].longValue));
      nextToken = page.NextToken;
      pages++;
    } while (nextToken && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(rows.map((_, i) => i));
  });

  test('binary values become base64', async () => {
    redshiftData.on(GetStatementResultCommand).resolves({ Records: [[{ blobValue: Uint8Array.from([104, 105]) }]], TotalNumRows: 1 });
    await expect(route(deps, { action: 'getStatementResult', statementId: 'abc' })).resolves.toMatchObject({ Records: [[{ blobValue: 'aGk=' }]] });
  });

  test('page tokens round-trip, and a forged token is an InvalidRequest', async () => {
    expect(decodePageToken(encodePageToken({ dataApiToken: 'p2', offset: 7 }))).toEqual({ dataApiToken: 'p2', offset: 7 });
    expect(decodePageToken('raw-data-api-token')).toEqual({ dataApiToken: 'raw-data-api-token', offset: 0 });
    await expect(route(deps, { action: 'getStatementResult', statementId: 'abc', nextToken: 'cdksr1.bm9wZQ' }))
      .rejects.toMatchObject({ name: 'InvalidRequest' });
  });
});
