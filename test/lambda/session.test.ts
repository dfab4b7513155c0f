/**
 * Data API sessions in the handler (SDK mocked, tracking table on dynalite): what a start sends to open a session or
 * to run in one, the session id recorded and handed to the caller with the callback (event path, fast path, sweep),
 * and the typed errors of a refused session (`SessionBusy`, `SessionNotAvailable`), which leave nothing behind.
 */
import {
  DescribeStatementCommand, ExecuteStatementCommand, ListSessionsCommand, ListStatementsCommand, RedshiftDataClient,
  ResourceNotFoundException, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EXECUTION_ARN, TASK_TOKEN, TestDeps, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';

const redshiftData = mockClient(RedshiftDataClient);
const sfn = mockClient(SFNClient);
let dynamo: LocalDynamoDb;
let deps: TestDeps;
const SESSION = '0f8e3a4b-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
const OPENED = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
afterAll(async () => { await dynamo.close(); });
beforeEach(async () => {
  redshiftData.reset();
  sfn.reset();
  redshiftData.on(ExecuteStatementCommand).callsFake(async (input) => ({ Id: 'statement-1', SessionId: input.SessionId ?? OPENED }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  deps = await makeDeps(dynamo);
});

function lastStart() {
  const calls = redshiftData.commandCalls(ExecuteStatementCommand);
  return calls[calls.length - 1].args[0].input;
}

const refusal = (message: string) => new ValidationException({ message, $metadata: { httpStatusCode: 400 } });

describe('starting in a session', () => {
  test('sessionKeepAliveSeconds opens a session on the target; its id is recorded and in the callback\'s output', async () => {
    await route(deps, { sqlStatement: 'create temp table t as select 1', sessionKeepAliveSeconds: 600, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

    expect(lastStart()).toMatchObject({ ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'admin', SessionKeepAliveSeconds: 600 });
    expect(lastStart().SessionId).toBeUndefined();
    const [item] = await tableItems(dynamo, deps);
    expect(item).toMatchObject({ statementId: 'statement-1', sessionId: OPENED });

    const event = statusEvent(lastStart().StatementName!, 'statement-1', 'FINISHED');
    await route(deps, { Records: [sqsRecord(event)] });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: TASK_TOKEN, output: JSON.stringify({ ...event, sessionId: OPENED }) });
  });

  test('sessionId runs the statement in the session: no target, the session id (and keep-alive) sent, recorded at registration', async () => {
    await route(deps, { sqlStatement: 'insert into t select * from staged', sessionId: SESSION, sessionKeepAliveSeconds: 60, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

    const start = lastStart();
    expect(start).toMatchObject({ SessionId: SESSION, SessionKeepAliveSeconds: 60, WithEvent: true });
    for (const field of ['ClusterIdentifier', 'WorkgroupName', 'Database', 'DbUser', 'SecretArn']) expect(start).not.toHaveProperty(field);
    const [item] = await tableItems(dynamo, deps);
    expect(item.sessionId).toBe(SESSION);

    // Recorded before the start: a start whose answer was lost still knows its session.
    redshiftData.on(ExecuteStatementCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(route(deps, { sqlStatement: 'select 2', sessionId: SESSION, taskToken: 'other-token', executionArn: EXECUTION_ARN }))
      .rejects.toThrow();
    const kept = (await tableItems(dynamo, deps)).find((candidate) => candidate.sqlStatement === 'select 2');
    expect(kept).toMatchObject({ sessionId: SESSION });
    expect(kept?.statementId).toBeUndefined();
  });

  test('the fast path calls back with the session the description names', async () => {
    redshiftData.on(ExecuteStatementCommand).resolves({ Id: 'statement-1', SessionId: OPENED, Status: 'FINISHED' });
    redshiftData.on(DescribeStatementCommand).resolves({
      Id: 'statement-1', Status: 'FINISHED', SessionId: OPENED, ResultRows: 1, CreatedAt: new Date(), UpdatedAt: new Date(),
    });

    await route(deps, { sqlStatement: 'select 1', sessionKeepAliveSeconds: 60, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output).toMatchObject({ sessionId: OPENED, detail: { statementId: 'statement-1', state: 'FINISHED' } });
  });

  test('an event that comes before the id was recorded: the starter finds the statement and its session by name', async () => {
    deps = await makeDeps(dynamo, { env: { AWS_LAMBDA_FUNCTION_NAME: 'starter' } });
    redshiftData.on(ExecuteStatementCommand).resolves({});
    await route(deps, { sqlStatement: 'select 1', sessionKeepAliveSeconds: 60, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    const name = lastStart().StatementName!;
    redshiftData.on(ListStatementsCommand).resolves({ Statements: [{ Id: 'statement-9', StatementName: name, SessionId: OPENED } as never] });

    await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-9', 'FINISHED'))] });

    const output = JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!);
    expect(output.sessionId).toBe(OPENED);
  });
});

describe('a session that refuses the statement', () => {
  const start = () => route(deps, { sqlStatement: 'select 1', sessionId: SESSION, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });

  test('BUSY (ListSessions): SessionBusy, nothing left in the table', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(refusal('Session is currently running another query'));
    redshiftData.on(ListSessionsCommand).resolves({ Sessions: [{ SessionId: SESSION, Status: 'BUSY', CreatedAt: new Date() }] });

    await expect(start()).rejects.toMatchObject({ name: 'SessionBusy', message: expect.stringContaining(`Session ${SESSION} runs another statement`) });
    expect(redshiftData).toHaveReceivedCommandWith(ListSessionsCommand, { SessionId: SESSION });
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test.each([
    ['CLOSED', () => redshiftData.on(ListSessionsCommand).resolves({ Sessions: [{ SessionId: SESSION, Status: 'CLOSED', CreatedAt: new Date() }] }), /is closed/],
    ['unknown', () => redshiftData.on(ListSessionsCommand).rejects(new ResourceNotFoundException({ message: 'Session does not exist.', Message: 'Session does not exist.', $metadata: {}, ResourceId: SESSION })), /not known/],
  ])('%s (ListSessions): SessionNotAvailable, nothing left in the table', async (_status, listSessions, text) => {
    redshiftData.on(ExecuteStatementCommand).rejects(refusal('Session is not available'));
    listSessions();

    await expect(start()).rejects.toMatchObject({ name: 'SessionNotAvailable', message: expect.stringMatching(text) });
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test.each([
    ['Session is busy running statement x', 'SessionBusy'],
    ['Session is not available', 'SessionNotAvailable'],
  ])('ListSessions refused too: the refusal\'s text decides (%s → %s)', async (message, name) => {
    redshiftData.on(ExecuteStatementCommand).rejects(refusal(message));
    redshiftData.on(ListSessionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    await expect(start()).rejects.toMatchObject({ name });
    expect(deps.log.lines.some((line) => line.level === 'WARN' && /Could not ask the Data API about a session/.test(line.message))).toBe(true);
  });

  test('a refusal that is not about the session keeps its own name (no ListSessions)', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(refusal('SQL statement cannot be empty.'));

    await expect(start()).rejects.toMatchObject({ name: 'ValidationException' });
    expect(redshiftData).not.toHaveReceivedCommand(ListSessionsCommand);
  });

  test('a statement opening a session (no sessionId) is never judged as a session refusal', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(refusal('Session limit reached'));
    await expect(route(deps, { sqlStatement: 'select 1', sessionKeepAliveSeconds: 60, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }))
      .rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('invalid session fields: InvalidRequest, nothing written or started', () => {
  test.each([
    [{ sessionId: 'not-a-session' }, /sessionId must be a Data API session id/],
    [{ sessionId: 42 }, /sessionId must be a Data API session id/],
    [{ sessionKeepAliveSeconds: 0 }, /sessionKeepAliveSeconds must be a whole number of seconds from 1 to 86400/],
    [{ sessionKeepAliveSeconds: 86_401 }, /from 1 to 86400/],
    [{ sessionKeepAliveSeconds: '60' }, /got "60"/],
  ])('%j', async (fields, message) => {
    await expect(route(deps, { sqlStatement: 'select 1', taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN, ...fields }))
      .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(message) });
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test('a retried start must name the same session (the request hash covers it)', async () => {
    await route(deps, { sqlStatement: 'select 1', sessionId: SESSION, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN });
    await expect(route(deps, { sqlStatement: 'select 1', sessionId: OPENED, taskToken: TASK_TOKEN, executionArn: EXECUTION_ARN }))
      .rejects.toMatchObject({ name: 'InvalidRequest', message: expect.stringMatching(/already started another statement/) });
  });
});
