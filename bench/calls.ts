/**
 * Benchmark 1: AWS API calls per statement lifecycle, counted at the local endpoints (every call the bundled handler
 * makes to DynamoDB, the Data API and Step Functions passes a counting proxy), next to the original design's calls.
 *
 * Each lifecycle is real end to end: the handler (in its own process) registers and starts the SQL on the local
 * Data API, the statement runs on embedded PostgreSQL, its status-change event goes through a local SQS queue to
 * the handler again, which calls the local Step Functions endpoint back.
 */
import { randomBytes } from 'node:crypto';
import { LOCAL_BUCKET, LocalAws, startLocalAws } from '../local/aws';
import { customResourceRequest } from '../local/cloudformation/driver';
import { startHandlerFunction } from '../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../local/lambda/runtime';
import { LocalQueue, until } from '../local/servers/sqs-queue';

export interface LifecycleCalls {
  readonly lifecycle: string;
  /** Calls made while starting the statement, by `service:Operation`. */
  readonly start: Record<string, number>;
  /** Calls made while processing its completion event. */
  readonly completion: Record<string, number>;
  /** DynamoDB item size of the statement after its start and after its completion, bytes (DynamoDB's rules). */
  readonly itemBytes?: { readonly registered: number; readonly completed: number };
  readonly startTotal: number;
  readonly completionTotal: number;
  readonly total: number;
  /** The original design's calls for the same lifecycle (from its source, not measured). */
  readonly original: { readonly start: string[]; readonly completion: string[]; readonly total: number };
}

const ORIGINAL = {
  plain: { start: ['dynamodb:PutItem', 'redshiftData:ExecuteStatement'], completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess', 'dynamodb:UpdateItem'] },
  singleton: {
    start: ['redshiftData:ListStatements (SUBMITTED)', 'redshiftData:ListStatements (PICKED)', 'redshiftData:ListStatements (STARTED)', 'dynamodb:PutItem', 'redshiftData:ExecuteStatement'],
    completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess', 'dynamodb:UpdateItem'],
  },
  failed: {
    start: ['dynamodb:PutItem', 'redshiftData:ExecuteStatement'],
    completion: ['dynamodb:GetItem', 'redshiftData:DescribeStatement', 'sfn:SendTaskFailure', 'dynamodb:UpdateItem'],
  },
  cloudFormation: {
    start: ['dynamodb:PutItem', 'redshiftData:ExecuteStatement'],
    completion: ['dynamodb:GetItem', 'cloudFormation:PUT ResponseURL', 'dynamodb:UpdateItem'],
  },
  // The original returns no rows: a second state invokes the function for one page of typed cells.
  rows: {
    start: ['dynamodb:PutItem', 'redshiftData:ExecuteStatement'],
    completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess', 'dynamodb:UpdateItem', 'lambda:Invoke (a second state)', 'redshiftData:GetStatementResult'],
  },
  // The original cannot export: UNLOAD as the SQL, then a state that lists the files.
  exported: {
    start: ['dynamodb:PutItem', 'redshiftData:ExecuteStatement (UNLOAD)'],
    completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess', 'dynamodb:UpdateItem'],
  },
  duplicate: { start: [], completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess (TaskTimedOut)', 'dynamodb:UpdateItem'] },
  // The original matches on the name alone: it calls the waiting task back with the forged event.
  forged: { start: [], completion: ['dynamodb:GetItem', 'sfn:SendTaskSuccess (the forged outcome)', 'dynamodb:UpdateItem'] },
} as const;

function flatten(counts: ReturnType<LocalAws['counts']>): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [service, operations] of Object.entries(counts)) {
    for (const [operation, count] of Object.entries(operations)) result[`${service}:${operation}`] = count;
  }
  return result;
}

const countAll = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** An item's size as DynamoDB counts it for capacity units (attribute names + values, UTF-8). */
export function dynamoItemBytes(item: Record<string, unknown>): number {
  const valueBytes = (value: unknown): number => {
    if (value === null || value === undefined || typeof value === 'boolean') return 1;
    if (typeof value === 'string') return Buffer.byteLength(value);
    if (typeof value === 'number') return Math.ceil(String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').length / 2) + 1;
    if (Array.isArray(value)) return 3 + value.reduce((total: number, entry) => total + valueBytes(entry) + 1, 0);
    if (typeof value === 'object') {
      return 3 + Object.entries(value as Record<string, unknown>)
        .reduce((total, [name, entry]) => total + Buffer.byteLength(name) + valueBytes(entry) + 1, 0);
    }
    return Buffer.byteLength(String(value));
  };
  return Object.entries(item).reduce((total, [name, value]) => total + Buffer.byteLength(name) + valueBytes(value), 0);
}

function describe(
  lifecycle: string, original: { start: readonly string[]; completion: readonly string[] }, start: Record<string, number>,
  completion: Record<string, number>, itemBytes?: { registered: number; completed: number },
): LifecycleCalls {
  return {
    lifecycle,
    start,
    completion,
    ...itemBytes ? { itemBytes } : {},
    startTotal: countAll(start),
    completionTotal: countAll(completion),
    total: countAll(start) + countAll(completion),
    original: { start: [...original.start], completion: [...original.completion], total: original.start.length + original.completion.length },
  };
}

export async function measureCalls(): Promise<LifecycleCalls[]> {
  const aws = await startLocalAws();
  let instance: LocalFunction | undefined;
  let fastInstance: LocalFunction | undefined;
  const queue = new LocalQueue({ batchingWindowMs: 0, visibilityTimeoutMs: 60_000, maxConcurrency: 1 });
  try {
    // The event path (the lifecycles the original had); the fast path's lifecycle uses a second instance below.
    instance = await startHandlerFunction(aws.env({ FAST_PATH_WAIT_SECONDS: '0' }));
    fastInstance = await startHandlerFunction(aws.env(), { name: 'local-tasker-fast-path' });
    const fn = instance;
    const fastFn = fastInstance;
    const fastLambda = { invoke: async (event: unknown) => outcomeOf(await fastFn.invoke(event)) };
    const lambda = { invoke: async (event: unknown) => outcomeOf(await fn.invoke(event)) };
    queue.setConsumer(async (event) => {
      const answer = await lambda.invoke(event);
      if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
      return answer.result;
    });
    const disconnect = aws.dataApi.connectQueue(queue);
    // Warm the instance and the local database (the counts below are per lifecycle, not per cold start).
    await lambda.invoke({ sqlStatement: 'select 1' });
    await queue.whenIdle();

    let runs = 0;
    const itemSize = async (executionArn: string) => {
      const item = (await aws.items()).find((candidate) => candidate.id === executionArn);
      return item ? dynamoItemBytes(item) : 0;
    };
    async function lifecycle(payload: Record<string, unknown>, via = lambda) {
      // Real task tokens are several hundred characters long; a 1,024-character one keeps the item sizes conservative.
      const token = `AQ${randomBytes(1024).toString('base64url')}`.slice(0, 1024);
      aws.sfn.registerToken(token);
      const executionArn = `arn:aws:states:eu-west-1:123456789012:execution:ExampleStateMachine:${`run-${++runs}`.padEnd(36, '0')}`;
      aws.resetCounts();
      const answer = await via.invoke({ taskToken: token, executionArn, ...payload });
      if (!answer.ok) throw new Error(`start failed: ${answer.errorType}: ${answer.errorMessage}`);
      const start = flatten(aws.counts());
      const registered = await itemSize(executionArn);
      aws.resetCounts();
      await aws.sfn.waitForCallback(token, 30_000);
      // A fast path calls back before the event is emitted: the event's processing is the completion's share.
      await until(() => aws.dataApi.events.some((e) => e.detail.statementId === answer.result.Id), 10_000, 'the status-change event');
      await queue.whenIdle();
      const completion = flatten(aws.counts());
      return { start, completion, id: answer.result.Id as string, itemBytes: { registered, completed: await itemSize(executionArn) } };
    }

    const results: LifecycleCalls[] = [];
    const plain = await lifecycle({ sqlStatement: 'select 1' });
    results.push(describe('plain statement (FINISHED, Step Functions callback)', ORIGINAL.plain, plain.start, plain.completion, plain.itemBytes));
    const fast = await lifecycle({ sqlStatement: 'select 4' }, fastLambda);
    results.push(describe('plain statement, fast path (FINISHED within the start\'s wait; its event is a duplicate)', ORIGINAL.plain,
      fast.start, fast.completion, fast.itemBytes));
    const singleton = await lifecycle({ sqlStatement: 'select 2', action: 'executeSingletonStatement' });
    results.push(describe('singleton statement (FINISHED)', ORIGINAL.singleton, singleton.start, singleton.completion, singleton.itemBytes));
    const rows = await lifecycle({ sqlStatement: 'select 5 as five, \'x\' as name', rowFormat: 'OBJECTS' });
    results.push(describe('rows with the callback (resultRows: OBJECTS, one page)', ORIGINAL.rows, rows.start, rows.completion, rows.itemBytes));
    const exported = await lifecycle({ sqlStatement: 'select n from generate_series(1, 1000) n', exportBucket: LOCAL_BUCKET, exportKeyPrefix: 'calls/' });
    results.push(describe('result exported to S3 (resultExport, one part: PutObject)', ORIGINAL.exported, exported.start, exported.completion,
      exported.itemBytes));
    const failed = await lifecycle({ sqlStatement: 'select * from no_such_table' });
    results.push(describe('failed statement (FAILED, error text added)', ORIGINAL.failed, failed.start, failed.completion, failed.itemBytes));

    // A CloudFormation custom resource: the answer is a PUT to the pre-signed ResponseURL (S3), counted too.
    const url = aws.cfn.newResponseUrl();
    aws.resetCounts();
    const request = customResourceRequest({
      requestType: 'Create',
      responseUrl: url,
      serviceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:Wrapper',
      stackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/example-stack/1a2b3c4d',
      requestId: 'request-Create',
      logicalId: 'ExampleTable',
      resourceType: 'Custom::RedshiftSql',
      properties: { ServiceToken: 'x', create_sql: 'create table t(id int)', password: 'md5secret' },
    });
    const cfnStart = await lambda.invoke({ ...request, sqlStatement: 'select 3' });
    if (!cfnStart.ok) throw new Error(`start failed: ${cfnStart.errorType}: ${cfnStart.errorMessage}`);
    const cfnStartCounts = flatten(aws.counts());
    aws.resetCounts();
    await aws.cfn.waitForResponse(url, 30_000);
    await queue.whenIdle();
    results.push(describe('CloudFormation custom resource (FINISHED)', ORIGINAL.cloudFormation, cfnStartCounts,
      { ...flatten(aws.counts()), 'cloudFormation:PUT ResponseURL': aws.cfn.responsesFor(url).length }));

    // A second copy of the plain statement's event (SQS and EventBridge deliver at least once).
    const event = aws.dataApi.events.find((e) => e.detail.statementId === plain.id);
    aws.resetCounts();
    queue.send(JSON.stringify(event));
    await queue.whenIdle();
    results.push(describe('duplicate completion event', ORIGINAL.duplicate, {}, flatten(aws.counts())));

    // A forged event: a waiting statement's name, another statement id (the original calls the task back with it).
    const waitingToken = aws.sfn.issueToken();
    const waitingArn = 'arn:aws:states:eu-west-1:123456789012:execution:ExampleStateMachine:forged-target';
    const waiting = await lambda.invoke({ sqlStatement: 'select pg_sleep(1)', taskToken: waitingToken, executionArn: waitingArn });
    if (!waiting.ok) throw new Error(`start failed: ${waiting.errorType}: ${waiting.errorMessage}`);
    const waitingName = aws.dataApi.statements().find((st) => st.id === waiting.result.Id)!.statementName!;
    aws.resetCounts();
    queue.send(JSON.stringify({ ...event, detail: { ...event!.detail, statementName: waitingName, statementId: 'forged-id', rows: 999 } }));
    await queue.whenIdle();
    results.push(describe('forged completion event (a waiting statement\'s name, another statement id: refused)', ORIGINAL.forged, {},
      flatten(aws.counts())));
    await aws.sfn.waitForCallback(waitingToken, 30_000);
    await queue.whenIdle();
    disconnect();
    return results;
  } finally {
    queue.close();
    await instance?.close();
    await fastInstance?.close();
    await aws.close();
  }
}

if (require.main === module) {
  measureCalls().then((results) => console.log(JSON.stringify(results, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
