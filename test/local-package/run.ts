/**
 * The local runner's package as a user gets it: its tarball (dist/local/) and the library's (dist/js/) installed into
 * a fresh app in a temporary directory with aws-cdk-lib from the npm registry; the app (plain JavaScript, not the
 * example app) is synthesized with `node`, then one of its state machines runs through the package's CLI (`npx
 * cdk-stepfunctions-redshift-local run`, then `sql` on the kept database) and through its API from a script, which
 * must end on its own (nothing left running). The temporary directory is removed. Exits non-zero on any failure.
 *
 * Needs `npx projen build` (the library's tarball) and `npx projen package:local` first.
 */
import { execFileSync, ExecFileSyncOptions } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function tarball(dir: string, prefix: string): string {
  const found = readdirSync(join(ROOT, dir)).filter((f) => f.startsWith(prefix) && f.endsWith('.tgz'));
  if (found.length !== 1) throw new Error(`Expected one ${prefix}*.tgz in ${dir}, found ${found.length}: run the build (npx projen build; npx projen package:local)`);
  return join(ROOT, dir, found[0]);
}

const APP_JS = `
const { App, Duration, Stack } = require('aws-cdk-lib');
const sns = require('aws-cdk-lib/aws-sns');
const sfn = require('aws-cdk-lib/aws-stepfunctions');
const tasks = require('aws-cdk-lib/aws-stepfunctions-tasks');
const { RedshiftSql, RedshiftSqlTask, SfnRedshiftTasker } = require('cdk-stepfunctions-redshift');

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'ShopStack');
const tasker = new SfnRedshiftTasker(stack, 'Tasker', {
  redshiftTargetProps: { workgroupName: 'shop', dbName: 'shop' },
});
const table = new RedshiftSql(stack, 'Sales', {
  tasker,
  onCreate: ['create table sales (sku varchar(20) distkey, qty int encode az64) sortkey (sku)'],
  onDelete: ['drop table sales'],
  serviceTimeout: Duration.minutes(5),
});
const record = RedshiftSqlTask.jsonPath(stack, 'RecordSale', {
  tasker,
  sql: 'insert into sales values (:sku, :qty::int)',
  parameters: { sku: sfn.JsonPath.stringAt('$.sku'), qty: sfn.JsonPath.stringAt('$.qty') },
  resultPath: sfn.JsonPath.DISCARD,
});
const announce = new tasks.SnsPublish(stack, 'Announce', {
  topic: new sns.Topic(stack, 'Sold'), message: sfn.TaskInput.fromJsonPathAt('$.sku'), resultPath: '$.published',
});
const machine = new sfn.StateMachine(stack, 'Sell', { definitionBody: sfn.DefinitionBody.fromChainable(record.next(announce)) });
machine.node.addDependency(table);
app.synth();
`;

const MOCKS = {
  StateMachines: { Sell: { TestCases: { Ok: { Announce: 'Announced' } } } },
  MockedResponses: { Announced: { 0: { Return: { MessageId: 'm-1' } } } },
};

const API_JS = `
const { LocalApp } = require('cdk-stepfunctions-redshift-local');
(async () => {
  const local = await LocalApp.start({ app: 'cdk.out', mocks: 'mocks.json' });
  try {
    const result = await local.run('Sell', { sku: 'api', qty: '2' }, { testCase: 'Ok' });
    const rows = await local.query("select sku, qty from sales where sku = 'api'");
    console.log(JSON.stringify({ status: result.status, published: result.output.published, rows, sql: result.statements.map((s) => s.sql) }));
  } finally {
    await local.stop();
  }
})().catch((error) => { console.error(error); process.exit(1); });
`;

function main(): void {
  const t0 = performance.now();
  const library = tarball('dist/js', 'cdk-stepfunctions-redshift@');
  const runner = tarball('dist/local', 'cdk-stepfunctions-redshift-local-');
  const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const dir = mkdtempSync(join(tmpdir(), 'local-package-app-'));
  const options: ExecFileSyncOptions = { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: 180_000 };
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({
      name: 'shop-app',
      private: true,
      dependencies: {
        'aws-cdk-lib': rootPackage.devDependencies['aws-cdk-lib'],
        'constructs': rootPackage.devDependencies.constructs,
        'cdk-stepfunctions-redshift': `file:${library}`,
      },
      devDependencies: { 'cdk-stepfunctions-redshift-local': `file:${runner}` },
    }, null, 2));
    writeFileSync(join(dir, 'app.js'), APP_JS);
    writeFileSync(join(dir, 'api.js'), API_JS);
    writeFileSync(join(dir, 'mocks.json'), JSON.stringify(MOCKS));
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ sku: 'cli', qty: '3' }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], options);
    const installed = performance.now();
    console.log(`Installed both tarballs and aws-cdk-lib into a fresh app in ${Math.round((installed - t0) / 1000)} s.`);
    execFileSync('node', ['app.js'], options);

    const run = execFileSync('npx', ['cdk-stepfunctions-redshift-local', 'run', '--app', 'cdk.out', '--state-machine', 'ShopStack/Sell',
      '--input', 'input.json', '--mocks', 'mocks.json', '--test-case', 'Ok', '--data-dir', '.local', '--quiet'], options) as string;
    console.log(run);
    if (!/^Sell\w+: SUCCEEDED/.test(run)) throw new Error('The CLI run did not succeed');
    const sql = execFileSync('npx', ['cdk-stepfunctions-redshift-local', 'sql', '--data-dir', '.local', 'select sku, qty from sales'], options) as string;
    console.log(sql);
    if (!/cli\s+\|\s+3/.test(sql)) throw new Error('The CLI sql command did not find the row the run inserted');

    const api = JSON.parse(execFileSync('node', ['api.js'], options) as string) as { status: string; published: unknown; rows: unknown };
    console.log(JSON.stringify(api));
    if (api.status !== 'SUCCEEDED' || JSON.stringify(api.rows) !== JSON.stringify([{ sku: 'api', qty: '2' }])) throw new Error('The API run did not succeed');
    console.log(`The local runner's package works from its tarball in a fresh app (${Math.round((performance.now() - t0) / 1000)} s in all).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
