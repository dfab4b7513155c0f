/**
 * Benchmark 3: completion throughput. N statements are started through the bundled handler (their registrations
 * are real), run on the local Data API, and their real status-change events are then put on a local SQS queue all
 * at once; the event source mapping delivers batches of 10 to 1, 4 or 8 handler instances (separate processes, one
 * invocation at a time each, like Lambda). Measured: events/s from the first delivery until the queue is empty, and
 * every task called back exactly once. Optionally each AWS call is delayed at the endpoints to model the network
 * round trip of a real region (the local servers answer in well under a millisecond).
 */
import { performance } from 'node:perf_hooks';
import { median, round } from './stats';
import { LocalAws, startLocalAws } from '../local/aws';
import { startHandlerFunction } from '../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../local/lambda/runtime';
import { LocalQueue } from '../local/servers/sqs-queue';

export interface ThroughputRun {
  readonly workers: number;
  /** Delay added to every DynamoDB and Step Functions call during the completion phase, ms. */
  readonly addedLatencyMs: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  /** Statements started per second by the same instances (registration + ExecuteStatement). */
  readonly startsPerSecond: number;
  /** Median duration of one completion invocation (a batch of up to 10), ms. */
  readonly medianBatchMs: number;
  /** CPU time the handler instances used per completion event, ms. */
  readonly handlerCpuMsPerEvent: number;
  /** CPU time of the process hosting the local services (DynamoDB, Step Functions, queue) per event, ms. */
  readonly localServicesCpuMsPerEvent: number;
  readonly callbacks: number;
  readonly duplicateCallbacks: number;
  readonly deadLetters: number;
}

export interface ThroughputResult {
  readonly runs: ThroughputRun[];
  /** events/s with 8 workers ÷ events/s with 1 worker, per added latency. */
  readonly scaling: Array<{ readonly addedLatencyMs: number; readonly ratio4: number; readonly ratio8: number }>;
}

async function startStatements(aws: LocalAws, pool: LocalFunction, count: number): Promise<{ tokens: Map<string, string>; seconds: number }> {
  const tokens = new Map<string, string>();
  const started = performance.now();
  let next = 0;
  const launch = async () => {
    while (next < count) {
      const i = next++;
      const token = aws.sfn.issueToken();
      const answer = outcomeOf(await pool.invoke({
        sqlStatement: `select ${i}`,
        taskToken: token,
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Throughput:run-${i}`,
      }));
      if (!answer.ok) throw new Error(`start ${i} failed: ${answer.errorType}: ${answer.errorMessage}`);
      tokens.set(answer.result.Id, token);
    }
  };
  await Promise.all(Array.from({ length: pool.maxEnvironments }, () => launch()));
  return { tokens, seconds: (performance.now() - started) / 1000 };
}

async function waitForEvents(aws: LocalAws, ids: Set<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = aws.dataApi.events.filter((event) => ids.has(event.detail.statementId));
    if (events.length >= ids.size) return events;
    if (Date.now() > deadline) throw new Error(`only ${events.length} of ${ids.size} status-change events after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function measureThroughputRun(aws: LocalAws, workers: number, events: number, addedLatencyMs: number): Promise<ThroughputRun> {
  // The completer is measured: starts leave every completion to its event (no fast path).
  const pool = await startHandlerFunction(aws.env({ FAST_PATH_WAIT_SECONDS: '0' }), { environments: workers });
  const queue = new LocalQueue({ batchSize: 10, batchingWindowMs: 0, visibilityTimeoutMs: 60_000, maxConcurrency: workers });
  try {
    const { tokens, seconds: startSeconds } = await startStatements(aws, pool, events);
    const statusEvents = await waitForEvents(aws, new Set(tokens.keys()), 120_000);
    const before = aws.sfn.calls.length;
    if (addedLatencyMs > 0) {
      aws.proxies.dynamodb.setFaults(() => ({ kind: 'delay', ms: addedLatencyMs }));
      aws.proxies.sfn.setFaults(() => ({ kind: 'delay', ms: addedLatencyMs }));
    }
    const durations: number[] = [];
    let handlerCpuMs = 0;
    queue.setConsumer(async (event) => {
      const invoked = await pool.invoke(event);
      durations.push(invoked.durationMs);
      handlerCpuMs += invoked.cpuMs;
      const answer = outcomeOf(invoked);
      if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
      return answer.result;
    });
    const started = performance.now();
    const hostCpu = process.cpuUsage();
    for (const event of statusEvents) queue.send(JSON.stringify(event));
    await queue.whenIdle();
    const seconds = (performance.now() - started) / 1000;
    const hostCpuUsed = process.cpuUsage(hostCpu);
    aws.clearFaults();
    const calls = aws.sfn.calls.slice(before).filter((call) => call.operation === 'SendTaskSuccess');
    const perToken = new Map<string, number>();
    for (const call of calls) perToken.set(call.taskToken, (perToken.get(call.taskToken) ?? 0) + 1);
    const accepted = [...tokens.values()].filter((token) => aws.sfn.callbackFor(token)?.kind === 'success').length;
    return {
      workers,
      addedLatencyMs,
      events: statusEvents.length,
      seconds: round(seconds, 2),
      eventsPerSecond: round(statusEvents.length / seconds, 0),
      startsPerSecond: round(events / startSeconds, 0),
      medianBatchMs: round(median(durations), 1),
      handlerCpuMsPerEvent: round(handlerCpuMs / statusEvents.length, 2),
      localServicesCpuMsPerEvent: round((hostCpuUsed.user + hostCpuUsed.system) / 1000 / statusEvents.length, 2),
      callbacks: accepted,
      duplicateCallbacks: [...perToken.values()].filter((n) => n > 1).length,
      deadLetters: queue.deadLetters.length,
    };
  } finally {
    aws.clearFaults();
    queue.close();
    await pool.close();
  }
}

export async function measureThroughput(
  events = 2000, workerCounts: readonly number[] = [1, 4, 8], latencies: readonly number[] = [0, 10],
): Promise<ThroughputResult> {
  const runs: ThroughputRun[] = [];
  for (const addedLatencyMs of latencies) {
    for (const workers of workerCounts) {
      // A fresh local AWS per run: every run starts from an empty table and an idle Data API (the stand-in runs
      // statements one at a time per database, so starts outpace it here: its active-statement quota is lifted).
      const aws = await startLocalAws({ dataApi: { maxActiveStatements: events } });
      try {
        runs.push(await measureThroughputRun(aws, workers, events, addedLatencyMs));
      } finally {
        await aws.close();
      }
    }
  }
  const scaling = latencies.map((addedLatencyMs) => {
    const rate = (workers: number) => runs.find((r) => r.workers === workers && r.addedLatencyMs === addedLatencyMs)?.eventsPerSecond ?? NaN;
    return { addedLatencyMs, ratio4: round(rate(4) / rate(1), 2), ratio8: round(rate(8) / rate(1), 2) };
  });
  return { runs, scaling };
}

if (require.main === module) {
  const events = Number(process.argv[2] ?? 2000);
  const workers = (process.argv[3] ?? '1,4,8').split(',').map(Number);
  const latencies = (process.argv[4] ?? '0,10').split(',').map(Number);
  measureThroughput(events, workers, latencies).then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
    console.error(error);
    process.exit(1);
  });
}
