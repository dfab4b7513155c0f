/**
 * Forged completions: 1,000 statements wait for their callbacks while completion events that carry a waiting
 * statement's name but another statement id arrive by each way in —
 * (a) a principal allowed to invoke the function sends it an SQS-shaped `{"Records": [...]}` body itself;
 * (b) a principal allowed to send to the queue puts a forged event on it (the construct's queue policy refuses such
 *     senders; this scenario is what happens if one gets through);
 * (c) another principal runs a real Data API statement under a waiting statement's name, with events (its event is
 *     genuine: another statement id, another principal).
 * Forged events come before, between and after the real ones, shuffled, through 4 handler instances. Expected: every
 * task called back once, with its own statement's event; no forged event calls anybody back.
 */
import { RedshiftDataClient, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { EVENT_PATH } from './support/in-process';
import { outcomes, shuffle } from './support/outcomes';
import { startThroughPool } from './support/pool';
import { ResultLog } from './support/record';
import { completionQueue } from './support/sqs';
import { LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_TARGET, startHandlerFunction } from '../../local/lambda/handler';
import { LocalFunction, outcomeOf } from '../../local/lambda/runtime';
import { StatusChangeEvent } from '../../local/servers/redshift-data';
import { until } from '../../local/servers/sqs-queue';

const STATEMENTS = 1000;
const INSTANCES = 4;
/** Real Data API statements another principal runs under waiting statements' names (way c). */
const FOREIGN = 100;
/** A row count no real statement here returns: a callback carrying it was forged. */
const FORGED_ROWS = 424_242;
const log = new ResultLog('forged', 'Forged completions');
let aws: LocalAws;
let pool: LocalFunction;

beforeAll(async () => {
  aws = await startLocalAws({ dataApi: { maxActiveStatements: STATEMENTS + FOREIGN } });
  pool = await startHandlerFunction(aws.env(EVENT_PATH), { environments: INSTANCES });
});
afterAll(async () => {
  await pool?.close();
  await aws?.close();
  log.write();
});

const record = (body: string, messageId: string) => ({
  messageId,
  receiptHandle: messageId,
  body,
  attributes: {},
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:local-completion-queue',
  awsRegion: 'eu-west-1',
});

test(`forged completions by each way in, among the events of ${STATEMENTS} statements → ${STATEMENTS} right callbacks, none forged`, async () => {
  // GIVEN 1,000 statements started through the handler, each waiting for its task
  const { started, events: real } = await startThroughPool(aws, pool, STATEMENTS, {
    label: 'Forged', instances: INSTANCES, sql: (i) => `select ${i} as n`,
  });

  // (c) another principal (other credentials) runs real statements under 100 waiting statements' names, with events
  const attacker = new RedshiftDataClient({
    region: 'eu-west-1', endpoint: aws.dataApi.endpoint, credentials: { accessKeyId: 'AKIAOTHERPRINCIPAL', secretAccessKey: 'x' },
  });
  const foreignIds = new Set<string>();
  for (const event of real.slice(0, FOREIGN)) {
    const output = await attacker.send(new ExecuteStatementCommand({
      ClusterIdentifier: LOCAL_TARGET.clusterIdentifier,
      Database: LOCAL_TARGET.database,
      DbUser: LOCAL_TARGET.dbUser,
      Sql: `select ${FORGED_ROWS}`,
      StatementName: event.detail.statementName,
      WithEvent: true,
    }));
    foreignIds.add(output.Id!);
  }
  attacker.destroy();
  await until(() => aws.dataApi.events.filter((e) => foreignIds.has(e.detail.statementId)).length === FOREIGN, 60_000, 'the foreign events');
  const foreign = aws.dataApi.events.filter((e) => foreignIds.has(e.detail.statementId));

  // (a) and (b): the right name, the id of ANOTHER of the tasker's own statements (or an unknown one), rows forged
  const forge = (event: StatusChangeEvent, statementId: string): string =>
    JSON.stringify({ ...event, detail: { ...event.detail, statementId, rows: FORGED_ROWS } });
  const ownOther = (i: number) => real[(i + 1) % real.length].detail.statementId;
  const viaInvoke = real.map((event, i) => forge(event, i % 2 === 0 ? ownOther(i) : `forged-${i}`));
  const viaQueue = real.map((event, i) => forge(event, i % 2 === 1 ? ownOther(i) : `forged-queue-${i}`));

  // WHEN the real events, the forged ones and the foreign ones arrive shuffled on the queue, while (a) invokes directly
  const queue = completionQueue(async (event) => {
    const answer = outcomeOf(await pool.invoke(event));
    if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
    return answer.result;
  }, { batchSize: 10, maxConcurrency: INSTANCES });
  const bodies = shuffle([...real.map((e) => JSON.stringify(e)), ...viaQueue, ...foreign.map((e) => JSON.stringify(e))], 19);
  for (const body of bodies) queue.send(body);
  const direct = await Promise.all(shuffle(viaInvoke, 23).map(async (body, i) => {
    const answer = outcomeOf(await pool.invoke({ Records: [record(body, `direct-${i}`)] }));
    return answer.ok && answer.result.batchItemFailures.length === 0;
  }));
  await queue.whenIdle();

  // THEN every task was called back once, with its own statement's event; nothing forged got through
  const result = outcomes(aws, queue, started);
  let right = 0;
  let forged = 0;
  for (const { statementId, taskToken } of started) {
    for (const call of aws.sfn.callsFor(taskToken).filter((c) => c.answer === 'accepted')) {
      const detail = JSON.parse(call.output ?? '{}').detail ?? {};
      if (detail.statementId === statementId && detail.rows !== FORGED_ROWS) right++;
      else forged++;
    }
  }
  log.add({
    scenario: `${STATEMENTS} statements; ${STATEMENTS} forged events invoked directly (a), ${STATEMENTS} forged events on the queue (b), `
      + `${FOREIGN} real statements of another principal under waiting names (c); half the forged ids are the tasker's own other statements`,
    expected: `${STATEMENTS} right callbacks, each once; 0 forged callbacks; the forged events acknowledged (not retried, not dead-lettered)`,
    measured: {
      ...result,
      rightCallbacks: right,
      forgedCallbacks: forged,
      forgedEvents: viaInvoke.length + viaQueue.length + foreign.length,
      directInvocationsAcknowledged: direct.filter(Boolean).length,
      deadLetters: queue.deadLetters.length,
    },
  });
  expect(result).toEqual({ statements: STATEMENTS, calledBack: STATEMENTS, calledBackTwice: 0, taskClosed: 0, deadLettered: 0, lost: 0 });
  expect(right).toBe(STATEMENTS);
  expect(forged).toBe(0);
  expect(direct.every(Boolean)).toBe(true);
  expect(queue.deadLetters).toHaveLength(0);
}, 600_000);
