/**
 * A crash (SIGKILL) at each step of each completion path: the function's process dies with one AWS call on the wire,
 * and whatever comes next — the SQS redelivery of the same message, another copy of the event, a sweep — finishes
 * the statement. Expected for every step: exactly one accepted callback per statement (a second try at a task that
 * was already called back is refused by Step Functions as closed, and counts for nothing), none lost.
 *
 * The crashed instances are separate processes; the instance that recovers runs in this process with a controllable
 * clock (Date only), so a dead attempt's lease can pass without waiting for it.
 */
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { outcomes } from './support/outcomes';
import { ResultLog } from './support/record';
import { Scenario } from './support/scenario';
import { LocalAws, startLocalAws } from '../../local/aws';
import { startHandlerFunction } from '../../local/lambda/handler';
import { outcomeOf } from '../../local/lambda/runtime';
import { StatusChangeEvent } from '../../local/servers/redshift-data';
import { until } from '../../local/servers/sqs-queue';

const RUNS = 5;
/** The crashed instances and the recovering one are the same function (a sweep reads the statements it started). */
const FUNCTION_NAME = 'crash-steps';
/** One identity (the function's role session) for every instance: only it may describe the statements it started. */
const IDENTITY = { AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME, AWS_SESSION_TOKEN: `local-session-${FUNCTION_NAME}` };
/** Past any lease a dead attempt can hold (its invocation's remaining time and a margin). */
const PAST_THE_LEASE_MS = 20 * 60_000;
const log = new ResultLog('crash-steps', 'A crash at each step of each path');
let aws: LocalAws;
let handler: Handler;

beforeAll(async () => {
  aws = await startLocalAws();
  jest.useFakeTimers({
    advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  handler = loadBundledHandler(aws.env({ ...EVENT_PATH, ...IDENTITY }));
});
afterAll(async () => {
  jest.useRealTimers();
  await aws?.close();
  log.write();
});

type Proxy = 'dynamodb' | 'sfn' | 'redshiftData';
/** Which call the instance dies on (held on the wire, then SIGKILL). */
interface CrashPoint {
  readonly proxy: Proxy;
  matches(operation: string, body: Record<string, any>): boolean;
}

const SQS = (body: string, messageId: string) => ({ Records: [{ messageId, receiptHandle: messageId, body, eventSource: 'aws:sqs' }] });
const isSettle = (operation: string, body: Record<string, any>) =>
  operation === 'UpdateItem' && String(body.UpdateExpression).startsWith('SET completedBy = :attempt');
const isRecord = (operation: string, body: Record<string, any>) =>
  operation === 'UpdateItem' && body.UpdateExpression === 'SET statementId = :sid';

/** Runs `payload` in a new instance (with `env`) that is killed when `point`'s call arrives. */
async function crashOn(point: CrashPoint, payload: unknown, env: Record<string, string>): Promise<string> {
  const instance = await startHandlerFunction(aws.env({ ...env, ...IDENTITY }), { name: FUNCTION_NAME });
  let hit = false;
  aws.proxies[point.proxy].setFaults(({ operation, body }) => {
    if (hit || !point.matches(operation, body)) return undefined;
    hit = true;
    instance.crash('SIGKILL');
    return { kind: 'hold' };
  });
  try {
    const outcome = outcomeOf(await instance.invoke(payload));
    return outcome.ok ? 'no crash' : outcome.errorType;
  } finally {
    aws.clearFaults();
    await instance.close();
  }
}

async function eventOf(statementId: string): Promise<StatusChangeEvent> {
  await until(() => aws.dataApi.events.some((e) => e.detail.statementId === statementId), 30_000, 'the event');
  return aws.dataApi.events.find((e) => e.detail.statementId === statementId)!;
}

const pastTheLease = () => jest.setSystemTime(Date.now() + PAST_THE_LEASE_MS);

interface Step {
  readonly path: string;
  readonly step: string;
  /** Runs one statement through the crash and the recovery; returns the crashed invocation's error type. */
  run(scenario: Scenario, i: number): Promise<string>;
}

const steps: Step[] = [{
  path: 'start',
  step: 'after ExecuteStatement, before its id is recorded',
  async run(scenario, i) {
    const taskToken = aws.sfn.issueToken();
    const executionArn = `${scenario.prefix}${i}`;
    const crashed = await crashOn({ proxy: 'dynamodb', matches: isRecord }, { sqlStatement: `select ${i}`, taskToken, executionArn }, EVENT_PATH);
    await until(() => aws.dataApi.statements().some((s) => s.statementName?.startsWith(executionArn)), 30_000, 'the statement');
    const statement = aws.dataApi.statements().find((s) => s.statementName?.startsWith(executionArn))!;
    scenario.started.push({ executionArn, taskToken, statementId: statement.id });
    // Its event finds no recorded id: the starter confirms it with the Data API by name.
    await invoke(handler, SQS(JSON.stringify(await eventOf(statement.id)), `m-${i}`));
    return crashed;
  },
}, {
  path: 'event',
  step: 'after the claim, before the callback',
  async run(scenario, i) {
    const [started] = await scenario.start(1);
    const body = JSON.stringify(await eventOf(started.statementId));
    const crashed = await crashOn({ proxy: 'sfn', matches: (operation) => operation.startsWith('SendTask') }, SQS(body, `m-${i}`), EVENT_PATH);
    // Another copy of the event is acknowledged (the dead attempt's message is its backup) ...
    await invoke(handler, SQS(body, `copy-${i}`));
    // ... and SQS delivers the dead attempt's message again once its visibility timeout (longer than the lease) passed.
    pastTheLease();
    await invoke(handler, SQS(body, `m-${i}`));
    return crashed;
  },
}, {
  path: 'event',
  step: 'after the callback, before the message is deleted',
  async run(scenario, i) {
    const [started] = await scenario.start(1);
    const body = JSON.stringify(await eventOf(started.statementId));
    await invoke(handler, SQS(body, `m-${i}`));
    // The function died before Lambda deleted the message: SQS delivers it again after its visibility timeout.
    pastTheLease();
    await invoke(handler, SQS(body, `m-${i}`));
    return 'Runtime.ExitError (simulated: the message is delivered again)';
  },
}, {
  path: 'fast path',
  step: 'after the claim, before the callback',
  async run(scenario, i) {
    const taskToken = aws.sfn.issueToken();
    const executionArn = `${scenario.prefix}${i}`;
    const crashed = await crashOn({ proxy: 'sfn', matches: (operation) => operation.startsWith('SendTask') },
      { sqlStatement: `select ${i}`, taskToken, executionArn }, { FAST_PATH_WAIT_SECONDS: '5' });
    const statement = aws.dataApi.statements().find((s) => s.statementName?.startsWith(executionArn))!;
    scenario.started.push({ executionArn, taskToken, statementId: statement.id });
    const body = JSON.stringify(await eventOf(statement.id));
    // The event finds the dead fast path's live claim: it is retried, and calls back once the lease has passed.
    const first = await invoke(handler, SQS(body, `m-${i}`));
    if (!first.ok || first.result.batchItemFailures.length !== 1) throw new Error('the event should wait for the live claim');
    pastTheLease();
    await invoke(handler, SQS(body, `m-${i}`));
    return crashed;
  },
}, {
  path: 'fast path',
  step: 'after the callback, before the settle',
  async run(scenario, i) {
    const taskToken = aws.sfn.issueToken();
    const executionArn = `${scenario.prefix}${i}`;
    const crashed = await crashOn({ proxy: 'dynamodb', matches: isSettle }, { sqlStatement: `select ${i}`, taskToken, executionArn }, { FAST_PATH_WAIT_SECONDS: '5' });
    const statement = aws.dataApi.statements().find((s) => s.statementName?.startsWith(executionArn))!;
    scenario.started.push({ executionArn, taskToken, statementId: statement.id });
    const body = JSON.stringify(await eventOf(statement.id));
    pastTheLease();
    await invoke(handler, SQS(body, `m-${i}`));
    return crashed;
  },
}, {
  path: 'sweep',
  step: 'after the claim, before the callback',
  async run(scenario) {
    // A statement whose event is lost, started and swept by the same function name.
    const [started] = await scenario.start(1);
    await eventOf(started.statementId);
    const crashed = await crashOn({ proxy: 'sfn', matches: (operation, body) => operation.startsWith('SendTask') && body.taskToken === started.taskToken },
      { action: 'reconcile', olderThanSeconds: 0 }, EVENT_PATH);
    pastTheLease();
    await invoke(handler, { action: 'reconcile', olderThanSeconds: 0 });
    return crashed;
  },
}, {
  path: 'sweep',
  step: 'after the callback, before the settle',
  async run(scenario, i) {
    const [started] = await scenario.start(1);
    await eventOf(started.statementId);
    const crashed = await crashOn({ proxy: 'dynamodb', matches: (operation, body) => isSettle(operation, body) && scenario.ownsItem(body) },
      { action: 'reconcile', olderThanSeconds: 0 }, EVENT_PATH);
    pastTheLease();
    await invoke(handler, { action: 'reconcile', olderThanSeconds: 0 });
    // Its event arrives late, after all: acknowledged.
    await invoke(handler, SQS(JSON.stringify(await eventOf(started.statementId)), `late-${i}`));
    return crashed;
  },
}];

test.each(steps.map((step, index) => [`${step.path}: ${step.step}`, index] as const))(
  'a crash on the %s → exactly one callback per statement', async (_, index) => {
    const step = steps[index];
    const scenario = new Scenario(aws, handler, `crash-step-${index}`);
    const errors: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Each run starts on the real clock (the crashed instances' clock), whatever the previous run skipped ahead.
      jest.setSystemTime(jest.getRealSystemTime());
      errors.push(await step.run(scenario, i));
    }
    const result = outcomes(aws, [], scenario.started);
    log.add({
      scenario: `Killed on the ${step.path} ${step.step} (${RUNS} runs)`,
      expected: 'one accepted callback per statement; none twice; none lost',
      measured: {
        runs: RUNS,
        crashed: errors.filter((e) => e.startsWith('Runtime.ExitError')).length,
        wrongCallbacks: 0,
        lost: result.lost,
        duplicates: result.calledBackTwice,
        calledBack: result.calledBack,
      },
    });
    expect(errors).toEqual(errors.map(() => expect.stringMatching(/^Runtime.ExitError/)));
    expect(result).toMatchObject({ statements: RUNS, calledBack: RUNS, calledBackTwice: 0, lost: 0 });
  }, 180_000);
