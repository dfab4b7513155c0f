/**
 * Duplicates: 1,000 statements whose completion events are each delivered 3 times — as 3 separate SQS messages,
 * shuffled so copies land in different batches (some in the same one) and are processed at the same time by 4
 * handler instances (separate processes) — get exactly 1,000 callbacks, none twice, counted at the Step Functions
 * endpoint.
 */
import { EVENT_PATH } from './support/in-process';
import { outcomes, shuffle } from './support/outcomes';
import { startThroughPool } from './support/pool';
import { ResultLog } from './support/record';
import { completionQueue } from './support/sqs';
import { LocalAws, startLocalAws } from '../../local/aws';
import { startHandlerFunction } from '../../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../../local/lambda/runtime';

const STATEMENTS = 1000;
const COPIES = 3;
const INSTANCES = 4;
const log = new ResultLog('duplicates', 'Duplicate delivery');
let aws: LocalAws;
let pool: LocalFunction;

beforeAll(async () => {
  // The stand-in runs statements one at a time per database; starts outpace it here, so lift its active-statement quota.
  aws = await startLocalAws({ dataApi: { maxActiveStatements: STATEMENTS } });
  pool = await startHandlerFunction(aws.env(EVENT_PATH), { environments: INSTANCES });
});
afterAll(async () => {
  await pool?.close();
  await aws?.close();
  log.write();
});

test(`${STATEMENTS} statements × ${COPIES} copies of their event, ${INSTANCES} instances at once → ${STATEMENTS} callbacks, none twice`, async () => {
  // GIVEN 1,000 statements started through the handler, each waiting for its task to be called back
  const { started, events } = await startThroughPool(aws, pool, STATEMENTS, { label: 'Duplicates', instances: INSTANCES });

  // WHEN every event is sent 3 times, shuffled, and the event source mapping delivers batches of 10 to 4 instances
  let deliveries = 0;
  let concurrent = 0;
  let maxConcurrent = 0;
  let copiesInOneBatch = 0;
  let copiesInParallelBatches = 0;
  const inFlight = new Map<string, number>();
  const queue = completionQueue(async (event) => {
    deliveries += 1;
    maxConcurrent = Math.max(maxConcurrent, ++concurrent);
    const statementIds = event.Records.map((record) => JSON.parse(record.body).detail.statementId as string);
    copiesInOneBatch += statementIds.length - new Set(statementIds).size;
    for (const id of new Set(statementIds)) {
      if ((inFlight.get(id) ?? 0) > 0) copiesInParallelBatches += 1;
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
    }
    try {
      const answer = outcomeOf(await pool.invoke(event));
      if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
      return answer.result;
    } finally {
      concurrent -= 1;
      for (const id of new Set(statementIds)) inFlight.set(id, inFlight.get(id)! - 1);
    }
  }, { batchSize: 10, maxConcurrency: INSTANCES });
  const bodies = events.flatMap((event) => Array.from({ length: COPIES }, () => JSON.stringify(event)));
  const callsBefore = aws.sfn.calls.length;
  for (const body of shuffle(bodies, 20261124)) queue.send(body);
  await queue.whenIdle();

  // THEN
  // Callbacks only: a copy that arrives after another copy's claim has passed its lease asks Step Functions whether the
  // task still waits (SendTaskHeartbeat, answered TaskTimedOut once the task was called back) before leaving it.
  const heartbeats = aws.sfn.calls.slice(callsBefore).filter((call) => call.operation === 'SendTaskHeartbeat').length;
  const calls = aws.sfn.calls.slice(callsBefore).filter((call) => call.operation !== 'SendTaskHeartbeat');
  const perToken = new Map<string, number>();
  for (const call of calls) perToken.set(call.taskToken, (perToken.get(call.taskToken) ?? 0) + 1);
  const result = outcomes(aws, queue, started);
  log.add({
    scenario: `${STATEMENTS} statements, each completion event sent ${COPIES} times (${bodies.length} messages, shuffled), batches of 10 to ${INSTANCES} instances`,
    expected: `${STATEMENTS} callbacks, none twice; every message acknowledged`,
    measured: {
      messages: bodies.length,
      deliveries,
      maxConcurrentDeliveries: maxConcurrent,
      copiesInTheSameBatch: copiesInOneBatch,
      copiesInBatchesRunningAtTheSameTime: copiesInParallelBatches,
      sendTaskCalls: calls.length,
      heartbeatsOfLateCopies: heartbeats,
      tokensCalledMoreThanOnce: [...perToken.values()].filter((n) => n > 1).length,
      callbacks: result.calledBack,
      lost: result.lost,
      deadLetters: queue.deadLetters.length,
      retriedMessages: queue.deliveries.reduce((total, d) => total + d.retried.length, 0),
    },
  });
  expect(result).toEqual({ statements: STATEMENTS, calledBack: STATEMENTS, calledBackTwice: 0, taskClosed: 0, deadLettered: 0, lost: 0 });
  expect(calls).toHaveLength(STATEMENTS);
  expect([...perToken.values()].every((n) => n === 1)).toBe(true);
  expect(queue.deadLetters).toHaveLength(0);
  expect(maxConcurrent).toBeGreaterThan(1);
  expect(copiesInParallelBatches).toBeGreaterThan(0);
  const handled = await aws.items();
  expect(handled.filter((item) => item.completedBy !== undefined)).toHaveLength(STATEMENTS);
}, 240_000);
