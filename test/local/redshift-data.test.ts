import {
  ActiveStatementsExceededException, BatchExecuteStatementCommand, CancelStatementCommand, DescribeStatementCommand,
  DescribeStatementCommandOutput, ExecuteStatementCommand, ExecuteStatementCommandInput, GetStatementResultCommand,
  ListStatementsCommand, RedshiftDataClient, ResourceNotFoundException, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { faultTimes, sleep } from '../../local/servers/http-util';
import { RedshiftDataServer, startRedshiftDataServer, StatusChangeEvent } from '../../local/servers/redshift-data';
import { LocalQueue, SqsEvent, until } from '../../local/servers/sqs-queue';

let server: RedshiftDataServer;
let client: RedshiftDataClient;

function newClient(accessKeyId: string, sessionToken?: string): RedshiftDataClient {
  return new RedshiftDataClient({
    endpoint: server.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId, secretAccessKey: 'local', sessionToken },
  });
}

const target = { ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'awsuser' };

async function execute(input: Partial<ExecuteStatementCommandInput> & { Sql: string }, c = client): Promise<string> {
  const output = await c.send(new ExecuteStatementCommand({ ...target, ...input }));
  return output.Id!;
}

async function finished(id: string, c = client): Promise<DescribeStatementCommandOutput> {
  for (;;) {
    const described = await c.send(new DescribeStatementCommand({ Id: id }));
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(described.Status!)) return described;
    await sleep(10);
  }
}

const SLOW_PROCEDURE = `create or replace procedure busy_wait(seconds int) language plpgsql as $$
declare started timestamptz := timeofday()::timestamptz;
begin
  while timeofday()::timestamptz < started + make_interval(secs => seconds) loop end loop;
end $$`;

beforeAll(async () => {
  // PGlite: this suite checks the per-database queue (a statement waits as SUBMITTED while another one runs), which
  // only that engine has. The PostgreSQL engine (the default) runs the other local suites, the demo and the benchmarks.
  server = await startRedshiftDataServer({ clusters: ['examplecluster'], resultPageRows: 3, engine: 'pglite' });
  client = newClient('roleA');
  await server.query('dev', SLOW_PROCEDURE);
});

afterAll(async () => {
  client.destroy();
  await server.close();
});

describe('ExecuteStatement and DescribeStatement', () => {
  test('runs through SUBMITTED → PICKED → STARTED → FINISHED and describes the statement', async () => {
    // WHEN
    const output = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 42 as answer', StatementName: 'describe-me' }));
    const described = await finished(output.Id!);

    // THEN
    expect(output).toMatchObject({ ClusterIdentifier: 'examplecluster', Database: 'dev', DbUser: 'awsuser' });
    expect(output.CreatedAt).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      Id: output.Id,
      Status: 'FINISHED',
      HasResultSet: true,
      ResultRows: 1,
      QueryString: 'select 42 as answer',
      ClusterIdentifier: 'examplecluster',
      Database: 'dev',
      DbUser: 'awsuser',
    });
    expect(described.Duration).toBeGreaterThan(0);
    expect(described.RedshiftQueryId).toBeGreaterThan(0);
    expect(described.UpdatedAt!.getTime()).toBeGreaterThanOrEqual(described.CreatedAt!.getTime());
    expect(server.statement(output.Id!)!.history.map((h) => h.status)).toEqual(['SUBMITTED', 'PICKED', 'STARTED', 'FINISHED']);
  });

  test('a failing statement is FAILED with PostgreSQL\'s error text', async () => {
    const id = await execute({ Sql: 'select * from no_such_table' });
    const described = await finished(id);
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toBe('ERROR: relation "no_such_table" does not exist');
    expect(described.ResultRows).toBe(-1);
    await expect(client.send(new GetStatementResultCommand({ Id: id })))
      .rejects.toThrow('Query does not have result. Please check query status with DescribeStatement.');
  });

  test('several statements in one ExecuteStatement fail like a prepared statement does', async () => {
    const described = await finished(await execute({ Sql: 'select 1; select 2' }));
    expect(described.Error).toBe('ERROR: cannot insert multiple commands into a prepared statement');
  });

  test('DML reports affected rows, DDL zero; Redshift shims getdate() and sysdate work', async () => {
    await finished(await execute({ Sql: 'create table shim_check(id int, at timestamp default getdate())' }));
    const insert = await finished(await execute({ Sql: 'insert into shim_check(id) values (1), (2), (3)' }));
    expect(insert).toMatchObject({ Status: 'FINISHED', ResultRows: 3, HasResultSet: false });
    const id = await execute({ Sql: 'select getdate() as g, sysdate as s, count(*) as n from shim_check' });
    await finished(id);
    const result = await client.send(new GetStatementResultCommand({ Id: id }));
    expect(result.Records![0][0].stringValue).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(result.Records![0][1].stringValue).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(result.Records![0][2]).toEqual({ longValue: 3 });
  });

  test('unknown and malformed ids', async () => {
    const unknown = await client.send(new DescribeStatementCommand({ Id: '00000000-0000-4000-8000-000000000000' })).catch((e) => e);
    expect(unknown).toBeInstanceOf(ResourceNotFoundException);
    expect(unknown.message).toBe('Query does not exist.');
    await expect(client.send(new DescribeStatementCommand({ Id: 'not-an-id' }))).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('validation like the service', () => {
  test.each([
    ['cluster and workgroup', { WorkgroupName: 'wg' }, /cannot both be specified/],
    ['neither cluster nor workgroup', { ClusterIdentifier: undefined, DbUser: undefined }, /Either ClusterIdentifier or WorkgroupName/],
    ['DbUser with SecretArn', { SecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' }, /DbUser and SecretArn/],
    ['no database', { Database: undefined }, /Database must be specified/],
    ['unknown cluster', { ClusterIdentifier: 'other' }, /^Redshift endpoint doesn't exist in this region\.$/],
    ['SQL over 100,000 characters', { Sql: `select '${'x'.repeat(100_000)}'` }, /length less than or equal to 100000/],
    ['empty SQL', { Sql: ' ' }, /cannot be empty/],
    ['statement name over 500 characters', { StatementName: 'n'.repeat(501) }, /'statementName'.*500/],
    ['an empty parameter value', { Sql: 'select :a', Parameters: [{ name: 'a', value: '' }] }, /parameters\.1\.member\.value/],
    ['a parameter the SQL does not use', { Sql: 'select 1', Parameters: [{ name: 'a', value: '1' }] }, /'a' are not used/],
    ['a parameter the SQL uses but does not get', { Sql: 'select :a, :b', Parameters: [{ name: 'a', value: '1' }] }, /references parameter 'b'/],
  ])('rejects %s', async (_, input, message) => {
    const error = await client.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1', ...input } as ExecuteStatementCommandInput)).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toMatch(message);
  });

  test('rejects a batch of more than 40 statements and an empty one', async () => {
    await expect(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: Array(41).fill('select 1') })))
      .rejects.toThrow(/less than or equal to 40/);
    await expect(client.send(new BatchExecuteStatementCommand({ ...target, Sqls: [] }))).rejects.toBeInstanceOf(ValidationException);
  });
});

describe('parameters', () => {
  test('named parameters are bound as values (never spliced), casts and quoted colons untouched', async () => {
    const id = await execute({
      Sql: 'select :a::int + :b::int as total, \'literal :a\' as text, :name as name',
      Parameters: [{ name: 'a', value: '2' }, { name: 'b', value: '40' }, { name: 'name', value: '\'; drop table x; --' }],
    });
    const described = await finished(id);
    expect(described.QueryParameters).toEqual([{ name: 'a', value: '2' }, { name: 'b', value: '40' }, { name: 'name', value: '\'; drop table x; --' }]);
    const result = await client.send(new GetStatementResultCommand({ Id: id }));
    expect(result.Records).toEqual([[{ longValue: 42 }, { stringValue: 'literal :a' }, { stringValue: '\'; drop table x; --' }]]);
  });
});

describe('GetStatementResult', () => {
  test('typed fields, column metadata and NextToken pagination', async () => {
    const id = await execute({
      Sql: 'select g as n, g * 1.5::float8 as half, g % 2 = 0 as even, case when g = 7 then null else \'r\' || g end as label, '
        + 'g::numeric(10,2) as amount, date \'2026-01-01\' + g as day from generate_series(1, 7) g order by g',
    });
    await finished(id);
    const pages = [];
    let token: string | undefined;
    do {
      const page = await client.send(new GetStatementResultCommand({ Id: id, NextToken: token }));
      pages.push(page);
      token = page.NextToken;
    } while (token);
    expect(pages.map((p) => p.Records!.length)).toEqual([3, 3, 1]);
    expect(pages.every((p) => p.TotalNumRows === 7)).toBe(true);
    expect(pages[0].ColumnMetadata!.map((c) => [c.name, c.typeName])).toEqual([
      ['n', 'int4'], ['half', 'float8'], ['even', 'bool'], ['label', 'text'], ['amount', 'numeric'], ['day', 'date'],
    ]);
    expect(pages[0].Records![1]).toEqual([
      { longValue: 2 }, { doubleValue: 3 }, { booleanValue: true }, { stringValue: 'r2' }, { stringValue: '2.00' }, { stringValue: '2026-01-03' },
    ]);
    expect(pages[2].Records![0][3]).toEqual({ isNull: true });
    await expect(client.send(new GetStatementResultCommand({ Id: id, NextToken: 'bogus' }))).rejects.toThrow('Invalid NextToken.');
  });
});

describe('BatchExecuteStatement', () => {
  test('runs as one transaction with sub-statements; results per sub-statement', async () => {
    const output = await client.send(new BatchExecuteStatementCommand({
      ...target, Sqls: ['create table batch_ok(id int)', 'insert into batch_ok values (1), (2)', 'select count(*) from batch_ok'],
    }));
    const described = await finished(output.Id!);
    expect(described).toMatchObject({ Status: 'FINISHED', HasResultSet: true });
    expect(described.QueryString).toBeUndefined();
    expect(described.SubStatements!.map((s) => [s.Id, s.Status, s.ResultRows, s.HasResultSet])).toEqual([
      [`${output.Id}:1`, 'FINISHED', 0, false], [`${output.Id}:2`, 'FINISHED', 2, false], [`${output.Id}:3`, 'FINISHED', 1, true],
    ]);
    const sub = await client.send(new DescribeStatementCommand({ Id: `${output.Id}:3` }));
    expect(sub).toMatchObject({ Status: 'FINISHED', QueryString: 'select count(*) from batch_ok' });
    const result = await client.send(new GetStatementResultCommand({ Id: `${output.Id}:3` }));
    expect(result.Records).toEqual([[{ longValue: 2 }]]);
  });

  test('a failing sub-statement fails the batch and rolls everything back', async () => {
    await finished(await execute({ Sql: 'create table batch_rollback(id int)' }));
    const output = await client.send(new BatchExecuteStatementCommand({
      ...target, Sqls: ['insert into batch_rollback values (1)', 'insert into batch_rollback values (\'x\')', 'select 1'],
    }));
    const described = await finished(output.Id!);
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toBe('ERROR: invalid input syntax for type integer: "x"');
    expect(described.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'ABORTED']);
    expect((await server.query('dev', 'select count(*) from batch_rollback')).rows).toEqual([['0']]);
  });
});

describe('CancelStatement', () => {
  test('cancelling a running statement interrupts it: ABORTED, its transaction rolled back, the database usable', async () => {
    // GIVEN a statement that writes, then runs for a minute
    await finished(await execute({ Sql: 'create table cancel_check(id int)' }));
    const id = (await client.send(new BatchExecuteStatementCommand({
      ...target, Sqls: ['insert into cancel_check values (99)', 'call busy_wait(60)'], WithEvent: true, StatementName: 'cancel-me',
    }))).Id!;
    // (cancelled while its second sub-statement runs: the insert has finished, inside the batch's transaction)
    await until(() => server.statement(id)!.subStatements[0].status === 'FINISHED', 10_000, 'the insert to finish');
    const queued = await execute({ Sql: 'insert into cancel_check values (1)' });

    // WHEN
    const output = await client.send(new CancelStatementCommand({ Id: id }));

    // THEN
    expect(output.Status).toBe(true);
    const described = await finished(id);
    expect(described.Status).toBe('ABORTED');
    expect(described.Error).toMatch(/^ERROR: Query \(\d+\) cancelled on user's request$/);
    expect(server.statement(id)!.history.map((h) => h.status)).toEqual(['SUBMITTED', 'PICKED', 'STARTED', 'ABORTED']);
    expect(described.SubStatements!.map((s) => s.Status)).toEqual(['FINISHED', 'ABORTED']);
    // The statement queued behind it runs once the database is back; the cancelled batch's insert was rolled back.
    expect((await finished(queued)).Status).toBe('FINISHED');
    expect((await server.query('dev', 'select count(*) from cancel_check')).rows).toEqual([['1']]);
    expect(server.cancelTimings().length).toBeGreaterThanOrEqual(1);
    await until(() => server.events.some((e) => e.detail.statementId === id), 5000, 'the ABORTED event');
    expect(server.events.find((e) => e.detail.statementId === id)!.detail).toMatchObject({ state: 'ABORTED', rows: -1, statementName: 'cancel-me' });
  });

  test('cancelling a queued statement removes it before it runs', async () => {
    const blocker = await execute({ Sql: 'call busy_wait(2)' });
    const queued = await execute({ Sql: 'select 1' });
    await client.send(new CancelStatementCommand({ Id: queued }));
    expect((await finished(queued)).Status).toBe('ABORTED');
    expect(server.statement(queued)!.history.map((h) => h.status)).toEqual(['SUBMITTED', 'ABORTED']);
    await client.send(new CancelStatementCommand({ Id: blocker }));
    await finished(blocker);
  });

  test('a finished statement cannot be cancelled', async () => {
    const id = await execute({ Sql: 'select 1' });
    await finished(id);
    await expect(client.send(new CancelStatementCommand({ Id: id })))
      .rejects.toThrow(`Could not cancel a query that is already in FINISHED state with ID: ${id}`);
  });
});

describe('status-change events', () => {
  test('only statements started WithEvent emit the event, in the documented shape', async () => {
    const seen: StatusChangeEvent[] = [];
    const stop = server.onEvent((e) => seen.push(e));
    const withEvent = await execute({ Sql: 'select 1 union all select 2', WithEvent: true, StatementName: 'arn:aws:states:eu-west-1:1:execution:M:run:1.2' });
    const without = await execute({ Sql: 'select 3' });
    const failing = await execute({ Sql: 'select 1/0', WithEvent: true, StatementName: 'fails' });
    await Promise.all([finished(withEvent), finished(without), finished(failing)]);
    await until(() => seen.length >= 2, 5000, 'two events');
    await sleep(100);
    stop();
    expect(seen.map((e) => e.detail.statementId).sort()).toEqual([withEvent, failing].sort());
    const event = seen.find((e) => e.detail.statementId === withEvent)!;
    expect(event).toMatchObject({
      'version': '0',
      'source': 'aws.redshift-data',
      'detail-type': 'Redshift Data Statement Status Change',
      'account': '123456789012',
      'region': 'eu-west-1',
      'resources': ['arn:aws:redshift:eu-west-1:123456789012:cluster:examplecluster'],
      'detail': {
        principal: 'arn:aws:sts::123456789012:assumed-role/roleA/local',
        statementName: 'arn:aws:states:eu-west-1:1:execution:M:run:1.2',
        state: 'FINISHED',
        rows: 2,
      },
    });
    expect(event.detail.redshiftQueryId).toBe(server.statement(withEvent)!.redshiftQueryId);
    expect(event.detail.expireAt).toBe(Math.floor(server.statement(withEvent)!.createdAt.getTime() / 1000) + 86_400);
    expect(seen.find((e) => e.detail.statementId === failing)!.detail).toMatchObject({ state: 'FAILED', rows: -1 });
  });

  test('connectQueue delivers events as SQS records to the consumer', async () => {
    const queue = new LocalQueue({ visibilityTimeoutMs: 50 });
    const received: SqsEvent[] = [];
    queue.setConsumer(async (e) => {
      received.push(e);
      return { batchItemFailures: [] };
    });
    const disconnect = server.connectQueue(queue);
    try {
      const id = await execute({ Sql: 'select 1', WithEvent: true, StatementName: 'queued-event' });
      await finished(id);
      await until(() => received.some((e) => e.Records.some((r) => r.body.includes(id))), 5000, 'the SQS delivery');
      const record = received.flatMap((e) => e.Records).find((r) => r.body.includes(id))!;
      expect(record).toMatchObject({ eventSource: 'aws:sqs', attributes: { ApproximateReceiveCount: '1' } });
      expect(JSON.parse(record.body).detail).toMatchObject({ statementId: id, state: 'FINISHED' });
    } finally {
      disconnect();
      queue.close();
    }
  });
});

describe('ListStatements', () => {
  let other: RedshiftDataClient;
  const prefix = `list-${Date.now()}`;

  beforeAll(async () => {
    other = newClient('roleB', 'session-1');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await execute({ Sql: `select ${i}`, StatementName: `${prefix}:${i}` }, other));
    ids.push(await execute({ Sql: 'select * from missing', StatementName: `${prefix}:failed` }, other));
    ids.push(await execute({ Sql: 'select 1', StatementName: `${prefix.toUpperCase()}:upper` }, other));
    await Promise.all(ids.map((id) => finished(id, other)));
  });

  afterAll(() => other.destroy());

  test('without Status only FINISHED statements are listed; StatementName is a case-sensitive prefix', async () => {
    const listed = await other.send(new ListStatementsCommand({ StatementName: prefix }));
    expect(listed.Statements!.map((s) => s.StatementName).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}:${i}`));
    expect(listed.Statements!.every((s) => s.Status === 'FINISHED')).toBe(true);
  });

  test('Status ALL and FAILED; newest first', async () => {
    const all = await other.send(new ListStatementsCommand({ StatementName: prefix, Status: 'ALL' }));
    expect(all.Statements).toHaveLength(6);
    const times = all.Statements!.map((s) => s.CreatedAt!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const failed = await other.send(new ListStatementsCommand({ StatementName: prefix, Status: 'FAILED' }));
    expect(failed.Statements!.map((s) => s.StatementName)).toEqual([`${prefix}:failed`]);
  });

  test('MaxResults and NextToken page through the list', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await other.send(new ListStatementsCommand({ StatementName: prefix, Status: 'ALL', MaxResults: 4, NextToken: token }));
      names.push(...page.Statements!.map((s) => s.StatementName!));
      token = page.NextToken;
      pages += 1;
    } while (token);
    expect(pages).toBe(2);
    expect(new Set(names).size).toBe(6);
    await expect(other.send(new ListStatementsCommand({ MaxResults: 101 }))).rejects.toThrow(/less than or equal to 100/);
    await expect(other.send(new ListStatementsCommand({ Status: 'DONE' as never }))).rejects.toThrow(/enum value set/);
  });

  test('statements are scoped to the caller\'s role; RoleLevel false narrows to the session', async () => {
    expect((await client.send(new ListStatementsCommand({ StatementName: prefix, Status: 'ALL' }))).Statements).toEqual([]);
    const sameRoleOtherSession = newClient('roleB', 'session-2');
    try {
      expect((await sameRoleOtherSession.send(new ListStatementsCommand({ StatementName: prefix, Status: 'ALL' }))).Statements).toHaveLength(6);
      expect((await sameRoleOtherSession.send(new ListStatementsCommand({ StatementName: prefix, Status: 'ALL', RoleLevel: false }))).Statements).toEqual([]);
    } finally {
      sameRoleOtherSession.destroy();
    }
  });
});

describe('fault injection and quotas', () => {
  afterEach(() => server.setFaults(undefined));

  test('an injected ActiveStatementsExceededException reaches the SDK as that named exception', async () => {
    server.setFaults(faultTimes(1, { kind: 'error', name: 'ActiveStatementsExceededException', message: 'too many' }, (c) => c.operation === 'ExecuteStatement'));
    const before = server.statements().length;
    const error = await execute({ Sql: 'select 1' }).catch((e) => e);
    expect(error).toBeInstanceOf(ActiveStatementsExceededException);
    // Nothing was created.
    expect(server.statements()).toHaveLength(before);
  });

  test('5xx answers are retried by the SDK', async () => {
    server.setFaults(faultTimes(2, { kind: 'serverError', status: 500 }, (c) => c.operation === 'DescribeStatement'));
    const id = await execute({ Sql: 'select 1' });
    expect((await finished(id)).Status).toBe('FINISHED');
  });

  test('the active-statement quota is enforced', async () => {
    const limited = await startRedshiftDataServer({ maxActiveStatements: 1 });
    const c = new RedshiftDataClient({ endpoint: limited.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'q', secretAccessKey: 'q' } });
    try {
      const first = await c.send(new ExecuteStatementCommand({ ...target, Sql: 'select 1' }));
      await expect(c.send(new ExecuteStatementCommand({ ...target, Sql: 'select 2' }))).rejects.toBeInstanceOf(ActiveStatementsExceededException);
      await finished(first.Id!, c);
      await expect(c.send(new ExecuteStatementCommand({ ...target, Sql: 'select 3' }))).resolves.toHaveProperty('Id');
    } finally {
      c.destroy();
      await limited.close();
    }
  });
});
