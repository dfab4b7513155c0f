/**
 * The export example machine (`ExportResultRsTask`), read from the synthesized template: its Distributed Map reads the
 * exported object (`S3JsonLItemReader` on the task's `export.key`) in batches; then run by the local runner against
 * the S3 stand-in, the export task answered with an object written there, to show every row is counted.
 */
import { definitionOf, logicalId, synthesizeExample } from './support';
import { EXPORTED_ROWS, ExportResultMachine, ROWS_PER_BATCH } from '../../example/machines';
import { LocalLambdaRuntime } from '../../local/lambda/runtime';
import { S3Server, startS3Server } from '../../local/servers/s3';
import { SfnCallbackServer, startSfnCallbackServer } from '../../local/servers/sfn-callbacks';
import { LocalStepFunctions } from '../../local/stepfunctions/runner';

const { integ, resources } = synthesizeExample();
const asl = definitionOf(resources, logicalId(integ.stack, integ.stateMachines[ExportResultMachine.ID]));
const BUCKET = 'results';

let s3: S3Server;
let callbacks: SfnCallbackServer;
let lambda: LocalLambdaRuntime;
let sfn: LocalStepFunctions;

beforeAll(async () => {
  [s3, callbacks] = await Promise.all([startS3Server({ buckets: [BUCKET] }), startSfnCallbackServer()]);
  lambda = new LocalLambdaRuntime();
  sfn = new LocalStepFunctions({
    lambda,
    callbacks,
    s3Endpoint: s3.endpoint,
    // The export task: its statement's rows are already in the bucket, under the key the input names.
    answerTask: (task) => (task.stateName === 'ExportTheResult' ? { detail: {}, export: { bucket: BUCKET, key: 'rows.jsonl', rows: EXPORTED_ROWS } } : undefined),
  });
  const deployed = JSON.stringify(asl).replace(/\$\{AWS::Partition\}/g, 'aws').replace(/\$\{resultsBucket[A-Za-z0-9]+\}/g, BUCKET)
    .replace(/\$\{([A-Za-z0-9]+)\.Arn\}/g, 'arn:aws:lambda:eu-west-1:123456789012:function:$1');
  sfn.register(ExportResultMachine.ID, deployed);
});

afterAll(async () => {
  await lambda.close();
  await Promise.all([s3.close(), callbacks.close()]);
});

function writeRows(count: number): void {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ id: i + 1, name: `customer-${i + 1}`, vip: (i + 1) % 3 === 0 }));
  s3.buckets.get(BUCKET)!.set('rows.jsonl', { body: Buffer.from(lines.join('\n') + '\n'), etag: '"e"', lastModified: new Date() });
}

test('states: after the export, a Distributed Map reads the object in batches, counts the rows, and a Choice checks them', () => {
  expect(asl.States.AllRowsExported.Choices[0].Next).toBe(ExportResultMachine.MAP_STATE);
  expect(asl.States[ExportResultMachine.MAP_STATE]).toEqual(expect.objectContaining({
    Type: 'Map',
    ItemReader: {
      Resource: 'arn:${AWS::Partition}:states:::s3:getObject',
      ReaderConfig: { InputType: 'JSONL' },
      Parameters: { 'Bucket': `\${${logicalId(integ.stack, integ.resultsBucket)}}`, 'Key.$': '$.exported.export.key' },
    },
    ItemBatcher: { MaxItemsPerBatch: ROWS_PER_BATCH },
    ItemProcessor: expect.objectContaining({ ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'SelectBatchRows' }),
    ResultPath: '$.processed',
    Next: 'CountProcessedRows',
  }));
  expect(asl.States.AllRowsProcessed.Choices[0]).toEqual({ Variable: '$.processed.rows', NumericEquals: EXPORTED_ROWS, Next: 'ExportReady' });
});

test('runs: every exported row is read from S3 and counted, in batches of ROWS_PER_BATCH, one child execution each', async () => {
  writeRows(EXPORTED_ROWS);
  const outcome = await sfn.startExecution(ExportResultMachine.ID, {}).result;
  expect(outcome.status).toBe('SUCCEEDED');
  const processed = (outcome.output as { processed: { rows: number; batches: number; vipsPerBatch: number[] } }).processed;
  expect(processed.rows).toBe(EXPORTED_ROWS);
  expect(processed.batches).toBe(EXPORTED_ROWS / ROWS_PER_BATCH);
  expect(processed.vipsPerBatch.reduce((a, b) => a + b, 0)).toBe(Math.floor(EXPORTED_ROWS / 3));
  const children = [...sfn.executions.values()].filter((e) => e.parentExecutionArn === outcome.executionArn);
  expect(children).toHaveLength(EXPORTED_ROWS / ROWS_PER_BATCH);
});

test('runs: an object with fewer rows than the export reported ends in RowsNotProcessed', async () => {
  writeRows(EXPORTED_ROWS - 1);
  const outcome = await sfn.startExecution(ExportResultMachine.ID, {}).result;
  expect(outcome).toMatchObject({ status: 'FAILED', error: 'UnexpectedRows', cause: 'The Distributed Map did not process every row.' });
});
