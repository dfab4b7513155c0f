/**
 * Fault matrix: faults injected at the local endpoints (in front of DynamoDB, Step Functions, the Data API, and at
 * the CloudFormation response URL) while the bundled handler starts statements and processes their completion
 * events from a local SQS queue with a redrive policy (15 receives, then the dead-letter queue). Each scenario
 * asserts its expected outcome and that no event is lost: every statement is called back, or its task was already
 * closed, or its event is in the dead-letter queue.
 */
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { Outcomes, outcomes, seededRandom } from './support/outcomes';
import { ResultLog } from './support/record';
import { Scenario, deliveryStats, redrive } from './support/scenario';
import { LocalAws, startLocalAws } from '../../local/aws';
import { ResponseFault } from '../../local/servers/cfn-response';
import { ProxyFaultInjector } from '../../local/servers/fault-proxy';
import { LocalQueue } from '../../local/servers/sqs-queue';
import { cloudFormationEvent } from '../lambda/support';

const log = new ResultLog('faults', 'Fault matrix');
let aws: LocalAws;
let handler: Handler;

let cloudFormationRun: ReturnType<typeof cloudFormationOutages>;

beforeAll(async () => {
  aws = await startLocalAws();
  cloudFormationRun = cloudFormationOutages();
  cloudFormationRun.catch(() => undefined); // awaited (and reported) by its test
});
// Every scenario on a fresh instance of the handler: an outage drains the SDK clients' retry quota of a warm
// instance, which would change how the next scenario's faults are absorbed.
beforeEach(() => {
  handler = loadBundledHandler(aws.env(EVENT_PATH));
});
afterEach(() => aws.clearFaults());
afterAll(async () => {
  await cloudFormationRun?.catch(() => undefined);
  await aws?.close();
  log.write();
});

const NO_LOSS = (n: number): Outcomes => ({ statements: n, calledBack: n, calledBackTwice: 0, taskClosed: 0, deadLettered: 0, lost: 0 });

/** Starts `n` statements, then delivers their events with `faults` in place; returns the queue and outcomes. */
async function completionScenario(slug: string, n: number, faults: {
  dynamodb?: (scenario: Scenario) => ProxyFaultInjector;
  sfn?: (scenario: Scenario) => ProxyFaultInjector;
  token?: (i: number) => string;
  /** Runs after the statements ended and before their events are delivered. */
  beforeDelivery?: (scenario: Scenario) => void;
}) {
  const scenario = new Scenario(aws, handler, slug);
  await scenario.start(n, { token: faults.token });
  const events = await scenario.allEvents();
  faults.beforeDelivery?.(scenario);
  if (faults.dynamodb) aws.proxies.dynamodb.setFaults(faults.dynamodb(scenario));
  if (faults.sfn) aws.proxies.sfn.setFaults(faults.sfn(scenario));
  const faultsBefore = faultCount();
  const queue = await scenario.deliver(events.map((event) => JSON.stringify(event)));
  const injected = faultCount() - faultsBefore;
  aws.clearFaults();
  return { scenario, queue, injected, result: outcomes(aws, queue, scenario.started), stats: deliveryStats(queue) };
}

function faultCount(): number {
  return Object.values(aws.proxies).reduce((total, proxy) => total + proxy.calls.filter((call) => call.fault !== undefined).length, 0);
}

/** Items of a scenario in the tracking table. */
async function itemsOf(scenario: Scenario) {
  return (await aws.items()).filter((item) => String(item.id).startsWith(scenario.prefix));
}

/** Statements the Data API stand-in knows for a scenario. */
function statementsOf(scenario: Scenario) {
  return aws.dataApi.statements().filter((s) => (s.statementName ?? '').startsWith(scenario.prefix));
}

describe('DynamoDB', () => {
  test('throttling on half of the completion writes → every task called back once, nothing in the DLQ', async () => {
    const random = seededRandom(1);
    const { result, stats, injected } = await completionScenario('ddb-throttle', 20, {
      dynamodb: (s) => ({ operation, body }) => (operation !== 'PutItem' && s.ownsItem(body) && random() < 0.5
        ? { kind: 'error', name: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }
        : undefined),
    });
    log.add({
      scenario: 'DynamoDB throttling (ProvisionedThroughputExceededException) on 50% of the completion calls (seeded)',
      expected: 'every task called back exactly once; nothing lost, nothing in the DLQ',
      measured: { throttledCalls: injected, ...stats, ...result },
    });
    expect(injected).toBeGreaterThan(0);
    expect(result).toEqual(NO_LOSS(20));
  });

  test('ThrottlingException on every call for a while (longer than the SDK retries) → redelivered, called back once', async () => {
    let left = 60;
    const { result, stats, injected } = await completionScenario('ddb-burst', 20, {
      dynamodb: (s) => ({ body }) => (s.ownsItem(body) && left-- > 0 ? { kind: 'throttle' } : undefined),
    });
    log.add({
      scenario: 'DynamoDB ThrottlingException on every call for the first 60 completion calls (more than the SDK\'s 3 attempts)',
      expected: 'the throttled records are reported in batchItemFailures and redelivered; every task called back exactly once',
      measured: { throttledCalls: injected, ...stats, ...result },
    });
    expect(stats.retriedMessages).toBeGreaterThan(0);
    expect(result).toEqual(NO_LOSS(20));
  });

  test('5xx on half of the completion calls → every task called back once', async () => {
    const random = seededRandom(2);
    const { result, stats, injected } = await completionScenario('ddb-5xx', 20, {
      dynamodb: (s) => ({ body }) => (s.ownsItem(body) && random() < 0.5 ? { kind: 'serverError', status: 500 } : undefined),
    });
    log.add({
      scenario: 'DynamoDB 500 InternalServerError on 50% of the completion calls (seeded)',
      expected: 'every task called back exactly once; nothing lost',
      measured: { failedCalls: injected, ...stats, ...result },
    });
    expect(result).toEqual(NO_LOSS(20));
  });

  test('the claim is written but its answer is lost (5xx after the write) → the retry reclaims, called back once', async () => {
    const claimed = new Set<string>();
    const { result, stats, injected } = await completionScenario('ddb-lost-answer', 20, {
      dynamodb: (s) => ({ operation, body }) => {
        const key = `${body.Key?.id?.S}/${body.Key?.invocationId?.S}`;
        if (operation !== 'UpdateItem' || !s.ownsItem(body) || !String(body.UpdateExpression).includes('completedBy') || claimed.has(key)) return undefined;
        claimed.add(key);
        return { kind: 'serverError', status: 500, phase: 'after' };
      },
    });
    log.add({
      scenario: 'DynamoDB writes the completion claim but the answer is lost (500 after the write), once per statement',
      expected: 'the SDK retries the conditional claim (the same attempt, accepted); every task called back exactly once',
      measured: { lostAnswers: injected, ...stats, ...result },
    });
    expect(injected).toBe(20);
    expect(result).toEqual(NO_LOSS(20));
  });

  test('DynamoDB down during completion → every event in the DLQ after 15 receives; after recovery a redrive calls each back once', async () => {
    const { scenario, queue, result, stats } = await completionScenario('ddb-down', 10, {
      dynamodb: (s) => ({ body }) => (s.ownsItem(body) ? { kind: 'serverError', status: 503 } : undefined),
    });
    expect(result).toEqual({ statements: 10, calledBack: 0, calledBackTwice: 0, taskClosed: 0, deadLettered: 10, lost: 0 });
    const redriven = await redrive(handler, queue);
    const after = outcomes(aws, [queue, redriven], scenario.started);
    log.add({
      scenario: 'DynamoDB unavailable (503 on every call) while the events are processed; then it recovers and the DLQ is redriven',
      expected: 'every event reaches the DLQ after 15 receives, none is dropped; the redrive calls every task back exactly once',
      measured: {
        statements: result.statements,
        deadLetteredDuringOutage: result.deadLettered,
        calledBackDuringOutage: result.calledBack,
        maxReceiveCount: stats.maxReceiveCount,
        calledBackAfterRedrive: after.calledBack,
        calledBackTwice: after.calledBackTwice,
        lost: after.lost,
      },
    });
    expect(stats.maxReceiveCount).toBe(15);
    expect(after).toMatchObject({ calledBack: 10, calledBackTwice: 0, lost: 0 });
  });

  test('throttling on every registration write → the caller gets the throttling error, nothing is started', async () => {
    const scenario = new Scenario(aws, handler, 'ddb-start-throttle');
    aws.proxies.dynamodb.setFaults(({ operation, body }) => (operation === 'PutItem' && scenario.ownsItem(body)
      ? { kind: 'error', name: 'ProvisionedThroughputExceededException', message: 'Throughput exceeded' } : undefined));
    const answer = await invoke(handler, { sqlStatement: 'select 1', taskToken: aws.sfn.issueToken(), executionArn: `${scenario.prefix}0` });
    const attempts = aws.proxies.dynamodb.calls.filter((c) => c.operation === 'PutItem' && scenario.ownsItem(c.body)).length;
    aws.clearFaults();
    log.add({
      scenario: 'DynamoDB throttling on every registration PutItem of a start',
      expected: 'the start fails with ProvisionedThroughputExceededException (Step Functions can Retry it); no item, no statement',
      measured: { errorType: answer.ok ? 'none' : answer.errorType, putItemAttempts: attempts, items: (await itemsOf(scenario)).length, statements: statementsOf(scenario).length },
    });
    expect(answer).toMatchObject({ ok: false, errorType: 'ProvisionedThroughputExceededException' });
    expect(await itemsOf(scenario)).toHaveLength(0);
    expect(statementsOf(scenario)).toHaveLength(0);
  });

  test('the registration is written but its answer is lost → the retry finds its own registration; one statement, one item', async () => {
    const scenario = new Scenario(aws, handler, 'ddb-start-lost');
    let once = true;
    aws.proxies.dynamodb.setFaults(({ operation, body }) => {
      if (operation !== 'PutItem' || !scenario.ownsItem(body) || !once) return undefined;
      once = false;
      return { kind: 'serverError', status: 500, phase: 'after' };
    });
    await scenario.start(1);
    aws.clearFaults();
    const items = await itemsOf(scenario);
    const now = Date.now() / 1000;
    log.add({
      scenario: 'DynamoDB writes a registration but its answer is lost (500 after the PutItem)',
      expected: 'the SDK retry meets the conditional write; the start (with a task token) finds the registration its key names, and starts one statement; no orphan registration; the item carries a TTL',
      measured: {
        statementsStarted: statementsOf(scenario).length,
        registrationItems: items.length,
        maxTtlHoursFromNow: Math.round(Math.max(...items.map((item) => Number(item.TTL) - now)) / 3600),
      },
    });
    expect(statementsOf(scenario)).toHaveLength(1);
    expect(items).toHaveLength(1);
    for (const item of items) expect(Number(item.TTL) - now).toBeLessThanOrEqual((24 + 24) * 3600 + 60);
    // The statement's own callback still happens once.
    const queue = await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
    expect(outcomes(aws, queue, scenario.started)).toEqual(NO_LOSS(1));
  });
});

describe('Step Functions', () => {
  test('throttling on the first two attempts of every callback → called back once', async () => {
    const { result, stats, injected } = await completionScenario('sfn-throttle', 20, {
      sfn: (s) => ({ body }) => {
        if (!s.ownsToken(body)) return undefined;
        const previousAttempts = aws.proxies.sfn.calls.filter((c) => c.body.taskToken === body.taskToken).length;
        return previousAttempts < 2 ? { kind: 'throttle' } : undefined;
      },
    });
    log.add({
      scenario: 'Step Functions ThrottlingException on the first 2 attempts of every SendTaskSuccess',
      expected: 'absorbed by the SDK\'s retries (or SQS redelivery); every task called back exactly once',
      measured: { throttledCalls: injected, ...stats, ...result },
    });
    expect(injected).toBe(40);
    expect(result).toEqual(NO_LOSS(20));
  });

  test('throttling on every callback for a while (longer than the SDK retries) → redelivered, called back once', async () => {
    let left = 80;
    const { result, stats, injected } = await completionScenario('sfn-burst', 20, {
      sfn: (s) => ({ body }) => (s.ownsToken(body) && left-- > 0 ? { kind: 'throttle' } : undefined),
    });
    log.add({
      scenario: 'Step Functions ThrottlingException on every call for the first 80 callback calls',
      expected: 'the throttled records go back to the queue (their claim is given back) and are redelivered; every task called back exactly once',
      measured: { throttledCalls: injected, ...stats, ...result },
    });
    expect(stats.retriedMessages).toBeGreaterThan(0);
    expect(result).toEqual(NO_LOSS(20));
  });

  test.each([
    ['TaskTimedOut', 'the tasks timed out before the statements ended', 'closed'],
    ['TaskDoesNotExist', 'the tasks do not exist (e.g. their executions were deleted)', 'unknown'],
    ['InvalidToken', 'the task tokens are malformed', 'invalid'],
  ] as const)('%s → final: one call per task, acknowledged, never retried', async (answer, what, kind) => {
    const tokens: string[] = [];
    const { scenario, result, stats } = await completionScenario(`sfn-${answer}`, 10, {
      token: (i) => {
        const token = kind === 'closed' ? aws.sfn.issueToken()
          : kind === 'unknown' ? `AQ${Buffer.from(`unknown-task-token-${answer}-${i}-`.repeat(3)).toString('base64url')}`
            : `not a task token ${i}`;
        tokens.push(token);
        return token;
      },
      // The tasks time out while their statements run.
      beforeDelivery: () => {
        if (kind === 'closed') for (const token of tokens) aws.sfn.closeToken(token, 'timedOut');
      },
    });
    const calls = tokens.map((token) => aws.sfn.callsFor(token));
    log.add({
      scenario: `Step Functions answers ${answer}: ${what}`,
      expected: 'final: the record is acknowledged and the statement marked handled; exactly one callback attempt per task; nothing in the DLQ',
      measured: {
        callsPerTask: Math.max(...calls.map((c) => c.length)),
        answers: [...new Set(calls.flat().map((c) => c.answer))].join(','),
        ...stats,
        ...result,
        handledItems: (await itemsOf(scenario)).filter((item) => item.completedBy !== undefined).length,
      },
    });
    expect(calls.every((c) => c.length === 1 && c[0].answer === answer)).toBe(true);
    expect(result).toEqual({ statements: 10, calledBack: 0, calledBackTwice: 0, taskClosed: 10, deadLettered: 0, lost: 0 });
    expect(stats.retriedMessages).toBe(0);
    expect((await itemsOf(scenario)).filter((item) => item.completedBy !== undefined)).toHaveLength(10);
  });

  test('SendTaskSuccess is accepted but its answer is lost → the SDK retry gets TaskTimedOut, final; the task saw one outcome', async () => {
    const seen = new Set<string>();
    const { result, stats, injected } = await completionScenario('sfn-lost-answer', 20, {
      sfn: (s) => ({ body }) => {
        if (!s.ownsToken(body) || seen.has(body.taskToken)) return undefined;
        seen.add(body.taskToken);
        return { kind: 'serverError', status: 500, phase: 'after' };
      },
    });
    log.add({
      scenario: 'Step Functions accepts SendTaskSuccess but the answer is lost (500 after the call), once per task',
      expected: 'the retry is answered TaskTimedOut (the task is closed), which is final; every task got exactly one outcome',
      measured: { lostAnswers: injected, ...stats, ...result },
    });
    expect(result).toEqual(NO_LOSS(20));
  });

  test('Step Functions down during completion → every event in the DLQ after 15 receives; a redrive calls each back once', async () => {
    const { scenario, queue, result, stats } = await completionScenario('sfn-down', 10, {
      sfn: (s) => ({ body }) => (s.ownsToken(body) ? { kind: 'serverError', status: 500 } : undefined),
    });
    expect(result).toEqual({ statements: 10, calledBack: 0, calledBackTwice: 0, taskClosed: 0, deadLettered: 10, lost: 0 });
    const redriven = await redrive(handler, queue);
    const after = outcomes(aws, [queue, redriven], scenario.started);
    log.add({
      scenario: 'Step Functions unavailable (500 on every SendTaskSuccess) while the events are processed; then the DLQ is redriven',
      expected: 'every event reaches the DLQ after 15 receives (the claims are given back), none is dropped; the redrive calls every task back exactly once',
      measured: {
        statements: result.statements,
        deadLetteredDuringOutage: result.deadLettered,
        maxReceiveCount: stats.maxReceiveCount,
        calledBackAfterRedrive: after.calledBack,
        calledBackTwice: after.calledBackTwice,
        lost: after.lost,
      },
    });
    expect(after).toMatchObject({ calledBack: 10, calledBackTwice: 0, lost: 0 });
  });
});

describe('Data API (on start)', () => {
  test.each([
    ['ActiveStatementsExceededException', { kind: 'error', name: 'ActiveStatementsExceededException', message: 'Active statements exceeded the allowed quota.' }, 1],
    ['ValidationException', { kind: 'error', name: 'ValidationException', message: 'Cluster examplecluster not found.' }, 1],
    ['InternalServerException', { kind: 'serverError', status: 500 }, 3],
  ] as const)('%s → the caller gets it by name; no statement; a refusal leaves nothing, a server error keeps the registration', async (name, fault, expectedAttempts) => {
    const scenario = new Scenario(aws, handler, `data-${name}`);
    aws.proxies.redshiftData.setFaults(({ operation, body }) => (operation === 'ExecuteStatement' && String(body.StatementName).startsWith(scenario.prefix)
      ? fault as never : undefined));
    const answer = await invoke(handler, { sqlStatement: 'select 1', taskToken: aws.sfn.issueToken(), executionArn: `${scenario.prefix}0` });
    aws.clearFaults();
    const attempts = aws.proxies.redshiftData.calls.filter((c) => c.operation === 'ExecuteStatement' && String(c.body.StatementName).startsWith(scenario.prefix)).length;
    const items = await itemsOf(scenario);
    const refused = name !== 'InternalServerException';
    log.add({
      scenario: `Data API ${name === 'InternalServerException' ? '500 on every ExecuteStatement' : name} on start`,
      expected: `the start fails with ${name}; no statement; ${refused ? 'the registration is removed (a refusal)' : 'the registration is kept (a server error: the statement may run; a retry reuses it, a sweep fails it with StatementNotFound)'}`,
      measured: { errorType: answer.ok ? 'none' : answer.errorType, executeStatementAttempts: attempts, itemsLeft: items.length, statements: statementsOf(scenario).length },
    });
    expect(answer).toMatchObject({ ok: false, errorType: name });
    expect(attempts).toBe(expectedAttempts);
    expect(items).toHaveLength(refused ? 0 : 1);
    expect(statementsOf(scenario)).toHaveLength(0);
  });

  test('one 5xx → the SDK retries, one statement starts', async () => {
    const scenario = new Scenario(aws, handler, 'data-5xx-once');
    let once = true;
    aws.proxies.redshiftData.setFaults(({ operation, body }) => {
      if (operation !== 'ExecuteStatement' || !String(body.StatementName).startsWith(scenario.prefix) || !once) return undefined;
      once = false;
      return { kind: 'serverError', status: 503 };
    });
    await scenario.start(1);
    aws.clearFaults();
    const queue = await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
    const result = outcomes(aws, queue, scenario.started);
    log.add({
      scenario: 'Data API 503 on the first ExecuteStatement attempt',
      expected: 'the SDK retries; one statement, one item, called back once',
      measured: { statementsRun: statementsOf(scenario).length, items: (await itemsOf(scenario)).length, ...result },
    });
    expect(statementsOf(scenario)).toHaveLength(1);
    expect(result).toEqual(NO_LOSS(1));
  });

  test('the statement starts but the answer is lost → the SDK retry (same ClientToken) gets the same statement', async () => {
    const scenario = new Scenario(aws, handler, 'data-lost-answer');
    let once = true;
    aws.proxies.redshiftData.setFaults(({ operation, body }) => {
      if (operation !== 'ExecuteStatement' || !String(body.StatementName).startsWith(scenario.prefix) || !once) return undefined;
      once = false;
      return { kind: 'serverError', status: 500, phase: 'after' };
    });
    const [started] = await scenario.start(1);
    aws.clearFaults();
    const queue = await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
    const result = outcomes(aws, queue, scenario.started);
    log.add({
      scenario: 'Data API starts the statement but the answer is lost (500 after ExecuteStatement)',
      expected: 'the SDK retries with the same ClientToken and gets the same statement: the SQL runs once; called back once',
      measured: {
        executeStatementCalls: aws.proxies.redshiftData.calls
          .filter((c) => c.operation === 'ExecuteStatement' && String(c.body.StatementName).startsWith(scenario.prefix)).length,
        statementsRun: statementsOf(scenario).length,
        ...result,
      },
    });
    expect(statementsOf(scenario)).toHaveLength(1);
    expect(statementsOf(scenario)[0].id).toBe(started.statementId);
    expect(result).toEqual(NO_LOSS(1));
  });

  test('a singleton start refused with ActiveStatementsExceededException releases its lock; the retry starts it', async () => {
    const scenario = new Scenario(aws, handler, 'data-singleton');
    const sql = `select 'singleton ${Date.now()}'`;
    let once = true;
    aws.proxies.redshiftData.setFaults(({ operation, body }) => {
      if (operation !== 'ExecuteStatement' || !String(body.StatementName).startsWith(scenario.prefix) || !once) return undefined;
      once = false;
      return { kind: 'error', name: 'ActiveStatementsExceededException', message: 'Active statements exceeded the allowed quota.' };
    });
    const payload = { sqlStatement: sql, action: 'executeSingletonStatement', taskToken: aws.sfn.issueToken(), executionArn: `${scenario.prefix}0` };
    const first = await invoke(handler, payload);
    aws.clearFaults();
    const second = await invoke(handler, { ...payload, taskToken: aws.sfn.issueToken() });
    log.add({
      scenario: 'Data API ActiveStatementsExceededException on a singleton start, then the caller retries',
      expected: 'the first start fails by name and releases the singleton lock; the retry starts the statement',
      measured: { firstErrorType: first.ok ? 'none' : first.errorType, retryStarted: second.ok, statements: statementsOf(scenario).length },
    });
    expect(first).toMatchObject({ ok: false, errorType: 'ActiveStatementsExceededException' });
    expect(second.ok).toBe(true);
    expect(statementsOf(scenario)).toHaveLength(1);
  });

  test('a CloudFormation request whose start fails is answered FAILED at once; nothing left in the table', async () => {
    const url = aws.cfn.newResponseUrl();
    const logicalId = 'ReliabilityDataApiValidation';
    aws.proxies.redshiftData.setFaults(({ operation, body }) => (operation === 'ExecuteStatement' && String(body.StatementName).startsWith(`${logicalId}:`)
      ? { kind: 'error', name: 'ValidationException', message: 'Cannot process query string larger than 100kB' } : undefined));
    const answer = await invoke(handler, { ...cloudFormationEvent('Create', url, { LogicalResourceId: logicalId }), sqlStatement: 'select 1' });
    aws.clearFaults();
    const responses = aws.cfn.responsesFor(url);
    const items = (await aws.items()).filter((item) => item.id === logicalId);
    log.add({
      scenario: 'Data API ValidationException on the start of a CloudFormation custom resource',
      expected: 'the tasker PUTs FAILED (with the error) at once and returns normally; no item left',
      measured: { returned: answer.ok ? answer.result.Status : answer.errorType, responses: responses.length, status: responses[0]?.body?.Status ?? 'none', itemsLeft: items.length },
    });
    expect(answer).toMatchObject({ ok: true, result: { Status: 'FAILED' } });
    expect(responses).toHaveLength(1);
    expect(responses[0]).toMatchObject({ status: 200, problems: [], body: { Status: 'FAILED' } });
    expect(responses[0].body!.Reason).toMatch(/ValidationException/);
    expect(items).toHaveLength(0);
  });

  test('DescribeStatement failing during the completion of a FAILED statement → called back without the error text', async () => {
    const scenario = new Scenario(aws, handler, 'data-describe-5xx');
    await scenario.start(5, { sql: () => 'select * from no_such_table' });
    const events = await scenario.allEvents();
    const ids = new Set(scenario.started.map((s) => s.statementId));
    aws.proxies.redshiftData.setFaults(({ operation, body }) => (operation === 'DescribeStatement' && ids.has(body.Id)
      ? { kind: 'serverError', status: 500 } : undefined));
    const queue = await scenario.deliver(events.map((event) => JSON.stringify(event)));
    aws.clearFaults();
    const result = outcomes(aws, queue, scenario.started);
    const causes = scenario.started.map((s) => JSON.parse(aws.sfn.callbackFor(s.taskToken!)?.kind === 'failure'
      ? (aws.sfn.callbackFor(s.taskToken!) as { cause: string }).cause : '{}'));
    log.add({
      scenario: 'Data API 500 on DescribeStatement while completing FAILED statements',
      expected: 'SendTaskFailure (error FAILED) still sent once per task, without detail.error',
      measured: { failuresCalledBack: causes.filter((c) => c.detail?.state === 'FAILED').length, withErrorText: causes.filter((c) => c.detail?.error).length, ...result },
    });
    expect(result).toEqual(NO_LOSS(5));
    expect(causes.every((c) => c.detail?.state === 'FAILED' && c.detail.error === undefined)).toBe(true);
  });
});

describe('SQS at-least-once delivery', () => {
  test('the same message delivered twice at the same time → one accepted outcome per task; the second attempt is refused', async () => {
    // GIVEN statements for Step Functions tasks and for custom resources
    const scenario = new Scenario(aws, handler, 'same-message');
    await scenario.start(10);
    const urls = Array.from({ length: 3 }, () => aws.cfn.newResponseUrl());
    for (const [i, url] of urls.entries()) await scenario.startForStack(url, `ReliabilitySameMessage${i}`);
    const events = await scenario.allEvents();
    // WHEN the queue hands every batch to two invocations at once, with the same message ids (an SQS duplicate, or a
    // visibility timeout shorter than the function's run)
    const queue = new LocalQueue({ batchingWindowMs: 0, visibilityTimeoutMs: 60_000, duplicateDeliveries: true, maxConcurrency: 4 });
    queue.setConsumer((event) => handler(event));
    for (const event of events) queue.send(JSON.stringify(event));
    await queue.whenIdle();
    queue.close();
    // THEN
    const tasks = scenario.started.filter((s) => s.taskToken);
    const sfnCalls = tasks.map((s) => aws.sfn.callsFor(s.taskToken!));
    const puts = urls.map((url) => aws.cfn.responsesFor(url).filter((r) => r.status === 200));
    const result = outcomes(aws, [], tasks);
    log.add({
      scenario: 'SQS hands the same message (same message id) to two invocations at once: an at-least-once duplicate, or a visibility timeout shorter than the run',
      expected: 'both invocations may claim (the claim belongs to the message, so that a retry after a crash can call back); Step Functions accepts one outcome per task and refuses the other with TaskTimedOut; a custom resource may receive the identical response twice',
      measured: {
        tasks: tasks.length,
        acceptedPerTask: Math.max(...sfnCalls.map((calls) => calls.filter((c) => c.answer === 'accepted').length)),
        callsPerTaskMax: Math.max(...sfnCalls.map((calls) => calls.length)),
        refusedWithTaskTimedOut: sfnCalls.flat().filter((c) => c.answer === 'TaskTimedOut').length,
        customResources: urls.length,
        putsPerResourceMax: Math.max(...puts.map((p) => p.length)),
        distinctBodiesPerResourceMax: Math.max(...puts.map((p) => new Set(p.map((r) => r.rawBody)).size)),
        lost: result.lost,
      },
    });
    expect(result).toEqual(NO_LOSS(10));
    for (const calls of sfnCalls) expect(calls.filter((c) => c.answer === 'accepted')).toHaveLength(1);
    for (const p of puts) {
      expect(p.length).toBeGreaterThanOrEqual(1);
      expect(new Set(p.map((r) => r.rawBody)).size).toBe(1);
    }
  });
});

describe('malformed and foreign events', () => {
  test('a batch mixing them with real events → the real ones are called back, the rest acknowledged and ignored', async () => {
    const scenario = new Scenario(aws, handler, 'foreign');
    await scenario.start(5);
    const events = await scenario.allEvents();
    const foreign = [
      '{"source": "aws.redshift-data", ',
      'null',
      '[]',
      JSON.stringify({ ...events[0], source: 'aws.s3' }),
      JSON.stringify({ ...events[0], 'detail-type': 'Object Created' }),
      JSON.stringify({ ...events[0], detail: { ...events[0].detail, state: 'STARTED' } }),
      JSON.stringify({ ...events[0], detail: { ...events[0].detail, statementName: 'nightly-etl' } }),
      JSON.stringify({ ...events[0], detail: { ...events[0].detail, statementName: `${scenario.prefix}untracked:1764000000.123456789012` } }),
      JSON.stringify({ ...events[0], detail: { ...events[0].detail, statementId: '' } }),
      'x'.repeat(200_000),
    ];
    const successfulWrites = () => aws.proxies.dynamodb.calls
      .filter((c) => c.status === 200 && ['PutItem', 'UpdateItem', 'DeleteItem'].includes(c.operation) && scenario.ownsItem(c.body)).length;
    const writesBefore = successfulWrites();
    const queue = await scenario.deliver([...foreign, ...events.map((event) => JSON.stringify(event))], { maxConcurrency: 1 });
    const writes = successfulWrites() - writesBefore;
    const result = outcomes(aws, queue, scenario.started);
    log.add({
      scenario: 'Malformed and foreign records (bad JSON, null, an array, other sources and detail types, a non-final state, names of other tools, an untracked name of our shape, an empty statement id, 200 KB of garbage) mixed with 5 real events',
      expected: 'the 5 tasks are called back once; the 10 others are acknowledged (never retried, never in the DLQ) and change nothing',
      measured: {
        foreignRecords: foreign.length, ...deliveryStats(queue), successfulWrites: writes, items: (await itemsOf(scenario)).length, ...result,
      },
    });
    expect(result).toEqual(NO_LOSS(5));
    expect(deliveryStats(queue).retriedMessages).toBe(0);
    expect(queue.deadLetters).toHaveLength(0);
    expect(writes).toBe(5); // the 5 claims
    expect((await itemsOf(scenario)).length).toBe(5);
  });

  test('an SQS event with broken records (no messageId, no body, not objects) is answered with a partial-batch response', async () => {
    const answer = await invoke(handler, { Records: [null, 7, 'x', {}, { messageId: 'm-1' }, { body: '{}' }, { messageId: '', body: 'y' }] });
    log.add({
      scenario: 'An SQS event whose records are null, a number, a string, {}, without body, without messageId, with an empty messageId',
      expected: 'a { batchItemFailures: [] } answer, nothing thrown',
      measured: { returned: answer.ok ? JSON.stringify(answer.result) : answer.errorType },
    });
    expect(answer).toEqual({ ok: true, result: { batchItemFailures: [] } });
  });
});

/**
 * CloudFormation response-URL outages: four groups of custom resources, each with its own response-URL behaviour,
 * processed at once. The sender's retries sleep (0.5 s and 1.5 s between attempts, a 10 s timeout per PUT), so this
 * runs in the background while the other scenarios run, and is checked last.
 */
async function cloudFormationOutages() {
  const cfnHandler = loadBundledHandler(aws.env(EVENT_PATH));
  async function stackScenario(slug: string, count: number, fault: (attempt: number) => ResponseFault | undefined) {
    const scenario = new Scenario(aws, cfnHandler, slug);
    const urls = Array.from({ length: count }, () => aws.cfn.newResponseUrl());
    for (const [i, url] of urls.entries()) await scenario.startForStack(url, `Reliability${slug.replace(/[^A-Za-z0-9]/g, '')}${i}`);
    return { scenario, urls, events: await scenario.allEvents(), fault };
  }
  const groups = [
    await stackScenario('cfn-5xx-twice', 3, (attempt) => (attempt <= 2 ? { kind: 'serverError', status: 500 } : undefined)),
    await stackScenario('cfn-5xx-four', 3, (attempt) => (attempt <= 4 ? { kind: 'serverError', status: 503 } : undefined)),
    await stackScenario('cfn-down', 2, () => ({ kind: 'serverError', status: 500 })),
    await stackScenario('cfn-timeout', 1, (attempt) => (attempt === 1 ? { kind: 'delay', ms: 11_000 } : undefined)),
  ];
  aws.cfn.setFaults(({ url, attempt }) => groups.find((g) => g.urls.includes(url))?.fault(attempt));
  const queues = await Promise.all(groups.map((g) => g.scenario.deliver(g.events.map((event) => JSON.stringify(event)))));
  // The late answer to the timed-out PUT arrives 11 s after it was sent.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  aws.cfn.setFaults(undefined);
  return groups.map((g, i) => {
    const puts = g.urls.map((url) => aws.cfn.responsesFor(url));
    return {
      result: outcomes(aws, queues[i], g.scenario.started),
      stats: deliveryStats(queues[i]),
      putsPerResource: Math.max(...puts.map((p) => p.length)),
      accepted: puts.map((p) => p.filter((r) => r.status === 200)),
    };
  });
}

describe('CloudFormation response URL', () => {
  test('5xx answers and timeouts → delivered by the in-invocation retries or by SQS redelivery; a persistent outage goes to the DLQ', async () => {
    const measured = await cloudFormationRun;
    log.add({
      scenario: 'CloudFormation response URL answers 500 to the first 2 PUTs',
      expected: 'delivered by the third attempt within the same invocation; one receive',
      measured: { ...measured[0].stats, putsPerResource: measured[0].putsPerResource, ...measured[0].result },
    });
    log.add({
      scenario: 'CloudFormation response URL answers 503 to the first 4 PUTs',
      expected: 'the first receive fails after 3 attempts (record retried), the second delivers; one SUCCESS per resource',
      measured: { ...measured[1].stats, putsPerResource: measured[1].putsPerResource, ...measured[1].result },
    });
    log.add({
      scenario: 'CloudFormation response URL answers 500 to every PUT',
      expected: 'every event reaches the DLQ after 15 receives (3 PUT attempts each); none is dropped',
      measured: { ...measured[2].stats, putsPerResource: measured[2].putsPerResource, ...measured[2].result },
    });
    log.add({
      scenario: 'CloudFormation response URL does not answer the first PUT for 11 s (the sender times out after 10 s)',
      expected: 'the PUT is retried and accepted; the late first PUT carries the identical body',
      measured: {
        ...measured[3].stats,
        putsPerResource: measured[3].putsPerResource,
        ...measured[3].result,
        distinctBodiesAccepted: new Set(measured[3].accepted[0].map((r) => r.rawBody)).size,
      },
    });
    expect(measured[0].result).toEqual(NO_LOSS(3));
    expect(measured[0].stats.retriedMessages).toBe(0);
    expect(measured[1].result).toEqual(NO_LOSS(3));
    expect(measured[1].stats.maxReceiveCount).toBe(2);
    expect(measured[2].result).toEqual({ statements: 2, calledBack: 0, calledBackTwice: 0, taskClosed: 0, deadLettered: 2, lost: 0 });
    expect(measured[2].stats.maxReceiveCount).toBe(15);
    expect(measured[3].result.lost).toBe(0);
    expect(measured[3].result.calledBack).toBe(1);
    expect(new Set(measured[3].accepted[0].map((r) => r.rawBody)).size).toBe(1);
    for (const m of measured) for (const accepted of m.accepted) for (const response of accepted) expect(response.problems).toEqual([]);
  }, 60_000);
});

