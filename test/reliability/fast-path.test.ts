/**
 * The fast path under load and faults: statements started by 4 handler instances (separate processes) with the fast
 * path on, some ending within the start's wait and some after it, every completion event delivered twice, shuffled:
 * every task is called back exactly once, by whichever source claims first. And when every fast-path callback fails
 * (Step Functions throttling beyond the SDK's retries), the claims are given back and the events call each task back
 * once.
 */
import { outcomes, shuffle } from './support/outcomes';
import { ResultLog } from './support/record';
import { completionQueue } from './support/sqs';
import { LocalAws, startLocalAws } from '../../local/aws';
import { startHandlerFunction } from '../../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../../local/lambda/runtime';
import { until } from '../../local/servers/sqs-queue';

const INSTANCES = 4;
const log = new ResultLog('fast-path', 'The fast path');
let aws: LocalAws;
let pool: LocalFunction;

beforeAll(async () => {
  aws = await startLocalAws({ dataApi: { maxActiveStatements: 1000 } });
  // A 1 s wait; statements that sleep 1.5 s outlast it and are completed by their event. One SDK attempt, so a
  // throttled callback fails the fast path at once.
  pool = await startHandlerFunction(aws.env({ FAST_PATH_WAIT_SECONDS: '1', AWS_MAX_ATTEMPTS: '1' }), { environments: INSTANCES });
});
afterAll(async () => {
  await pool?.close();
  await aws?.close();
  log.write();
});

/** Starts `count` statements through the pool; every `slowEvery`-th one outlasts the wait. */
async function startAll(label: string, count: number, slowEvery: number) {
  const started: Array<{ statementId: string; taskToken: string }> = [];
  let next = 0;
  await Promise.all(Array.from({ length: INSTANCES }, async () => {
    while (next < count) {
      const i = next++;
      const taskToken = aws.sfn.issueToken();
      const sql = i % slowEvery === 0 ? `select pg_sleep(1.5), ${i}` : `select ${i}`;
      const answer = outcomeOf(await pool.invoke({
        sqlStatement: sql, taskToken, executionArn: `arn:aws:states:eu-west-1:123456789012:execution:${label}:run-${i}`,
      }));
      if (!answer.ok) throw new Error(`start ${i}: ${answer.errorType}: ${answer.errorMessage}`);
      started.push({ statementId: answer.result.Id, taskToken });
    }
  }));
  const ids = new Set(started.map((s) => s.statementId));
  await until(() => aws.dataApi.events.filter((e) => ids.has(e.detail.statementId)).length === count, 120_000, 'every event');
  return { started, events: aws.dataApi.events.filter((e) => ids.has(e.detail.statementId)) };
}

function deliverTwice(events: readonly unknown[], seed: number) {
  const queue = completionQueue(async (event) => {
    const answer = outcomeOf(await pool.invoke(event));
    if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
    return answer.result;
  }, { batchSize: 10, maxConcurrency: INSTANCES });
  const bodies = events.flatMap((event) => [JSON.stringify(event), JSON.stringify(event)]);
  for (const body of shuffle(bodies, seed)) queue.send(body);
  return queue;
}

/** Tasks called back from a start's answer (the event it carries was rebuilt from the Data API's answer). */
function fastCallbacks(tokens: readonly string[]): number {
  return tokens.filter((token) => {
    const accepted = aws.sfn.callsFor(token).find((call) => call.answer === 'accepted');
    return accepted?.output !== undefined && JSON.parse(accepted.output).id.startsWith('reconciled-');
  }).length;
}

test('200 statements, a quarter outlasting the wait, every event twice, 4 instances → 200 callbacks, none twice', async () => {
  const { started, events } = await startAll('FastPath', 200, 4);
  const queue = deliverTwice(events, 20261202);
  await queue.whenIdle();

  const result = outcomes(aws, queue, started);
  const fast = fastCallbacks(started.map((s) => s.taskToken));
  log.add({
    scenario: '200 statements started by 4 instances with a 1 s fast-path wait (every 4th sleeps 1.5 s); every event delivered twice, shuffled',
    expected: '200 callbacks, none twice, none in the DLQ; the short statements by the fast path, the long ones by their event',
    measured: { ...result, calledBackByTheFastPath: fast, calledBackByTheEvent: result.calledBack - fast, deadLetters: queue.deadLetters.length },
  });
  expect(result).toEqual({ statements: 200, calledBack: 200, calledBackTwice: 0, taskClosed: 0, deadLettered: 0, lost: 0 });
  // The 50 long statements can only be called back by their event; most short ones end within the wait.
  expect(fast).toBeLessThanOrEqual(150);
  expect(fast).toBeGreaterThan(0);
  expect(queue.deadLetters).toHaveLength(0);
}, 240_000);

test('every fast-path callback throttled → the claims are given back; the events call each task back once', async () => {
  aws.proxies.sfn.setFaults((call) => (call.operation === 'SendTaskSuccess' ? { kind: 'throttle' } : undefined));
  let starts;
  try {
    starts = await startAll('Throttled', 40, 1_000);
  } finally {
    aws.clearFaults();
  }
  const tokens = starts.started.map((s) => s.taskToken);
  const beforeEvents = tokens.filter((token) => aws.sfn.callsFor(token).some((call) => call.answer === 'accepted')).length;

  const queue = deliverTwice(starts.events, 7);
  await queue.whenIdle();

  const result = outcomes(aws, queue, starts.started);
  log.add({
    scenario: '40 short statements whose fast-path callbacks are all throttled (one SDK attempt); every event delivered twice',
    expected: 'no task called back by the start; each called back once by its event; none in the DLQ',
    measured: { ...result, calledBackBeforeTheEvents: beforeEvents, deadLetters: queue.deadLetters.length },
  });
  expect(beforeEvents).toBe(0);
  expect(result).toEqual({ statements: 40, calledBack: 40, calledBackTwice: 0, taskClosed: 0, deadLettered: 0, lost: 0 });
}, 240_000);
