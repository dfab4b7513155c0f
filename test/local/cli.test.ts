/**
 * The command line of the local runner on a user's synthesized app (cdk.out): exit codes, output, a kept database
 * queried by `sql`, `destroy`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { userApp, USER_MOCKS } from './user-stack';
import { ensureBundles } from '../../local/bundles';
import { main } from '../../local/cli';
import { EXIT } from '../../local/cli-args';

jest.setTimeout(120_000);

let dir: string;

beforeAll(() => {
  ensureBundles();
  dir = mkdtempSync(join(tmpdir(), 'local-cli-test-'));
  userApp(join(dir, 'cdk.out')).app.synth();
  writeFileSync(join(dir, 'mocks.json'), JSON.stringify(USER_MOCKS));
  writeFileSync(join(dir, 'input.json'), JSON.stringify({ id: '41', region: 'ap-south-1' }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (line) => out.push(line), (line) => err.push(line));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('--help and bad usage', async () => {
  expect(await cli('--help')).toMatchObject({ code: EXIT.OK, out: expect.stringContaining('Exit codes: 0 succeeded') });
  expect(await cli('run', '--app', join(dir, 'cdk.out'), '--bogus')).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('Unknown option --bogus') });
  expect(await cli('run', '--app', join(dir, 'cdk.out'))).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('run needs --state-machine') });
  expect(await cli('run', '--app', join(dir, 'nowhere'), '--state-machine', 'X')).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('is not a cloud assembly') });
});

test('--json prints the result; a failing schema file is exit code 3', async () => {
  const app = join(dir, 'cdk.out');
  const json = await cli('run', '--app', app, '--state-machine', 'OrdersMachine#HappyPath', '--mocks', join(dir, 'mocks.json'),
    '--input-json', '{"id":"5","region":"r"}', '--json');
  expect(json.code).toBe(EXIT.OK);
  expect(JSON.parse(json.out)).toMatchObject({ status: 'SUCCEEDED', statements: [{ status: 'FINISHED', parameters: [{ name: 'id', value: '5' }, { name: 'region', value: 'r' }] }] });
  writeFileSync(join(dir, 'bad.sql'), 'create tabel nope (id int)');
  const failed = await cli('run', '--app', app, '--state-machine', 'OrdersMachine', '--schema', join(dir, 'bad.sql'), '--quiet');
  expect(failed).toMatchObject({ code: EXIT.START_FAILED, err: expect.stringMatching(/schema file .*bad\.sql, statement 1 .*syntax error/) });
});

test('run, then sql on the kept database, then destroy', async () => {
  const dataDir = join(dir, '.local');
  const app = join(dir, 'cdk.out');
  const ok = await cli('run', '--app', app, '--state-machine', 'OrdersStack/OrdersMachine', '--input', join(dir, 'input.json'),
    '--mocks', join(dir, 'mocks.json'), '--test-case', 'HappyPath', '--data-dir', dataDir);
  expect(ok.code).toBe(EXIT.OK);
  expect(ok.out).toMatch(/^OrdersMachine\w+: SUCCEEDED in \d+ ms/);
  expect(ok.out).toContain('FINISHED insert into orders (id, region) values (:id, :region) [id=41, region=ap-south-1]');
  expect(ok.err).toContain('Custom resource OrdersTable: Create SUCCESS');

  const failed = await cli('run', '--app', app, '--state-machine', 'OrdersMachine', '--input-json', '{"id":"42","region":"x"}', '--data-dir', dataDir, '--quiet');
  expect(failed.code).toBe(EXIT.FAILED);
  expect(failed.out).toContain('error: Local.NoMockedResponse');

  const unknown = await cli('run', '--app', app, '--state-machine', 'Nope', '--data-dir', dataDir, '--quiet');
  expect(unknown).toMatchObject({ code: EXIT.USAGE, err: expect.stringContaining('No state machine "Nope"') });

  const rows = await cli('sql', '--data-dir', dataDir, 'select id, region from orders order by id');
  expect(rows.code).toBe(EXIT.OK);
  expect(rows.out.split('\n')).toEqual(['id | region', '---+-----------', '41 | ap-south-1', '42 | x', '(2 rows)']);
  expect((await cli('sql', '--data-dir', dataDir, 'select nope from orders')).code).toBe(EXIT.FAILED);

  expect(await cli('destroy', '--app', app, '--data-dir', dataDir, '--quiet')).toMatchObject({ code: EXIT.OK });
  expect((await cli('sql', '--data-dir', dataDir, 'select 1 from orders')).err).toMatch(/relation "orders" does not exist/);
});
