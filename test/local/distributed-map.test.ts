/**
 * Distributed Map states in the local runner, against the real S3 stand-in (through `@aws-sdk/client-s3`) and real
 * child executions: the readers, MaxItems, ItemSelector, ItemBatcher, tolerated failures, Catch, ResultWriter, a Map
 * in a Parallel, a child invoking a function, JSONata, and the definition validated as written.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalLambdaRuntime } from '../../local/lambda/runtime';
import { S3Server, startS3Server } from '../../local/servers/s3';
import { SfnCallbackServer, startSfnCallbackServer } from '../../local/servers/sfn-callbacks';
import { batchItems } from '../../local/stepfunctions/distributed-map';
import { parseCsv } from '../../local/stepfunctions/map-s3';
import { ExecutionOutcome, LocalStepFunctions, TraceEvent } from '../../local/stepfunctions/runner';

const BUCKET = 'data';
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:Doubler';
const S3_GET = 'arn:aws:states:::s3:getObject';

let codeDir: string;
let lambda: LocalLambdaRuntime;
let callbacks: SfnCallbackServer;
let s3Server: S3Server;
let s3: S3Client;
let sfn: LocalStepFunctions;
const trace: TraceEvent[] = [];

beforeAll(async () => {
  codeDir = mkdtempSync(join(tmpdir(), 'local-dmap-test-'));
  writeFileSync(join(codeDir, 'index.js'), 'exports.handler = async (event) => ({ doubled: Number(event.n) * 2 });\n');
  // Calls its task back (SendTaskSuccess, over the awsJson1_0 protocol) a little after it returns.
  writeFileSync(join(codeDir, 'waiter.js'), `exports.handler = async (event) => {
    setTimeout(() => fetch(process.env.AWS_ENDPOINT_URL_SFN, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.SendTaskSuccess' },
      body: JSON.stringify({ taskToken: event.token, output: JSON.stringify({ called: event.id }) }),
    }), 10);
    return {};
  };\n`);
  [callbacks, s3Server] = await Promise.all([startSfnCallbackServer(), startS3Server({ buckets: [BUCKET] })]);
  s3 = new S3Client({ endpoint: s3Server.endpoint, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  lambda = new LocalLambdaRuntime();
  lambda.add({ name: 'Doubler', codeDir, environment: {}, maxEnvironments: 1 });
  lambda.add({ name: 'Waiter', codeDir, handler: 'waiter.handler', environment: { AWS_ENDPOINT_URL_SFN: callbacks.endpoint }, maxEnvironments: 1 });
  sfn = new LocalStepFunctions({ lambda, callbacks, s3Endpoint: s3Server.endpoint, onTrace: (e) => trace.push(e) });
  await put('rows.jsonl', [1, 2, 3, 4, 5].map((n) => JSON.stringify({ id: n, vip: n % 2 === 0 })).join('\n') + '\n');
  await put('rows.json', JSON.stringify([{ id: 'a' }, { id: 'b' }, { id: 'c' }]));
  await put('rows.csv', 'id,name,note\r\n1,"Smith, Jo","said ""hi"""\r\n2,Lee,\r\n');
  await put('listing/one.txt', 'x');
  await put('listing/two.txt', 'yy');
});

afterAll(async () => {
  s3.destroy();
  await lambda.close();
  await Promise.all([callbacks.close(), s3Server.close()]);
  rmSync(codeDir, { recursive: true, force: true });
});

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

/** A Distributed Map whose children pass their input through (or fail on `"fail": true`). */
function distributedMap(fields: Record<string, unknown>, processor?: Record<string, unknown>) {
  return {
    Type: 'Map',
    ItemProcessor: processor ?? {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'Check',
      States: {
        Check: { Type: 'Choice', Choices: [{ Variable: '$.fail', IsPresent: true, Next: 'Bad' }], Default: 'Done' },
        Bad: { Type: 'Fail', Error: 'BadItem', Cause: 'the item is bad' },
        Done: { Type: 'Pass', End: true },
      },
    },
    End: true,
    ...fields,
  };
}

let machines = 0;
async function run(states: Record<string, unknown>, input: unknown = {}, startAt = 'Map'): Promise<ExecutionOutcome> {
  const name = `DistributedMap${++machines}`;
  sfn.register(name, { StartAt: startAt, States: states } as never);
  return sfn.startExecution(name, input as never).result;
}

test('JSONL: the key from the input (Key.$), ItemSelector with $$.Map.Item.Index and .Value, outputs in item order', async () => {
  const outcome = await run({
    Map: distributedMap({
      ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'JSONL' }, Parameters: { 'Bucket': BUCKET, 'Key.$': '$.key' } },
      ItemSelector: { 'index.$': '$$.Map.Item.Index', 'id.$': '$$.Map.Item.Value.id', 'batch.$': '$.batch' },
      ResultPath: '$.processed',
    }),
  }, { key: 'rows.jsonl', batch: 'b1' });
  expect(outcome.status).toBe('SUCCEEDED');
  expect(outcome.output).toEqual({
    key: 'rows.jsonl',
    batch: 'b1',
    processed: [1, 2, 3, 4, 5].map((id, index) => ({ index, id, batch: 'b1' })),
  });
  const mapRun = trace.filter((e) => e.executionArn === outcome.executionArn && e.kind.startsWith('MapRun'));
  expect(mapRun.map((e) => [e.kind, e.state, e.detail])).toEqual([
    ['MapRunStarted', 'Map', '5 items in 5 child executions, up to 40 at a time'],
    ['MapRunSucceeded', 'Map', '5 child executions succeeded, 0 failed (0 of 5 items failed)'],
  ]);
  // The children are executions of the runner, named after the machine and the state, with the Map's as parent.
  const children = [...sfn.executions.values()].filter((e) => e.parentExecutionArn === outcome.executionArn);
  expect(children).toHaveLength(5);
  expect(children[0].executionArn).toMatch(new RegExp(`:execution:DistributedMap${machines}/Map:`));
});

test('JSON (an array) with MaxItems; CSV with the first row as header (values stay strings, quotes unescaped)', async () => {
  const json = await run({
    Map: distributedMap({ ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'JSON', MaxItems: 2 }, Parameters: { Bucket: BUCKET, Key: 'rows.json' } } }),
  });
  expect(json.output).toEqual([{ id: 'a' }, { id: 'b' }]);
  const csv = await run({
    Map: distributedMap({
      ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' }, Parameters: { Bucket: BUCKET, Key: 'rows.csv' } },
    }),
  });
  expect(csv.output).toEqual([{ id: '1', name: 'Smith, Jo', note: 'said "hi"' }, { id: '2', name: 'Lee', note: '' }]);
});

test('CSV with given headers and another delimiter; parseCsv handles line breaks in quotes', async () => {
  await put('given.csv', '7|x\n8|y\n');
  const outcome = await run({
    Map: distributedMap({
      ItemReader: {
        Resource: S3_GET,
        ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'GIVEN', CSVHeaders: ['n', 'letter'], CSVDelimiter: 'PIPE' },
        Parameters: { Bucket: BUCKET, Key: 'given.csv' },
      },
    }),
  });
  expect(outcome.output).toEqual([{ n: '7', letter: 'x' }, { n: '8', letter: 'y' }]);
  expect(parseCsv('a,"b\nc"\n\nd,e', ',')).toEqual([['a', 'b\nc'], ['d', 'e']]);
});

test('listObjectsV2: one item per object under the prefix, as Step Functions gives them', async () => {
  const outcome = await run({
    Map: distributedMap({ ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: BUCKET, Prefix: 'listing/' } } }),
  });
  const items = outcome.output as Array<Record<string, unknown>>;
  expect(items.map((i) => [i.Key, i.Size, i.StorageClass])).toEqual([['listing/one.txt', 1, 'STANDARD'], ['listing/two.txt', 2, 'STANDARD']]);
  expect(items[0].Etag).toMatch(/^"[0-9a-f]{32}"$/);
  expect(Math.abs(Number(items[0].LastModified) - Date.now() / 1000)).toBeLessThan(120);
});

test('ItemBatcher: { Items, BatchInput } per child, within MaxItemsPerBatch and MaxInputBytesPerBatch', async () => {
  const outcome = await run({
    Map: distributedMap({
      ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'JSONL' }, Parameters: { Bucket: BUCKET, Key: 'rows.jsonl' } },
      ItemSelector: { 'id.$': '$$.Map.Item.Value.id' },
      ItemBatcher: { MaxItemsPerBatch: 2, BatchInput: { 'run.$': '$.run' } },
    }),
  }, { run: 'r1' });
  expect(outcome.output).toEqual([
    { Items: [{ id: 1 }, { id: 2 }], BatchInput: { run: 'r1' } },
    { Items: [{ id: 3 }, { id: 4 }], BatchInput: { run: 'r1' } },
    { Items: [{ id: 5 }], BatchInput: { run: 'r1' } },
  ]);
  // {"Items":[]} is 12 bytes; each item 8 (+1 for the comma): two fit in 30 bytes, not three.
  expect(batchItems([{ id: 1 }, { id: 2 }, { id: 3 }], undefined, 30, undefined)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
});

test('a failing item fails the Map with States.ExceedToleratedFailureThreshold, which a Catch on the Map takes', async () => {
  const outcome = await run({
    Map: distributedMap({
      ItemsPath: '$.items',
      Catch: [{ ErrorEquals: ['States.ExceedToleratedFailureThreshold'], ResultPath: '$.error', Next: 'Caught' }],
      End: undefined,
      Next: 'Finished',
    }),
    Finished: { Type: 'Succeed' },
    Caught: { Type: 'Pass', End: true },
  }, { items: [{ id: 1 }, { id: 2, fail: true }, { id: 3 }] });
  expect(outcome.status).toBe('SUCCEEDED');
  const error = (outcome.output as { error: { Error: string; Cause: string } }).error;
  expect(error.Error).toBe('States.ExceedToleratedFailureThreshold');
  expect(error.Cause).toMatch(/BadItem: the item is bad/);
  expect(trace.some((e) => e.executionArn === outcome.executionArn && e.kind === 'MapRunFailed')).toBe(true);
});

test('within ToleratedFailureCount the Map succeeds, the failed item\'s output is its error; ResultWriter writes the manifest and files', async () => {
  const items = [{ id: 1 }, { id: 2, fail: true }, { id: 3 }];
  const tolerated = await run({ Map: distributedMap({ ToleratedFailureCount: 1 }) }, items);
  expect(tolerated.status).toBe('SUCCEEDED');
  expect(tolerated.output).toEqual([{ id: 1 }, { Error: 'BadItem', Cause: 'the item is bad' }, { id: 3 }]);
  const percentage = await run({ Map: distributedMap({ ToleratedFailurePercentage: 30 }) }, items);
  expect(percentage.error).toBe('States.ExceedToleratedFailureThreshold');

  const written = await run({
    Map: distributedMap({
      ToleratedFailurePercentage: 50,
      ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { 'Bucket': BUCKET, 'Prefix.$': '$.prefix' } },
      ItemsPath: '$.items',
    }),
  }, { items, prefix: 'results' });
  expect(written.status).toBe('SUCCEEDED');
  const { MapRunArn, ResultWriterDetails } = written.output as { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
  expect(MapRunArn).toMatch(/^arn:aws:states:eu-west-1:123456789012:mapRun:DistributedMap\d+\/Map:[0-9a-f-]{36}$/);
  const runId = MapRunArn.split(':').pop();
  expect(ResultWriterDetails).toEqual({ Bucket: BUCKET, Key: `results/${runId}/manifest.json` });
  const manifest = JSON.parse(s3Server.text(BUCKET, ResultWriterDetails.Key)!);
  expect(manifest).toEqual({
    DestinationBucket: BUCKET,
    MapRunArn,
    ResultFiles: {
      FAILED: [{ Key: `results/${runId}/FAILED_0.json`, Size: expect.any(Number) }],
      PENDING: [],
      SUCCEEDED: [{ Key: `results/${runId}/SUCCEEDED_0.json`, Size: expect.any(Number) }],
    },
  });
  const succeeded = JSON.parse(s3Server.text(BUCKET, `results/${runId}/SUCCEEDED_0.json`)!);
  expect(succeeded.map((r: { Output: string; Status: string }) => [r.Status, JSON.parse(r.Output)])).toEqual([['SUCCEEDED', { id: 1 }], ['SUCCEEDED', { id: 3 }]]);
  const failed = JSON.parse(s3Server.text(BUCKET, `results/${runId}/FAILED_0.json`)!);
  expect(failed).toEqual([expect.objectContaining({ Status: 'FAILED', Error: 'BadItem', Cause: 'the item is bad', Input: JSON.stringify(items[1]) })]);
});

test('ResultWriter with WriterConfig.Transformation FLATTEN: the result file holds the children\'s outputs, flattened', async () => {
  const outcome = await run({
    Map: distributedMap({
      ResultWriter: {
        Resource: 'arn:aws:states:::s3:putObject',
        Parameters: { Bucket: BUCKET, Prefix: 'flat' },
        WriterConfig: { Transformation: 'FLATTEN', OutputType: 'JSON' },
      },
    }, {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'Pair',
      States: { Pair: { Type: 'Pass', Parameters: { 'pair.$': 'States.Array($, $)' }, OutputPath: '$.pair', End: true } },
    }),
  }, [1, 2]);
  const key = (outcome.output as { ResultWriterDetails: { Key: string } }).ResultWriterDetails.Key;
  expect(JSON.parse(s3Server.text(BUCKET, key.replace(/manifest\.json$/, 'SUCCEEDED_0.json'))!)).toEqual([1, 1, 2, 2]);
});

test('a missing object fails the Map with States.ItemReaderFailed (Catch takes it); PARQUET is refused by name', async () => {
  const outcome = await run({
    Map: distributedMap({
      ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'JSONL' }, Parameters: { Bucket: BUCKET, Key: 'no-such.jsonl' } },
      Catch: [{ ErrorEquals: ['States.ItemReaderFailed'], Next: 'Caught' }],
      End: undefined,
      Next: 'Caught',
    }),
    Caught: { Type: 'Pass', End: true },
  });
  expect(outcome.status).toBe('SUCCEEDED');
  expect(outcome.output).toMatchObject({ Error: 'States.ItemReaderFailed', Cause: expect.stringMatching(/NoSuchKey/) });
  const parquet = await run({
    Map: distributedMap({ ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'PARQUET' }, Parameters: { Bucket: BUCKET, Key: 'rows.json' } } }),
  });
  expect(parquet).toMatchObject({ status: 'FAILED', error: 'States.Runtime', cause: expect.stringMatching(/does not support the ItemReader InputType PARQUET/) });
});

test('in a Parallel branch; a child invokes a function (lambda:invoke); MaxConcurrency 1 runs the children one by one', async () => {
  const outcome = await run({
    Both: {
      Type: 'Parallel',
      End: true,
      Branches: [{
        StartAt: 'Map',
        States: {
          Map: distributedMap({ ItemsPath: '$.numbers', MaxConcurrency: 1, ItemSelector: { 'n.$': '$$.Map.Item.Value' } }, {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Double',
            States: {
              Double: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { 'FunctionName': FN, 'Payload.$': '$' },
                OutputPath: '$.Payload',
                End: true,
              },
            },
          }),
        },
      }, { StartAt: 'Other', States: { Other: { Type: 'Pass', Result: 'other', End: true } } }],
    },
  }, { numbers: [1, 2, 3] }, 'Both');
  expect(outcome.status).toBe('SUCCEEDED');
  expect(outcome.output).toEqual([[{ doubled: 2 }, { doubled: 4 }, { doubled: 6 }], 'other']);
  const children = [...sfn.executions.values()].filter((e) => e.parentExecutionArn === outcome.executionArn)
    .sort((a, b) => a.startDate.getTime() - b.startDate.getTime());
  expect(children).toHaveLength(3);
  for (let i = 1; i < children.length; i++) expect(children[i].startDate.getTime()).toBeGreaterThanOrEqual(children[i - 1].stopDate.getTime());
});

test('a child waits for its task token (lambda:invoke.waitForTaskToken) and resumes with the callback', async () => {
  const outcome = await run({
    Map: distributedMap({ ItemsPath: '$.ids' }, {
      ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          TimeoutSeconds: 30,
          End: true,
          Parameters: { FunctionName: 'Waiter', Payload: { 'token.$': '$$.Task.Token', 'id.$': '$' } },
        },
      },
    }),
  }, { ids: ['a', 'b'] });
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: [{ called: 'a' }, { called: 'b' }] });
  const children = new Set([...sfn.executions.values()].filter((e) => e.parentExecutionArn === outcome.executionArn).map((e) => e.executionArn));
  expect(trace.filter((e) => children.has(e.executionArn) && e.kind === 'TaskCallback').map((e) => e.detail)).toEqual(['SendTaskSuccess', 'SendTaskSuccess']);
});

test('JSONata: ItemReader Arguments, ItemSelector and Output are evaluated', async () => {
  const name = `DistributedMap${++machines}`;
  sfn.register(name, {
    QueryLanguage: 'JSONata',
    StartAt: 'Map',
    States: {
      Map: {
        Type: 'Map',
        ItemReader: { Resource: S3_GET, ReaderConfig: { InputType: 'JSONL', MaxItems: 3 }, Arguments: { Bucket: BUCKET, Key: '{% $states.input.key %}' } },
        ItemSelector: { position: '{% $states.context.Map.Item.Index %}', vip: '{% $states.context.Map.Item.Value.vip %}' },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'Keep', States: { Keep: { Type: 'Pass', End: true } } },
        Output: '{% { "vips": $count($states.result[vip = true]), "rows": $count($states.result) } %}',
        End: true,
      },
    },
  } as never);
  const outcome = await sfn.startExecution(name, { key: 'rows.jsonl' }).result;
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { vips: 1, rows: 3 } });
});

test('the definition is validated as written, not as the runner rewrites it', () => {
  sfn.register('InvalidDistributedMap', {
    StartAt: 'Map',
    States: { Map: distributedMap({ ItemReader: { Resource: S3_GET, ReaderConfig: { MaxItems: 'many' }, Parameters: { Bucket: BUCKET, Key: 'rows.json' } } }) },
  } as never);
  // The rewritten definition has no ItemReader left (its Map is a Task state): the error is found in the one written.
  expect(() => sfn.startExecution('InvalidDistributedMap', {})).toThrow(/ItemReader\/ReaderConfig\/MaxItems/);
});
