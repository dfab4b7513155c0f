/**
 * Data API sessions in the stand-in, through the real SDK client: a statement with `SessionKeepAliveSeconds` opens a
 * session; later statements with `SessionId` run on its connection (temporary tables survive), one at a time (a
 * busy session refuses, never queues), only for the identity that opened it; the keep-alive closes it (temporary
 * tables gone); `ListSessions` reports AVAILABLE, BUSY and CLOSED; `ClientToken` retries find their statement even
 * while it keeps the session busy.
 */
import {
  DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, ListSessionsCommand, ListStatementsCommand,
  RedshiftDataClient, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { sleep } from '../../local/servers/http-util';
import { RedshiftDataServer, startRedshiftDataServer } from '../../local/servers/redshift-data';
import { until } from '../../local/servers/sqs-queue';

let server: RedshiftDataServer;
let owner: RedshiftDataClient;
let other: RedshiftDataClient;
const target = { ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'awsuser' };

function clientFor(accessKeyId: string): RedshiftDataClient {
  return new RedshiftDataClient({
    endpoint: server.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId, secretAccessKey: 'x', sessionToken: `local-session-${accessKeyId}` },
  });
}

interface Ran { id: string; sessionId?: string; status?: string; error?: string }

async function run(client: RedshiftDataClient, input: Record<string, unknown>): Promise<Ran> {
  const started = await client.send(new ExecuteStatementCommand({ WaitTimeSeconds: 10, ...input } as never));
  const described = await client.send(new DescribeStatementCommand({ Id: started.Id, WaitTimeSeconds: 10 }));
  return { id: started.Id!, sessionId: started.SessionId, status: described.Status, error: described.Error };
}

beforeAll(async () => {
  server = await startRedshiftDataServer({ clusters: ['examplecluster'], engine: 'postgres' });
  owner = clientFor('roleA');
  other = clientFor('roleB');
  await server.query('dev', `create or replace procedure busy_wait(ms int) language plpgsql as $$
    declare started timestamptz := timeofday()::timestamptz;
    begin while timeofday()::timestamptz < started + make_interval(secs => ms / 1000.0) loop end loop; end $$`);
});

afterAll(async () => {
  owner.destroy();
  other.destroy();
  await server.close();
});

test('a temporary table staged in a session is read by a later statement of the session, and by no other connection', async () => {
  const opened = await run(owner, { ...target, Sql: 'create temp table staged as select 41 + 1 as answer', SessionKeepAliveSeconds: 60 });
  expect(opened.status).toBe('FINISHED');
  expect(opened.sessionId).toMatch(/^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}$/);

  const read = await run(owner, { SessionId: opened.sessionId, Sql: 'select answer from staged' });
  expect(read).toMatchObject({ status: 'FINISHED', sessionId: opened.sessionId });
  const result = await owner.send(new GetStatementResultCommand({ Id: read.id }));
  expect(result.Records).toEqual([[{ longValue: 42 }]]);

  const outside = await run(owner, { ...target, Sql: 'select answer from staged' });
  expect(outside.status).toBe('FAILED');
  expect(outside.error).toMatch(/staged.*does not exist/);

  const described = await owner.send(new DescribeStatementCommand({ Id: read.id }));
  expect(described.SessionId).toBe(opened.sessionId);
  const listed = await owner.send(new ListStatementsCommand({ Status: 'ALL' }));
  expect(listed.Statements?.find((s) => s.Id === read.id)?.SessionId).toBe(opened.sessionId);
});

test('a busy session refuses another statement (nothing queued), and ListSessions says BUSY, then AVAILABLE', async () => {
  const opened = await run(owner, { ...target, Sql: 'select 1', SessionKeepAliveSeconds: 60 });
  const long = await owner.send(new ExecuteStatementCommand({ SessionId: opened.sessionId, Sql: 'call busy_wait(1500)', ClientToken: 'token-long' }));
  await until(() => server.statement(long.Id!)?.status === 'STARTED', 10_000, 'the long statement to start');

  await expect(owner.send(new ExecuteStatementCommand({ SessionId: opened.sessionId, Sql: 'select 2' }))).rejects.toThrow(/busy/);
  const busy = await owner.send(new ListSessionsCommand({ SessionId: opened.sessionId }));
  expect(busy.Sessions?.[0]).toMatchObject({ Status: 'BUSY', CurrentStatementId: long.Id });
  // The same request again (same client token): its own statement, not a refusal.
  const again = await owner.send(new ExecuteStatementCommand({ SessionId: opened.sessionId, Sql: 'call busy_wait(1500)', ClientToken: 'token-long' }));
  expect(again.Id).toBe(long.Id);

  await owner.send(new DescribeStatementCommand({ Id: long.Id, WaitTimeSeconds: 10 }));
  const available = await owner.send(new ListSessionsCommand({ SessionId: opened.sessionId }));
  expect(available.Sessions?.[0].Status).toBe('AVAILABLE');
  expect((await run(owner, { SessionId: opened.sessionId, Sql: 'select 2' })).status).toBe('FINISHED');
});

test('only the identity that opened a session can use or list it', async () => {
  const opened = await run(owner, { ...target, Sql: 'select 1', SessionKeepAliveSeconds: 60 });
  const refused = other.send(new ExecuteStatementCommand({ SessionId: opened.sessionId, Sql: 'select 1' }));
  await expect(refused).rejects.toBeInstanceOf(ValidationException);
  await expect(refused).rejects.toThrow(/is invalid/);
  await expect(other.send(new ListSessionsCommand({ SessionId: opened.sessionId }))).rejects.toThrow(/does not exist/);
});

test('the keep-alive closes the session: its temporary tables are gone and a statement is refused as not available', async () => {
  const opened = await run(owner, { ...target, Sql: 'create temp table short_lived as select 1 as one', SessionKeepAliveSeconds: 1 });
  let status: string | undefined;
  for (let tries = 0; tries < 100 && status !== 'CLOSED'; tries++) {
    status = (await owner.send(new ListSessionsCommand({ SessionId: opened.sessionId }))).Sessions?.[0].Status;
    if (status !== 'CLOSED') await sleep(100);
  }
  expect(status).toBe('CLOSED');
  await expect(owner.send(new ExecuteStatementCommand({ SessionId: opened.sessionId, Sql: 'select * from short_lived' })))
    .rejects.toThrow(/Session is not available/);
});

test('a session id with a target, or a keep-alive beyond 24 hours, is refused', async () => {
  const opened = await run(owner, { ...target, Sql: 'select 1', SessionKeepAliveSeconds: 60 });
  await expect(owner.send(new ExecuteStatementCommand({ ...target, SessionId: opened.sessionId, Sql: 'select 1' })))
    .rejects.toThrow(/cannot be specified with ClusterIdentifier/);
  await expect(owner.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', SessionKeepAliveSeconds: 86_401 })))
    .rejects.toBeInstanceOf(ValidationException);
});
