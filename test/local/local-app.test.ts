/**
 * The local runner's public API on a stack of a user's own (not the example app): start from an App, custom
 * resources applied, a machine run with mocked responses, the database queried, everything stopped.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { userApp, USER_MOCKS } from './user-stack';
import { ensureBundles } from '../../local/bundles';
import { formatResult, LocalApp, LocalAppError, MockConfigError } from '../../local/index';

jest.setTimeout(120_000);

let dir: string;
let local: LocalApp;

beforeAll(async () => {
  ensureBundles();
  dir = mkdtempSync(join(tmpdir(), 'local-app-test-'));
  const { stack } = userApp(join(dir, 'cdk.out'));
  local = await LocalApp.start({ app: stack, mocks: USER_MOCKS });
});

afterAll(async () => {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the custom resource created the table (physical-design clauses dropped), in the tasker\'s database', async () => {
  expect(local.database).toBe('orders');
  expect(local.cloud.cloudFormation.outcomes.map((o) => `${o.requestType} ${o.status}`)).toEqual(['Create SUCCESS']);
  // The custom resource of the Python function is left out, not waited for.
  expect(local.notCreated).toEqual([expect.stringMatching(/^Scores/)]);
  expect(await local.query('select count(*) as n from orders')).toEqual([{ n: '0' }]);
});

test('a machine runs with a mocked SNS task: outcome, SQL, trace, rows', async () => {
  const result = await local.run('OrdersMachine', { id: '7', region: 'eu-west-1' }, { testCase: 'HappyPath' });
  if (result.status !== 'SUCCEEDED') throw new Error(formatResult(result).join('\n'));
  expect(result.output).toMatchObject({ id: '7', published: { MessageId: 'mocked-message-1' } });
  expect(result.statements.map((s) => [s.sql, s.status])).toEqual([['insert into orders (id, region) values (:id, :region)', 'FINISHED']]);
  expect(result.trace.filter((e) => e.kind === 'StateEntered').map((e) => e.state)).toEqual(['InsertOrder', 'Notify']);
  expect(await local.query('select id, region from orders')).toEqual([{ id: '7', region: 'eu-west-1' }]);
  expect(formatResult(result).join('\n')).toMatch(/TaskInvoked Notify: mocked response/);
});

test('a mocked Throw fails the task with its error and cause', async () => {
  // The test case after the machine's name, as Step Functions Local takes it after the ARN.
  const result = await local.run('OrdersStack/OrdersMachine#SnsDown', { id: '8', region: 'us-east-1' });
  expect(result).toMatchObject({ status: 'FAILED', error: 'SNS.ThrottledException', cause: 'Rate exceeded' });
});

test('a task with no answer fails with an error naming the state and the mock to add', async () => {
  const result = await local.run('OrdersMachine', { id: '9', region: 'us-east-1' });
  expect(result.status).toBe('FAILED');
  expect(result.unanswered).toEqual(['Notify (arn:aws:states:::sns:publish)']);
  expect(result.error).toBe('Local.NoMockedResponse');
  expect(result.cause).toMatch(/State "Notify" of \w+ calls arn:aws:states:::sns:publish/);
  expect(result.cause).toMatch(/TestCases\.<case>\.Notify/);
});

test('the user\'s Node.js function runs for real; a Python one fails naming the state until a mock answers it', async () => {
  expect(local.cloud.skippedFunctions).toEqual([expect.objectContaining({ reason: 'runtime python3.12 is not Node.js' })]);
  const unmocked = await local.run('ScoreMachine', { qty: 21 });
  expect(unmocked).toMatchObject({ status: 'FAILED', error: 'Local.NoMockedResponse' });
  expect(unmocked.cause).toMatch(/State "Score" .* is a function that does not run locally \(runtime python3\.12 is not Node\.js\)/);
  expect(unmocked.trace.filter((e) => e.kind === 'StateExited').map((e) => e.state)).toEqual(['Double']);
  const mocked = await local.run('ScoreMachine#Scored', { qty: 21 });
  expect(mocked.status).toBe('SUCCEEDED');
  expect(mocked.output).toMatchObject({
    double: { doubled: 42, runtime: expect.stringMatching(/^v\d+/), otherServices: local.cloud.unsupported.endpoint }, score: 42,
  });
});

test('an execution past its timeout is stopped (ABORTED, Local.Timeout)', async () => {
  const result = await local.run('SlowMachine', {}, { timeoutMs: 300 });
  expect(result).toMatchObject({ status: 'ABORTED', error: 'Local.Timeout', cause: 'The execution did not end within 300 ms; it was stopped' });
  expect(result.durationMs).toBeLessThan(5000);
});

test('Redshift-only SQL fails with an error that names it', async () => {
  const result = await local.run('ExportMachine', {});
  expect(result.status).toBe('FAILED');
  expect(result.cause).toMatch(/UNLOAD is Redshift-only/);
  expect(result.statements[0]).toMatchObject({ status: 'FAILED' });
});

test('bad names and bad mocks are typed errors naming the value', async () => {
  await expect(local.run('NoSuchMachine')).rejects.toThrow(LocalAppError);
  await expect(local.run('NoSuchMachine')).rejects.toThrow(/No state machine "NoSuchMachine".*OrdersMachine/);
  await expect(local.run('OrdersMachine', {}, { testCase: 'Nope' })).rejects.toThrow(/test case "Nope".*OrdersMachine#HappyPath/);
  await expect(LocalApp.start({ app: join(dir, 'cdk.out'), mocks: { MockedResponses: { X: { first: { Return: 1 } } } } as never }))
    .rejects.toThrow(MockConfigError);
});

test('schema SQL runs before the custom resources, seed SQL after; a failing file is named with its statement', async () => {
  writeFileSync(join(dir, 'schema.sql'), 'create table customers (id int, name varchar(20));\n-- the orders table is the stack\'s\n');
  writeFileSync(join(dir, 'seed.sql'), 'insert into customers values (1, \'Ann; Bo\');\ninsert into orders (id, region) values (100, \'seeded\');');
  const seeded = await LocalApp.start({ app: join(dir, 'cdk.out'), schemaFiles: [join(dir, 'schema.sql')], seedFiles: [join(dir, 'seed.sql')] });
  try {
    expect(await seeded.query('select c.name, o.region from customers c join orders o on o.id = 100')).toEqual([{ name: 'Ann; Bo', region: 'seeded' }]);
  } finally {
    await seeded.stop();
  }
  writeFileSync(join(dir, 'bad.sql'), 'create table a (id int);\ncreate tabel b (id int);');
  await expect(LocalApp.start({ app: join(dir, 'cdk.out'), schemaFiles: [join(dir, 'bad.sql')] }))
    .rejects.toThrow(/schema file .*bad\.sql, statement 2 \(create tabel b \(id int\)\): .*syntax error/);
});

test('an App synthesized without outdir: its temporary assembly is removed on stop', async () => {
  const app = new App();
  new Stack(app, 'Empty');
  const plain = await LocalApp.start({ app, stack: 'Empty' });
  const directory = plain.assembly.directory;
  expect(existsSync(directory)).toBe(true);
  await plain.stop();
  expect(existsSync(directory)).toBe(false);
  // Also when the start is refused.
  const refused = new App();
  new Stack(refused, 'Empty');
  await expect(LocalApp.start({ app: refused, mocks: { MockedResponses: { R: {} }, StateMachines: { M: { TestCases: { T: { S: 'X' } } } } } }))
    .rejects.toThrow(MockConfigError);
  expect(existsSync(refused.outdir)).toBe(false);
  const unknownStack = new App();
  new Stack(unknownStack, 'Empty');
  await expect(LocalApp.start({ app: unknownStack, stack: 'Nope' })).rejects.toThrow(/No stack Nope in the app; its stacks: Empty/);
  expect(existsSync(unknownStack.outdir)).toBe(false);
});

test('a data directory keeps the database and the custom resources between starts; a changed resource is updated', async () => {
  const dataDir = join(dir, 'data');
  const { stack } = userApp(join(dir, 'cdk.out.kept'));
  const first = await LocalApp.start({ app: stack, dataDir, mocks: USER_MOCKS });
  try {
    expect((await first.run('OrdersMachine', { id: '1', region: 'kept' }, { testCase: 'HappyPath' })).status).toBe('SUCCEEDED');
  } finally {
    await first.stop();
  }
  const second = await LocalApp.start({ app: join(dir, 'cdk.out.kept'), dataDir });
  try {
    // Nothing changed in the app: no request to the custom resource; the row is still there.
    expect(second.cloud.cloudFormation.outcomes).toEqual([]);
    expect(await second.query('select region from orders')).toEqual([{ region: 'kept' }]);
  } finally {
    await second.stop();
  }
  // The next version of the app: the resource's properties changed, so it gets an Update (its onUpdate runs).
  const third = await LocalApp.start({ app: userApp(join(dir, 'cdk.out.v2'), 2).stack, dataDir });
  try {
    expect(third.cloud.cloudFormation.outcomes.map((o) => `${o.logicalId} ${o.requestType} ${o.status}`)).toEqual(['OrdersTable Update SUCCESS']);
    expect(await third.query('select region, note from orders')).toEqual([{ region: 'kept', note: null }]);
    expect((await third.destroy()).map((o) => `${o.requestType} ${o.status}`)).toEqual(['Delete SUCCESS']);
  } finally {
    await third.stop();
  }
  expect(existsSync(join(dataDir, 'stack.json'))).toBe(true);
});
