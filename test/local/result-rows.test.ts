/**
 * Rows with the callback and results in S3, end to end on the local stand-ins through the bundled handler: a machine
 * that branches on the rows a `RedshiftSqlTask` returned (`Choice`), each statement's rows of a list by sub-statement
 * id, a result read over several Data API pages, a result over the budget caught as `ResultTooLarge`, a page of a
 * result as plain objects (`RedshiftStatementTask` FETCH_RESULT), and a result written to the S3 stand-in when the
 * statement finishes (JSON Lines, multipart) and on demand (`EXPORT_RESULT`, CSV).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ensureBundles } from '../../local/bundles';
import { LocalCloud } from '../../local/cloud';
import { assetDirectories, CfnTemplate, LocalTemplate } from '../../local/cloudformation/template';
import {
  ExportFormat, RedshiftSqlTask, RedshiftStatementTask, RowFormat, SfnRedshiftTasker, SfnRedshiftTaskerErrors, StatementAction,
} from '../../src';
import { aslErrors, definitionOf } from '../support/asl';
import { serverlessTarget } from '../support/serverless-target';
import { tempDir, testApp } from '../support/temp';

jest.setTimeout(5 * 60 * 1000);

const ENV = { account: '123456789012', region: 'eu-west-1' };
const MINUTE = sfn.Timeout.duration(Duration.minutes(1));
let stack: Stack;
const machines: Record<string, sfn.StateMachine> = {};
let cloud: LocalCloud;
let bucketName: string;

/** Every Redshift type the conversion documents, in one row. */
const TYPED_SQL = `select 1::int as id, 9007199254740993::bigint as big, 12345678901234567890.125::numeric(38,3) as amount,
  true as ok, null::varchar as missing, 'x'::varchar as name, 2.5::float8 as ratio, '2024-05-01'::date as day,
  '2024-05-01 12:30:00.5'::timestamp as at, '2024-05-01 12:30:00+00'::timestamptz as at_utc`;

function machine(id: string, definition: sfn.IChainable): sfn.StateMachine {
  machines[id] = new sfn.StateMachine(stack, id, { definitionBody: sfn.DefinitionBody.fromChainable(definition), timeout: Duration.minutes(5) });
  return machines[id];
}

beforeAll(async () => {
  ensureBundles();
  const outdir = tempDir('local-result-rows-');
  const app = testApp({ outdir });
  stack = new Stack(app, 'ResultRows', { env: ENV });
  const target = serverlessTarget(stack, 'result-rows');
  const tasker = new SfnRedshiftTasker(stack, 'Tasker', { redshiftTargetProps: { workgroupName: target.workgroupName, dbName: target.dbName } });
  tasker.node.addDependency(target.workgroup);

  // Branch on the rows: the task returns them, a Choice reads them.
  const read = RedshiftSqlTask.jsonPath(stack, 'ReadTyped', { tasker, sql: TYPED_SQL, resultRows: RowFormat.OBJECTS, taskTimeout: MINUTE, resultPath: '$.read' });
  machine('Branch', read.next(new sfn.Choice(stack, 'Ok?')
    .when(sfn.Condition.booleanEquals('$.read.result.rows[0].ok', true), new sfn.Pass(stack, 'Rows', { outputPath: '$.read.result' }))
    .otherwise(new sfn.Fail(stack, 'NotOk', { error: 'NotOk' }))));

  // A list: each statement's rows or row count.
  machine('Batch', RedshiftSqlTask.jsonata(stack, 'RunList', {
    tasker,
    sqlStatements: ['create temp table t (n int)', 'insert into t select generate_series(1, 3)', 'select n from t order by n'],
    resultRows: RowFormat.OBJECTS,
    taskTimeout: MINUTE,
    outputs: '{% $states.result.result %}',
  }));

  // More rows than one Data API page (the stand-in serves 1,000 rows a page).
  machine('Pages', RedshiftSqlTask.jsonata(stack, 'ReadPages', {
    tasker,
    sql: 'select n from generate_series(1, 2500) n',
    resultRows: RowFormat.OBJECTS,
    taskTimeout: MINUTE,
    outputs: { count: '{% $count($states.result.result.rows) %}', last: '{% $states.result.result.rows[-1].n %}' },
  }));

  // Over the budget: caught by its typed error.
  const tooLarge = RedshiftSqlTask.jsonPath(stack, 'ReadTooMuch', {
    tasker, sql: 'select repeat(\'x\', 1000) as filler from generate_series(1, 300)', resultRows: RowFormat.OBJECTS, taskTimeout: MINUTE,
  });
  tooLarge.addCatch(new sfn.Pass(stack, 'Caught'), { errors: [SfnRedshiftTaskerErrors.RESULT_TOO_LARGE], resultPath: '$.error' });
  machine('TooLarge', tooLarge);

  // A page as plain objects.
  machine('Fetch', RedshiftSqlTask.jsonPath(stack, 'RunForFetch', { tasker, sql: 'select 7 as seven', taskTimeout: MINUTE, resultPath: sfn.JsonPath.DISCARD })
    .next(RedshiftStatementTask.jsonPath(stack, 'FetchObjects', { tasker, action: StatementAction.FETCH_RESULT, rowFormat: RowFormat.OBJECTS })));

  // The whole result in S3: when the statement finishes (JSON Lines, several parts), and on demand (CSV).
  const bucket = new s3.Bucket(stack, 'Results');
  const exportRows = RedshiftSqlTask.jsonata(stack, 'ExportRows', {
    tasker,
    sql: 'select n, repeat(\'r\', 100) as filler, n % 2 = 0 as even from generate_series(1, 120000) n',
    resultExport: { bucket, keyPrefix: 'exports/' },
    taskTimeout: MINUTE,
    outputs: '{% $states.result.export %}',
  });
  const exportCsv = RedshiftStatementTask.jsonata(stack, 'ExportCsv', {
    tasker,
    action: StatementAction.EXPORT_RESULT,
    resultExport: { bucket, keyPrefix: 'csv/', format: ExportFormat.CSV },
    outputs: { jsonl: '{% $states.input %}', csv: '{% $states.result %}' },
  });
  machine('Export', exportRows.next(exportCsv));

  const artifact = app.synth().getStackArtifact(stack.artifactId);
  const manifest = artifact.dependencies.find((d) => d.id.endsWith('.assets'))!;
  const template = new LocalTemplate(artifact.template as CfnTemplate, { region: ENV.region, accountId: ENV.account, stackName: artifact.stackName });
  bucketName = template.ref(stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket));
  cloud = await LocalCloud.start({ template, assets: assetDirectories(outdir, `${manifest.id}.json`) });
});

afterAll(async () => { await cloud?.close(); });

async function run(id: string) {
  const arn = cloud.stateMachineArn(stack.getLogicalId(machines[id].node.defaultChild as sfn.CfnStateMachine));
  return cloud.stepFunctions.startExecution(arn, {}).result;
}

test('the definitions are valid ASL', () => {
  for (const m of Object.values(machines)) expect(aslErrors(definitionOf(stack, m))).toBe('');
});

test('a Choice branches on the returned rows; every type converted as documented', async () => {
  const outcome = await run('Branch');
  expect(outcome.status).toBe('SUCCEEDED');
  const result = outcome.output as any;
  expect(result.rowCount).toBe(1);
  expect(result.columns.map((c: any) => [c.name, c.type])).toEqual([
    ['id', 'int4'], ['big', 'int8'], ['amount', 'numeric'], ['ok', 'bool'], ['missing', 'varchar'], ['name', 'varchar'],
    ['ratio', 'float8'], ['day', 'date'], ['at', 'timestamp'], ['at_utc', 'timestamptz'],
  ]);
  // The stand-in sends an int8 beyond 2^53 as a string (as JSON text it would be rounded); see the README's conversions.
  expect(result.rows).toEqual([{
    id: 1,
    big: '9007199254740993',
    amount: '12345678901234567890.125',
    ok: true,
    missing: null,
    name: 'x',
    ratio: 2.5,
    day: '2024-05-01',
    at: '2024-05-01T12:30:00.5',
    at_utc: expect.stringMatching(/^2024-05-01T12:30:00\+00:00$/),
  }]);
});

test('a list: each statement by its sub-statement id, rows where it has some, else the rows it changed', async () => {
  const outcome = await run('Batch');
  expect(outcome.status).toBe('SUCCEEDED');
  const { statements } = outcome.output as any;
  expect(statements.map((s: any) => s.statementId.replace(/^.*:/, ':'))).toEqual([':1', ':2', ':3']);
  expect(statements[0]).toMatchObject({ hasResultSet: false });
  expect(statements[1]).toMatchObject({ hasResultSet: false, rowCount: 3 });
  expect(statements[2]).toMatchObject({ hasResultSet: true, rowCount: 3, rows: [{ n: 1 }, { n: 2 }, { n: 3 }] });
});

test('every page of the result is read', async () => {
  const outcome = await run('Pages');
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { count: 2500, last: 2500 } });
});

test('a result over the budget fails the task with ResultTooLarge, caught; the cause gives the rows and the alternatives', async () => {
  const outcome = await run('TooLarge');
  expect(outcome.status).toBe('SUCCEEDED');
  const { error } = outcome.output as any;
  expect(error.Error).toBe('ResultTooLarge');
  const cause = JSON.parse(error.Cause);
  expect(cause.detail.state).toBe('FINISHED');
  expect(cause.detail.error).toMatch(/with 300 rows.*204800 bytes.*FETCH_RESULT.*UNLOAD/s);
});

test('FETCH_RESULT with RowFormat.OBJECTS: the page as plain objects', async () => {
  const outcome = await run('Fetch');
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { columns: [{ name: 'seven', type: 'int4' }], rows: [{ seven: 7 }], rowCount: 1 } });
});

test('the whole result in S3: written when the statement finishes (multipart, JSON Lines), and on demand as CSV', async () => {
  const outcome = await run('Export');
  expect(outcome.status).toBe('SUCCEEDED');
  const { jsonl, csv } = outcome.output as any;
  expect(jsonl).toMatchObject({ hasResultSet: true, bucket: bucketName, rows: 120000, format: 'JSON_LINES', key: `exports/${jsonl.statementId}.jsonl` });
  expect(csv).toMatchObject({ rows: 120000, format: 'CSV', key: `csv/${jsonl.statementId}.csv` });
  expect(cloud.s3.calls.get('UploadPart')).toBeGreaterThanOrEqual(2);
  const lines = cloud.s3.text(bucketName, jsonl.key)!.trimEnd().split('\n');
  expect(lines).toHaveLength(120000);
  expect(JSON.parse(lines[119999])).toEqual({ n: 120000, filler: 'r'.repeat(100), even: true });
  expect(Buffer.byteLength(cloud.s3.text(bucketName, jsonl.key)!)).toBe(jsonl.bytes);
  const rows = cloud.s3.text(bucketName, csv.key)!.split('\r\n');
  expect(rows.slice(0, 2)).toEqual(['n,filler,even', `1,${'r'.repeat(100)},false`]);
  expect(cloud.s3.uploads.size).toBe(0);
});
