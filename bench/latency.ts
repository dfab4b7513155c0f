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
import { SingleSuccessMachine } from '../example/machines/single-success';
import { startLocalAws } from '../local/aws';
import { LocalCloud } from '../local/cloud';
import { synthesizeExample } from '../local/example';
import { startHandlerFunction } from '../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../local/lambda/runtime';
import { LocalQueue } from '../local/servers/sqs-queue';

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
  let fn: LocalFunction | undefined;
  const queue = new LocalQueue({ batchSize: 10, batchingWindowMs: 0, visibilityTimeoutMs: 60_000, maxConcurrency: 2 });
  const emitted = new Map<string, number>();
  const invoked = new Map<string, number>();
  const called = new Map<string, number>();
  try {
    // The event path is measured (the fast path is measured in `fast-path.ts`).
    const direct = aws.env({
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamo.endpoint, AWS_ENDPOINT_URL_SFN: aws.sfn.endpoint, FAST_PATH_WAIT_SECONDS: '0',
    });
    fn = await startHandlerFunction(direct, { environments: 2 });
    const handler = fn;
    const pool = { invoke: async (event: unknown) => outcomeOf(await handler.invoke(event)) };
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
    await fn?.close();
    await aws.close();
  }
}

export interface EndToEndLatencyResult {
  readonly executions: number;
  /** The local queue's batching window (the stand-in collects a batch this long before delivering it), ms. */
  readonly queueBatchingWindowMs: number;
  /** The statement's end (its final status in the Data API stand-in) → `SendTaskSuccess` received, ms. */
  readonly endToCallbackMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** Executions whose task was called back from the start's answer (the fast path) rather than by the event. */
  readonly fastPathCallbacks: number;
  readonly executionMs: { readonly p50: number; readonly p95: number };
}

/**
 * The local end-to-end run (`npm run demo`'s stack): the example app synthesized, its functions, queue, rule and state
 * machines wired to the stand-ins, with the construct's defaults (the fast path on). The single-success machine runs
 * `samples` times, one after another; for each, the time from the statement's end in the Data API stand-in to the
 * Step Functions endpoint receiving `SendTaskSuccess` (by the fast path or the event), and the execution's duration (start, statement, callback, reading the result with LATEST).
 * Needs the bundles of `npx projen bundle:lambda` (`bench/run.ts` builds them first).
 */
export async function measureEndToEndLatency(samples = 50): Promise<EndToEndLatencyResult> {
  const example = synthesizeExample();
  const cloud = await LocalCloud.start({ template: example.template, assets: example.assets });
  try {
    let endedAt: number | undefined;
    let calledAt: number | undefined;
    let fastPath = false;
    const stopEvents = cloud.redshift.onStatusChange((_, status) => {
      if (['FINISHED', 'FAILED', 'ABORTED'].includes(status)) endedAt ??= performance.now();
    });
    const stopCalls = cloud.callbacks.onCall((call) => {
      if (call.answer !== 'accepted' || call.operation !== 'SendTaskSuccess' || calledAt !== undefined) return;
      calledAt = performance.now();
      fastPath = (JSON.parse(call.output ?? '{}').id ?? '').startsWith('reconciled-');
    });
    let fastPathCallbacks = 0;
    const arn = cloud.stateMachineArn(example.machineLogicalIds[SingleSuccessMachine.ID]);
    const endToCallback: number[] = [];
    const durations: number[] = [];
    for (let i = -3; i < samples; i++) {
      endedAt = undefined;
      calledAt = undefined;
      const started = performance.now();
      const outcome = await cloud.stepFunctions.startExecution(arn, {}, { name: `latency-${i + 3}` }).result;
      if (outcome.status !== 'SUCCEEDED') throw new Error(`execution ${i}: ${outcome.status} ${outcome.error ?? ''} ${outcome.cause ?? ''}`);
      if (i < 0) continue; // warm-up
      if (endedAt === undefined || calledAt === undefined) throw new Error(`execution ${i}: no statement end or no callback seen`);
      endToCallback.push(calledAt - endedAt);
      if (fastPath) fastPathCallbacks++;
      durations.push(performance.now() - started);
    }
    stopEvents();
    stopCalls();
    const queue = [...cloud.queues.values()].find((q) => q.deliveries.length > 0);
    const windowMs = Number((queue as unknown as { options?: { batchingWindowMs?: number } })?.options?.batchingWindowMs ?? NaN);
    return {
      executions: samples,
      queueBatchingWindowMs: windowMs,
      endToCallbackMs: {
        p50: round(percentile(endToCallback, 50)), p95: round(percentile(endToCallback, 95)), max: round(Math.max(...endToCallback)),
      },
      fastPathCallbacks,
      executionMs: { p50: round(percentile(durations, 50)), p95: round(percentile(durations, 95)) },
    };
  } finally {
    await cloud.close();
    example.dispose();
  }
}

if (require.main === module && process.argv[2] === 'e2e') {
  measureEndToEndLatency(Number(process.argv[3] ?? 50)).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
} else if (require.main === module) {
  measureLatency(Number(process.argv[2] ?? 200)).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
