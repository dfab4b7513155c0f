/**
 * A Lambda crash between registration and `ExecuteStatement`: the function's process is killed (SIGKILL) while its
 * `ExecuteStatement` call is on the wire, before the Data API received it. Expected: no statement runs, the caller
 * sees an error (and can retry), the registration expires by its TTL, `LATEST` does not point at a phantom, and a
 * singleton lock taken by the crashed start is free again once its start lease has passed.
 *
 * The crashed instance is a separate process; the instance that handles the requests afterwards runs in this
 * process with a controllable clock (Date only), so the lease can pass without waiting 15 minutes.
 */
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { outcomes } from './support/outcomes';
import { ResultLog } from './support/record';
import { Scenario } from './support/scenario';
import { LocalAws, startLocalAws } from '../../local/aws';
import { startHandlerFunction } from '../../local/lambda/handler';
import { InvokeOutcome, outcomeOf } from '../../local/lambda/runtime';

const log = new ResultLog('crash', 'Crash between registration and ExecuteStatement');
let aws: LocalAws;
let handler: Handler;

beforeAll(async () => {
  aws = await startLocalAws();
  // Only Date is faked (it follows the real clock until the test moves it); timers and I/O stay real.
  jest.useFakeTimers({
    advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  handler = loadBundledHandler(aws.env(EVENT_PATH));
});
afterAll(async () => {
  jest.useRealTimers();
  await aws?.close();
  log.write();
});

/** Starts `payload` in a separate instance and kills that process when its ExecuteStatement call arrives. */
async function crashDuringStart(payload: Record<string, unknown>): Promise<InvokeOutcome> {
  const instance = await startHandlerFunction(aws.env(EVENT_PATH));
  aws.proxies.redshiftData.setFaults(({ operation, body }) => {
    if (operation !== 'ExecuteStatement' || body.StatementName?.startsWith(String(payload.executionArn)) !== true) return undefined;
    instance.crash('SIGKILL');
    return { kind: 'hold' };
  });
  try {
    return outcomeOf(await instance.invoke(payload));
  } finally {
    aws.clearFaults();
    await instance.close();
  }
}

/** What DynamoDB's TTL process does: deletes items whose TTL is before `nowSeconds`. Returns how many. */
async function expireItems(nowSeconds: number): Promise<number> {
  const documents = DynamoDBDocumentClient.from(aws.dynamo.client);
  const expired = (await aws.items()).filter((item) => typeof item.TTL === 'number' && item.TTL < nowSeconds);
  for (const item of expired) {
    await documents.send(new DeleteCommand({ TableName: aws.tableName, Key: { id: item.id, invocationId: item.invocationId } }));
  }
  return expired.length;
}

test('a crash before ExecuteStatement: no statement, an error for the caller, the registration expires, the retry runs', async () => {
  const scenario = new Scenario(aws, handler, 'crash');
  const executionArn = `${scenario.prefix}0`;
  const taskToken = aws.sfn.issueToken();

  // WHEN the instance dies with its ExecuteStatement call in flight
  const crashed = await crashDuringStart({ sqlStatement: 'insert into audit values (1)', taskToken, executionArn });

  // THEN the caller sees the invocation fail; nothing was started; the registration is there, with a TTL
  const items = (await aws.items()).filter((item) => item.id === executionArn);
  const statements = aws.dataApi.statements().filter((s) => s.statementName?.startsWith(executionArn));
  const ttlHours = (Number(items[0]?.TTL) - Date.now() / 1000) / 3600;
  // LATEST does not resolve to the statement that never ran
  const latest = await invoke(handler, { action: 'describeStatement', statementId: 'LATEST', executionArn });
  // After the TTL, DynamoDB removes the registration
  const removedEarly = await expireItems(Math.floor(Date.now() / 1000) + 24 * 3600);
  const removed = await expireItems(Math.floor(Date.now() / 1000) + Math.ceil(ttlHours * 3600) + 60);
  // The caller invokes again with the same token (a retried invocation): the retry runs and is called back once
  await scenario.start(1, { token: () => taskToken });
  const queue = await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
  const result = outcomes(aws, queue, [{ statementId: scenario.started[0].statementId, taskToken }]);

  log.add({
    scenario: 'The function is killed (SIGKILL) after registering a statement, with its ExecuteStatement call in flight',
    expected: 'the caller gets a Runtime.ExitError; no statement runs; LATEST finds nothing to describe; the registration expires by TTL (start + 24 h + TTL days); the caller\'s retry runs once and is called back once',
    measured: {
      callerError: crashed.ok ? 'none' : crashed.errorType,
      statementsStarted: statements.length,
      registrationItems: items.length,
      registrationTtlHours: Math.round(ttlHours),
      latestDescribe: latest.ok ? 'found' : latest.errorType,
      removedBeforeTtl: removedEarly,
      removedAfterTtl: removed,
      retryCalledBack: result.calledBack,
      lost: result.lost,
    },
  });
  expect(crashed).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
  expect(statements).toHaveLength(0);
  expect(items).toHaveLength(1);
  expect(ttlHours).toBeGreaterThan(24);
  expect(ttlHours).toBeLessThanOrEqual(48 + 0.1);
  expect(latest).toMatchObject({ ok: false, errorType: 'PreviousExecutionNotFound' });
  expect(removedEarly).toBe(0);
  expect(removed).toBe(1);
  expect(result).toMatchObject({ calledBack: 1, calledBackTwice: 0, lost: 0 });
});

test('a crashed singleton start: the lock refuses the same SQL until its start lease passes, then the SQL runs', async () => {
  const scenario = new Scenario(aws, handler, 'crash-singleton');
  const sql = 'call refresh_sales_summary()';
  const payload = (i: number) => ({
    sqlStatement: sql, action: 'executeSingletonStatement', taskToken: aws.sfn.issueToken(), executionArn: `${scenario.prefix}${i}`,
  });

  // WHEN a singleton start crashes after taking the lock
  const crashed = await crashDuringStart(payload(0));
  // THEN the same SQL is refused while the lock's start lease runs (the crashed holder never started a statement)
  const during = await invoke(handler, payload(1));
  const afterTenMinutes = (jest.setSystemTime(Date.now() + 10 * 60_000), await invoke(handler, payload(2)));
  // and runs once the lease (15 minutes) has passed
  jest.setSystemTime(Date.now() + 6 * 60_000);
  const afterLease = await invoke(handler, payload(3));
  const statements = aws.dataApi.statements().filter((s) => s.statementName?.startsWith(scenario.prefix));

  log.add({
    scenario: 'The function is killed during a singleton start, after taking the lock and registering, before ExecuteStatement',
    expected: 'the same SQL gets ConcurrentExecution while the lock\'s 15-minute start lease runs; after it, a start takes the lock over and runs once',
    measured: {
      callerError: crashed.ok ? 'none' : crashed.errorType,
      immediately: during.ok ? 'started' : during.errorType,
      after10Minutes: afterTenMinutes.ok ? 'started' : afterTenMinutes.errorType,
      after16Minutes: afterLease.ok ? 'started' : afterLease.errorType,
      statementsStarted: statements.length,
    },
  });
  expect(crashed).toMatchObject({ ok: false, errorType: 'Runtime.ExitError' });
  expect(during).toMatchObject({ ok: false, errorType: 'ConcurrentExecution' });
  expect(afterTenMinutes).toMatchObject({ ok: false, errorType: 'ConcurrentExecution' });
  expect(afterLease.ok).toBe(true);
  expect(statements).toHaveLength(1);
});
