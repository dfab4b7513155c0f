/**
 * Sessions and conflicts, on the local stand-ins with the bundled handler (each in its own process):
 *
 * 1. A three-step workflow — stage rows, merge them, finish — with and without a Data API session, side by side in one
 *    run: AWS calls and wall time per workflow (each step starts its statement and waits for its callback, the next
 *    step starting when the previous one was called back, as a state machine does). Without a session the staging
 *    table must be a real table that the last step drops; with one, it is a temporary table.
 * 2. Concurrent writers on one table (the example app's `ConcurrentWritersRsTask` machine, run by the local Step
 *    Functions runner with its `Retry` on `SerializationConflict`): how many writers ended SUCCEEDED, and the
 *    distribution of their retries.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { percentile, round, sum } from './stats';
import { ConcurrentWritersMachine, SLOW_PROCEDURE_CREATE_SQL, WRITES_CREATE_SQL, WRITES_TABLE } from '../example/machines';
import { LocalAws, startLocalAws } from '../local/aws';
import { LocalCloud } from '../local/cloud';
import { synthesizeExample } from '../local/example';
import { LOCAL_TARGET, startHandlerFunction } from '../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../local/lambda/runtime';
import { writerAttempts } from '../local/machine-scenarios';
import { LocalQueue } from '../local/servers/sqs-queue';

export interface SessionWorkflowResult {
  readonly workflows: number;
  readonly steps: number;
  readonly rowsStaged: number;
  /** Per variant: AWS calls per workflow (all steps, starts and completions), and wall time per workflow (ms). */
  readonly variants: Array<{
    readonly variant: 'session' | 'no session';
    readonly callsPerWorkflow: Record<string, number>;
    readonly callsTotal: number;
    readonly wallMs: { readonly p50: number; readonly p95: number };
  }>;
}

export interface ConflictRun {
  readonly writers: number;
  readonly succeeded: number;
  readonly conflicts: number;
  /** `retries[k]`: how many writers needed k retries. */
  readonly retryHistogram: number[];
  readonly maxRetries: number;
  readonly wallMs: number;
}

export interface SessionsResult {
  readonly workflow: SessionWorkflowResult;
  readonly conflicts: ConflictRun[];
}

const ROWS = 1000;

function steps(variant: 'session' | 'no session', run: number): string[] {
  const table = variant === 'session' ? 'staged' : `staging_${run}`;
  return [
    `create ${variant === 'session' ? 'temp ' : ''}table ${table} as select n, n % 7 as bucket from generate_series(1, ${ROWS}) as n`,
    `insert into bench_totals select bucket, count(*) from ${table} group by bucket`,
    variant === 'session' ? `select count(*) from ${table}` : `drop table ${table}`,
  ];
}

async function workflows(aws: LocalAws, fn: LocalFunction, queue: LocalQueue, count: number): Promise<SessionWorkflowResult> {
  const invoke = async (event: unknown) => outcomeOf(await fn.invoke(event));
  const byVariant = new Map<string, { calls: Record<string, number>[]; wallMs: number[] }>([
    ['session', { calls: [], wallMs: [] }], ['no session', { calls: [], wallMs: [] }],
  ]);
  for (let run = -1; run < count; run++) {
    // Alternate which variant goes first, so that neither always runs on a warmer machine.
    const order: Array<'session' | 'no session'> = run % 2 === 0 ? ['session', 'no session'] : ['no session', 'session'];
    for (const variant of order) {
      aws.resetCounts();
      const started = performance.now();
      let sessionId: string | undefined;
      for (const [index, sql] of steps(variant, run + 1).entries()) {
        const taskToken = `AQ${randomBytes(48).toString('base64url')}`;
        aws.sfn.registerToken(taskToken);
        const session = variant === 'session' ? (index === 0 ? { sessionKeepAliveSeconds: 300 } : { sessionId }) : {};
        const answer = await invoke({
          sqlStatement: sql, taskToken, executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Bench:${variant.replace(' ', '-')}-${run}`, ...session,
        });
        if (!answer.ok) throw new Error(`${variant} step ${index}: ${answer.errorType}: ${answer.errorMessage}`);
        const callback = await aws.sfn.waitForCallback(taskToken, 30_000);
        if (callback.kind !== 'success') throw new Error(`${variant} step ${index}: ${callback.error}: ${callback.cause}`);
        if (index === 0 && variant === 'session') sessionId = JSON.parse(callback.output).sessionId;
      }
      const wallMs = performance.now() - started;
      // The last step's event (a duplicate after its fast path) is part of the workflow's calls.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await queue.whenIdle();
      if (run < 0) continue; // warm-up
      const calls: Record<string, number> = {};
      for (const [service, operations] of Object.entries(aws.counts())) {
        for (const [operation, n] of Object.entries(operations)) calls[`${service}:${operation}`] = n;
      }
      byVariant.get(variant)!.calls.push(calls);
      byVariant.get(variant)!.wallMs.push(wallMs);
    }
  }
  return {
    workflows: count,
    steps: 3,
    rowsStaged: ROWS,
    variants: (['session', 'no session'] as const).map((variant) => {
      const { calls, wallMs } = byVariant.get(variant)!;
      const operations = [...new Set(calls.flatMap((c) => Object.keys(c)))].sort();
      const callsPerWorkflow = Object.fromEntries(operations.map((op) => [op, round(sum(calls.map((c) => c[op] ?? 0)) / calls.length)]));
      return {
        variant,
        callsPerWorkflow,
        callsTotal: round(sum(Object.values(callsPerWorkflow))),
        wallMs: { p50: round(percentile(wallMs, 50)), p95: round(percentile(wallMs, 95)) },
      };
    }),
  };
}

async function measureWorkflows(count: number): Promise<SessionWorkflowResult> {
  const aws = await startLocalAws({ dataApi: { engine: 'postgres' } });
  const queue = new LocalQueue({ batchingWindowMs: 0, visibilityTimeoutMs: 60_000, maxConcurrency: 1 });
  let fn: LocalFunction | undefined;
  try {
    fn = await startHandlerFunction(aws.env());
    const started = fn;
    queue.setConsumer(async (event) => {
      const answer = outcomeOf(await started.invoke(event));
      if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
      return answer.result;
    });
    const disconnect = aws.dataApi.connectQueue(queue);
    await aws.dataApi.query(LOCAL_TARGET.database, 'create table bench_totals (bucket int, rows bigint)');
    const result = await workflows(aws, fn, queue, count);
    disconnect();
    return result;
  } finally {
    queue.close();
    await fn?.close();
    await aws.close();
  }
}

async function measureConflicts(writerCounts: readonly number[]): Promise<ConflictRun[]> {
  const example = synthesizeExample();
  const cloud = await LocalCloud.start({ template: example.template, assets: example.assets });
  try {
    await cloud.redshift.query(LOCAL_TARGET.database, SLOW_PROCEDURE_CREATE_SQL);
    await cloud.redshift.query(LOCAL_TARGET.database, WRITES_CREATE_SQL);
    const arn = cloud.stateMachineArn(example.machineLogicalIds[ConcurrentWritersMachine.ID]);
    const runs: ConflictRun[] = [];
    for (const writers of writerCounts) {
      await cloud.redshift.query(LOCAL_TARGET.database, `truncate ${WRITES_TABLE}`);
      const started = performance.now();
      const { executionArn, result } = cloud.stepFunctions.startExecution(arn, {
        writers: Array.from({ length: writers }, (_, index) => index + 1),
      }, { name: `writers-${writers}` });
      const outcome = await result;
      const wallMs = performance.now() - started;
      const statements = cloud.redshift.statements().filter((s) => s.statementName?.startsWith(`${executionArn}:`));
      const { finished, conflicts, retries } = writerAttempts(statements);
      if (outcome.status !== 'SUCCEEDED') throw new Error(`${writers} writers: ${outcome.status} ${outcome.error} ${outcome.cause}`);
      const histogram = Array.from({ length: Math.max(0, ...retries) + 1 }, (_, k) => retries.filter((r) => r === k).length);
      runs.push({
        writers,
        succeeded: new Set(finished).size,
        conflicts,
        retryHistogram: histogram,
        maxRetries: Math.max(0, ...retries),
        wallMs: round(wallMs, 0),
      });
    }
    return runs;
  } finally {
    await cloud.close();
    example.dispose();
  }
}

export async function measureSessions(workflowCount: number, writerCounts: readonly number[]): Promise<SessionsResult> {
  return { workflow: await measureWorkflows(workflowCount), conflicts: await measureConflicts(writerCounts) };
}

if (require.main === module) {
  measureSessions(Number(process.argv[2] ?? 20), (process.argv[3] ?? '4,8,16').split(',').map(Number))
    .then((result) => console.log(JSON.stringify(result, null, 2)), (error) => {
      console.error(error);
      process.exit(1);
    });
}
