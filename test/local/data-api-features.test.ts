/**
 * Data API stand-in features beyond the basic lifecycle, against the real SDK client: `WaitTimeSeconds` on
 * ExecuteStatement/BatchExecuteStatement/DescribeStatement, `ClientToken` idempotency, status-change events lost on
 * purpose, the 24-hour retention (aged with an injected clock), statement actions limited to the identity that
 * started the statement, and statements of one database running at once.
 */
import {
  BatchExecuteStatementCommand, CancelStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, ListStatementsCommand,
  RedshiftDataClient, ResourceNotFoundException, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { sleep } from '../../local/servers/http-util';
import { dropFraction, dropStatements, RedshiftDataServer, startRedshiftDataServer } from '../../local/servers/redshift-data';
import { until } from '../../local/servers/sqs-queue';

let server: RedshiftDataServer;
let client: RedshiftDataClient;
let clockOffsetMs = 0;
const target = { ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'awsuser' };
const HOUR = 3600 * 1000;

beforeAll(async () => {
  server = await startRedshiftDataServer({ clusters: ['examplecluster'], clock: () => Date.now() + clockOffsetMs });
  client = new RedshiftDataClient({ endpoint: server.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'roleA', secretAccessKey: 'x' } });
  await server.query('dev', `create or replace procedure busy_wait(ms int) language plpgsql as $$
    declare started timestamptz := timeofday()::timestamptz;
    begin while timeofday()::timestamptz < started + make_interval(secs => ms / 1000.0) loop end loop; end $$`);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('WaitTimeSeconds', () => {
  test('a statement that ends within the wait: the answer carries its final Status, RedshiftPid and HasResultSet', async () => {
    const output = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1 as one', WaitTimeSeconds: 5 }));
    expect(output).toMatchObject({ Status: 'FINISHED', HasResultSet: true });
    expect(output.RedshiftPid).toBeGreaterThan(0);
  });

  test('a failing statement within the wait: FAILED; a batch: FINISHED once every statement ran', async () => {
    const failed = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select * from no_such_table', WaitTimeSeconds: 5 }));
    expect(failed.Status).toBe('FAILED');
    const batch = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ['select 1', 'select 2'], WaitTimeSeconds: 5 }));
    expect(batch.Status).toBe('FINISHED');
  });

  test('a statement still running when the wait ends: the current status, after about the wait', async () => {
    const started = Date.now();
    const output = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'call busy_wait(3000)', WaitTimeSeconds: 1 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(2900);
    expect(['SUBMITTED', 'PICKED', 'STARTED']).toContain(output.Status);
    const described = await client.send(new DescribeStatementCommand({ Id: output.Id, WaitTimeSeconds: 10 }));
    expect(described.Status).toBe('FINISHED');
  });

  test('an aborted statement: ABORTED within the wait', async () => {
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'call busy_wait(10000)' }));
    await until(() => server.statement(Id!)?.status === 'STARTED', 10_000, 'the statement to start');
    const waiting = client.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 10 }));
    await sleep(200);
    await client.send(new CancelStatementCommand({ Id }));
    const described = await waiting;
    expect(described.Status).toBe('ABORTED');
  });

  test('without WaitTimeSeconds the answer comes at once, without a Status', async () => {
    const output = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'call busy_wait(500)' }));
    expect(output.Status).toBeUndefined();
    expect(server.statement(output.Id!)?.status).not.toBe('FINISHED');
  });

  test.each([31, -1])('WaitTimeSeconds %d is refused (0 to 30)', async (seconds) => {
    await expect(client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', WaitTimeSeconds: seconds }))).rejects.toThrow(ValidationException);
  });
});

describe('ClientToken', () => {
  test('the same token and request: the same statement id, the SQL runs once', async () => {
    const token = `token-${Date.now()}`;
    const before = server.statements().length;
    const first = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 7', ClientToken: token }));
    const again = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 7', ClientToken: token }));
    expect(again.Id).toBe(first.Id);
    expect(server.statements().length).toBe(before + 1);
  });

  test('the same token with a different request is refused; another caller\'s token is its own', async () => {
    const token = `token-mismatch-${Date.now()}`;
    await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 8', ClientToken: token }));
    await expect(client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 9', ClientToken: token }))).rejects.toThrow(ValidationException);
    const other = new RedshiftDataClient({ endpoint: server.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'roleB', secretAccessKey: 'x' } });
    const theirs = await other.send(new ExecuteStatementCommand({ ...target, Sql: 'select 9', ClientToken: token }));
    other.destroy();
    expect(theirs.Id).toBeDefined();
  });
});

describe('status-change events lost on purpose', () => {
  test('a seeded fraction: about 10 % of 200 events are dropped, the same ones for the same seed', async () => {
    server.setEventDrops(dropFraction(0.1, 42));
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push((await client.send(new ExecuteStatementCommand({ ...target, Sql: `select ${i}`, WithEvent: true }))).Id!);
    }
    const settled = (id: string) => [...server.events, ...server.droppedEvents].some((e) => e.detail.statementId === id);
    await until(() => ids.every(settled), 30_000, 'every event delivered or dropped');
    server.setEventDrops(undefined);
    const dropped = server.droppedEvents.filter((e) => ids.includes(e.detail.statementId)).length;
    expect(dropped).toBeGreaterThanOrEqual(8);
    expect(dropped).toBeLessThanOrEqual(35);
    const again = dropFraction(0.1, 42);
    const expected = Array.from({ length: 200 }, () => again({} as never)).filter(Boolean).length;
    expect(dropped).toBe(expected);
  });

  test('by statement: exactly the chosen statements lose their event', async () => {
    const kept = (await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', WithEvent: true }))).Id!;
    await until(() => server.events.some((e) => e.detail.statementId === kept), 5000, 'the kept event');
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'call busy_wait(300)', WithEvent: true }));
    server.setEventDrops(dropStatements([Id!]));
    await until(() => server.droppedEvents.some((e) => e.detail.statementId === Id), 5000, 'the dropped event');
    server.setEventDrops(undefined);
    await sleep(100);
    expect(server.events.some((e) => e.detail.statementId === Id)).toBe(false);
  });
});

describe('retention', () => {
  test('a statement older than 24 hours no longer exists: ResourceNotFoundException, absent from ListStatements', async () => {
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', WaitTimeSeconds: 5 }));
    clockOffsetMs = 23 * HOUR;
    await expect(client.send(new DescribeStatementCommand({ Id }))).resolves.toMatchObject({ Status: 'FINISHED' });
    clockOffsetMs = 24 * HOUR + 60_000;
    try {
      await expect(client.send(new DescribeStatementCommand({ Id }))).rejects.toThrow(ResourceNotFoundException);
      const listed = await client.send(new ListStatementsCommand({ Status: 'ALL', MaxResults: 100 }));
      expect(listed.Statements?.some((statement) => statement.Id === Id)).toBe(false);
    } finally {
      clockOffsetMs = 0;
    }
  });
});

describe('statement owner', () => {
  test('only the identity (role and session) that started a statement may describe, read or cancel it', async () => {
    const { Id } = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', WaitTimeSeconds: 5 }));
    const session = (accessKeyId: string, sessionToken?: string) => new RedshiftDataClient({
      endpoint: server.endpoint, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey: 'x', sessionToken },
    });
    const otherRole = session('roleB');
    const sameRoleOtherSession = session('roleA', 'another-function');
    try {
      for (const other of [otherRole, sameRoleOtherSession]) {
        await expect(other.send(new DescribeStatementCommand({ Id }))).rejects.toMatchObject({
          name: 'AccessDeniedException', message: expect.stringMatching(/not authorized to perform: redshift-data:DescribeStatement/),
        });
        await expect(other.send(new CancelStatementCommand({ Id }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      }
      await expect(client.send(new DescribeStatementCommand({ Id }))).resolves.toMatchObject({ Status: 'FINISHED' });
    } finally {
      otherRole.destroy();
      sameRoleOtherSession.destroy();
    }
  });
});

test('independent statements of one database run at the same time', async () => {
  const started = Date.now();
  const outputs = await Promise.all([1, 2, 3].map(() => client.send(new ExecuteStatementCommand({ ...target, Sql: 'call busy_wait(1500)', WaitTimeSeconds: 10 }))));
  expect(outputs.map((o) => o.Status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
  if (server.engine.kind === 'postgres') expect(Date.now() - started).toBeLessThan(4400);
});

describe('batch execution modes and parameters', () => {
  const run = async (input: Record<string, unknown>) => {
    const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, ...input } as never));
    return client.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
  };
  const count = async (table: string) => Number((await server.query('dev', `select count(*) from ${table}`)).rows[0][0]);

  test('TRANSACTION (the default): a failure rolls every statement back', async () => {
    await server.query('dev', 'create table if not exists tx_mode (i int)');
    const described = await run({ Sqls: ['insert into tx_mode values (1)', 'insert into no_such_table values (1)', 'insert into tx_mode values (2)'] });
    expect(described.Status).toBe('FAILED');
    expect(described.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'ABORTED']);
    expect(await count('tx_mode')).toBe(0);
  });

  test('AUTO_COMMIT: each statement commits; a failure stops the batch and keeps what ran before it', async () => {
    await server.query('dev', 'create table if not exists auto_mode (i int)');
    const described = await run({
      Sqls: ['insert into auto_mode values (1)', 'insert into no_such_table values (1)', 'insert into auto_mode values (2)'], ExecutionMode: 'AUTO_COMMIT',
    });
    expect(described.Status).toBe('FAILED');
    expect(described.SubStatements![2].Error).toMatch(/the statements before it were committed/);
    expect(await count('auto_mode')).toBe(1);
  });

  test('VACUUM runs in an AUTO_COMMIT batch, not in a transaction', async () => {
    await server.query('dev', 'create table if not exists vacuumed (i int)');
    const inTransaction = await run({ Sqls: ['delete from vacuumed', 'vacuum vacuumed'] });
    expect(inTransaction.Status).toBe('FAILED');
    expect(inTransaction.Error).toMatch(/VACUUM cannot run inside a transaction block/);
    const autoCommit = await run({ Sqls: ['delete from vacuumed', 'vacuum vacuumed', 'analyze vacuumed'], ExecutionMode: 'AUTO_COMMIT' });
    expect(autoCommit.Status).toBe('FINISHED');
  });

  test('parameters for a batch: each statement binds the ones it names', async () => {
    await server.query('dev', 'create table if not exists batch_params (k varchar(10), v int)');
    const described = await run({
      Sqls: ['insert into batch_params values (:k, 1)', 'update batch_params set v = :v where k = :k'],
      Parameters: [{ name: 'k', value: 'a' }, { name: 'v', value: '5' }],
    });
    expect(described.Status).toBe('FINISHED');
    expect((await server.query('dev', "select v from batch_params where k = 'a'")).rows[0][0]).toBe('5');
  });

  test('an unknown ExecutionMode is refused', async () => {
    await expect(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: ['select 1'], ExecutionMode: 'EACH' as never })))
      .rejects.toBeInstanceOf(ValidationException);
  });

  test('a serialization failure (SQLSTATE 40001, raised on demand) is reported as Redshift\'s error 1023', async () => {
    const { Id } = await client.send(new ExecuteStatementCommand({
      ...target,
      Sql: "do $conflict$ begin raise exception 'could not serialize access due to read/write dependencies among transactions' "
        + "using errcode = '40001'; end $conflict$",
    }));
    const described = await client.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toMatch(/^ERROR: 1023\n {2}Detail: Serializable isolation violation on a table: conflict with concurrent transaction/);
  });
});
