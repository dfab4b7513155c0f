/**
 * Benchmark 5: callback latency, locally. Statements run one after another on the local Data API (embedded
 * PostgreSQL); each emits its real status-change event, which goes through a local SQS queue (batching window 0,
 * as the construct's event source mapping) to a warm handler instance (a separate process), which calls the local
 * Step Functions endpoint back. Measured per statement:
 * - event → callback: from the moment the Data API stand-in emits the event until the Step Functions endpoint
 *   receives `SendTaskSuccess` (queue delivery, the handler's claim in DynamoDB, the callback);
 * - start → callback: from the start invocation until `SendTaskSuccess` (includes running the SQL and the stand-in's
 *   event delay).
 * On AWS, EventBridge → SQS → Lambda adds its own delivery latency (public measurements: see the docs).
 */
import { performance } from 'node:perf_hooks';
import { percentile, round } from './stats';
import { LocalQueue } from '../local/servers/sqs-queue';
import { startLambdaPool } from '../test/reliability/support/lambda-host';
import { startLocalAws } from '../test/reliability/support/local-aws';

export interface LatencyResult {
  readonly samples: number;
  readonly eventToCallbackMs: { readonly p50: number; readonly p95: number; readonly max: number };
  readonly startToCallbackMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Event emitted → the completer invocation began (queue and IPC hand-off), ms. */
  readonly eventToInvokeMs: { readonly p50: number; readonly p95: number };
}

export async function measureLatency(samples = 200): Promise<LatencyResult> {
  // The stand-in's emission delay is set to 0: it is part of start → callback only, and unknown on AWS anyway.
  const aws = await startLocalAws({ dataApi: { eventDelayMs: 0 } });
  // Direct to the services (no counting proxy in the path).
  const pool = await startLambdaPool(2, aws.env({ AWS_ENDPOINT_URL_DYNAMODB: aws.dynamo.endpoint, AWS_ENDPOINT_URL_SFN: aws.sfn.endpoint }));
  const queue = new LocalQueue({ batchSize: 10, batchingWindowMs: 0, visibilityTimeoutMs: 60_000, maxConcurrency: 2 });
  const emitted = new Map<string, number>();
  const invoked = new Map<string, number>();
  const called = new Map<string, number>();
  try {
    const stopEvents = aws.dataApi.onEvent((event) => emitted.set(event.detail.statementId, performance.now()));
    const disconnect = aws.dataApi.connectQueue(queue);
    const stopCalls = aws.sfn.onCall((call) => {
      if (call.answer === 'accepted' && !called.has(call.taskToken)) called.set(call.taskToken, performance.now());
    });
    queue.setConsumer(async (event) => {
      const at = performance.now();
      for (const record of event.Records) invoked.set(JSON.parse(record.body).detail?.statementId, at);
      const answer = await pool.invoke(event);
      if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
      return answer.result;
    });
    const eventToCallback: number[] = [];
    const startToCallback: number[] = [];
    const eventToInvoke: number[] = [];
    // Warm-up (instances, local database, connections): not counted.
    for (let i = -10; i < samples; i++) {
      const token = aws.sfn.issueToken();
      const started = performance.now();
      const answer = await pool.invoke({
        sqlStatement: `select ${i} as n`, taskToken: token, executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Latency:run-${i}`,
      });
      if (!answer.ok) throw new Error(`start failed: ${answer.errorType}: ${answer.errorMessage}`);
      await aws.sfn.waitForCallback(token, 30_000);
      const id = answer.result.Id as string;
      if (i < 0) continue;
      const done = called.get(token)!;
      eventToCallback.push(done - emitted.get(id)!);
      startToCallback.push(done - started);
      eventToInvoke.push(invoked.get(id)! - emitted.get(id)!);
    }
    stopEvents();
    stopCalls();
    disconnect();
    await queue.whenIdle();
    const summary = (values: number[]) => ({
      p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), max: round(Math.max(...values)),
    });
    return {
      samples,
      eventToCallbackMs: summary(eventToCallback),
      startToCallbackMs: summary(startToCallback),
      eventToInvokeMs: { p50: round(percentile(eventToInvoke, 50)), p95: round(percentile(eventToInvoke, 95)) },
    };
  } finally {
    queue.close();
    await pool.close();
    await aws.close();
  }
}

if (require.main === module) {
  measureLatency(Number(process.argv[2] ?? 200)).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
