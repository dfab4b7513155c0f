/**
 * Never lose, never orphan, never run twice: the reconciler sweep, the automatic cancel of orphans, idempotent starts
 * and the error text of failures in every topology — against the local stand-ins, with the bundled handler.
 *
 * - 1,000 statements, 10 % of their status-change events lost on purpose: the events that arrive call back 900 tasks,
 *   one sweep the other 100; every task exactly once, also when the lost events turn up late.
 * - 200 long statements, 100 of whose tasks time out while they run: one sweep cancels exactly those 100.
 * - A CloudFormation request past its service timeout: cancelled, not answered.
 * - 1,000 starts, each retried after the Data API accepted the first and the answer was lost: 1,000 statements.
 * - A failing statement in each topology (one function; a separate completer; a tasker sharing another's callback
 *   infrastructure, from a synthesized stack): Redshift's error text in every callback.
 * - Statements whose events were lost and which the Data API no longer knows (25 hours later): StatementNotFound.
 */
import { RedshiftDataClient, DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { Duration } from 'aws-cdk-lib';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { outcomes, shuffle } from './support/outcomes';
import { ResultLog } from './support/record';
import { Scenario } from './support/scenario';
import { startTopology } from './support/topology';
import { LocalAws, startLocalAws } from '../../local/aws';
import { startHandlerFunction } from '../../local/lambda/handler';
import { outcomeOf } from '../../local/lambda/runtime';
import { until } from '../../local/servers/sqs-queue';
import { SfnRedshiftTasker } from '../../src';
import { cloudFormationEvent } from '../lambda/support';

const FUNCTION_NAME = 'reliability-tasker';
const log = new ResultLog('reconcile', 'Reconciler, orphans, idempotent starts, error text');
let aws: LocalAws;
let handler: Handler;
/** Executions the Step Functions stand-in describes (`DescribeExecution`): RUNNING unless listed here. */
const endedExecutions = new Map<string, string>();

beforeAll(async () => {
  // The stand-in's clock reads Date at each call, so that the last scenario can age statements past 24 hours.
  aws = await startLocalAws({ dataApi: { maxActiveStatements: 2000, clock: () => Date.now() } });
  aws.sfn.setExecutions({
    describe: (executionArn) => ({ executionArn, status: endedExecutions.get(executionArn) ?? 'RUNNING' }),
    stop: async () => undefined,
  });
  handler = loadBundledHandler(aws.env({ ...EVENT_PATH, AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME }));
});
afterAll(async () => {
  await aws?.close();
  log.write();
});

const sweep = async (olderThanSeconds = 0) => {
  const answer = await invoke(handler, { action: 'reconcile', olderThanSeconds });
  if (!answer.ok) throw new Error(`sweep failed: ${answer.errorType}: ${answer.errorMessage}`);
  return answer.result as Record<string, number | boolean>;
};
const idsOf = (scenario: Scenario) => new Set(scenario.started.map((s) => s.statementId));
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('1,000 statements, 10 % of their events lost → 1,000 callbacks, each exactly once, the lost ones within one sweep', async () => {
  // GIVEN 1,000 statements, the events of 10 % of them (100, chosen with a fixed seed) lost
  const scenario = new Scenario(aws, handler, 'lost-events');
  const unlucky = new Set(shuffle(Array.from({ length: 1000 }, (_, i) => i), 20261124).slice(0, 100));
  aws.dataApi.setEventDrops((event) => {
    const index = new RegExp(`^${escapeRegExp(scenario.prefix)}(\\d+):`).exec(event.detail.statementName)?.[1];
    return index !== undefined && unlucky.has(Number(index));
  });
  await scenario.start(1000);
  const ids = idsOf(scenario);
  const settled = () => [...aws.dataApi.events, ...aws.dataApi.droppedEvents].filter((e) => ids.has(e.detail.statementId)).length;
  await until(() => settled() === ids.size, 120_000, 'every event sent or lost');
  aws.dataApi.setEventDrops(undefined);
  const arrived = aws.dataApi.events.filter((e) => ids.has(e.detail.statementId));
  const lost = aws.dataApi.droppedEvents.filter((e) => ids.has(e.detail.statementId));
  // ... the events that arrive are delivered through the queue
  const queue = await scenario.deliver(shuffle(arrived, 7).map((e) => JSON.stringify(e)));
  const byEvents = outcomes(aws, queue, scenario.started);

  // WHEN one sweep runs
  aws.resetCounts();
  const started = Date.now();
  const report = await sweep();
  const sweepMs = Date.now() - started;
  const calls = aws.counts();
  const afterSweep = outcomes(aws, queue, scenario.started);
  // ... and the lost events turn up late after all
  const late = await scenario.deliver(lost.map((e) => JSON.stringify(e)));
  const final = outcomes(aws, [queue, late], scenario.started);

  const reconciled = Number(report.completed);
  log.add({
    scenario: `1000 statements with a Step Functions callback; the events of ${lost.length} of them (10 %, seeded choice) lost; the others delivered through the queue, then one sweep, then the lost events delivered late`,
    expected: '1000 callbacks, each exactly once; one sweep examines only the statements still in flight (the lost ones) and calls each back; the late events call nobody back',
    measured: {
      statements: scenario.started.length,
      eventsLost: lost.length,
      calledBackByEvents: byEvents.calledBack,
      sweepExamined: Number(report.examined),
      sweepCompleted: reconciled,
      sweepIncomplete: Boolean(report.incomplete),
      sweepSeconds: Math.round(sweepMs / 100) / 10,
      sweepQuery: calls.dynamodb.Query ?? 0,
      sweepListStatements: calls.redshiftData.ListStatements ?? 0,
      sweepDescribeStatement: calls.redshiftData.DescribeStatement ?? 0,
      sweepUpdateItem: calls.dynamodb.UpdateItem ?? 0,
      sweepSendTaskSuccess: calls.sfn.SendTaskSuccess ?? 0,
      callbacks: final.calledBack,
      calledBackTwice: final.calledBackTwice,
      lost: final.lost,
    },
  });
  expect(lost.length).toBe(100);
  expect(byEvents.calledBack).toBe(1000 - lost.length);
  expect(report).toMatchObject({ examined: lost.length, completed: lost.length, failed: 0, incomplete: false });
  expect(afterSweep).toMatchObject({ calledBack: 1000, calledBackTwice: 0, lost: 0 });
  expect(final).toMatchObject({ statements: 1000, calledBack: 1000, calledBackTwice: 0, lost: 0, deadLettered: 0 });
  // Per reconciled statement: one DescribeStatement (its id was recorded at the start); no call for the statements
  // whose event came.
  expect(calls.redshiftData.ListStatements).toBeUndefined();
  expect(calls.redshiftData.DescribeStatement).toBe(reconciled);
  expect(calls.sfn.SendTaskSuccess).toBe(reconciled);
}, 300_000);

test('100 tasks time out while their statements run → the sweep cancels those 100 statements and no other', async () => {
  // GIVEN 200 long statements, each waited for by a task, and executions stopped for 10 more
  const scenario = new Scenario(aws, handler, 'orphans');
  await scenario.start(200, { sql: () => 'select pg_sleep(600)' });
  const stopped = await scenario.start(10, { sql: () => 'select pg_sleep(600)' });
  // A stopped execution closes its tasks: their tokens answer a heartbeat with TaskTimedOut.
  for (const s of stopped) {
    endedExecutions.set(s.executionArn, 'ABORTED');
    aws.sfn.closeToken(s.taskToken!, 'executionEnded');
  }
  // WHEN the tasks of the first 100 time out (Step Functions closes their tokens) and a sweep runs
  const closed = scenario.started.slice(0, 100);
  const waiting = scenario.started.slice(100, 200);
  for (const s of closed) aws.sfn.closeToken(s.taskToken!, 'timedOut');
  aws.resetCounts();
  const report = await sweep();
  const calls = aws.counts();
  const cancelled = new Set(aws.dataApi.statements().filter((s) => s.cancelRequestedAt !== undefined && s.statementName?.startsWith(scenario.prefix))
    .map((s) => s.id));
  const orphanIds = new Set([...closed, ...stopped].map((s) => s.statementId));
  // ... their ABORTED events arrive and are processed
  const gone = scenario.started.filter((s) => orphanIds.has(s.statementId));
  const goneIds = new Set(gone.map((s) => s.statementId));
  await until(() => aws.dataApi.events.filter((e) => goneIds.has(e.detail.statementId)).length === goneIds.size, 60_000, 'the ABORTED events');
  const queue = await scenario.deliver(aws.dataApi.events.filter((e) => goneIds.has(e.detail.statementId)).map((e) => JSON.stringify(e)));
  const callbacksToGone = gone.flatMap((s) => aws.sfn.callsFor(s.taskToken!)).filter((c) => c.operation !== 'SendTaskHeartbeat').length;
  const stillRunning = waiting.filter((s) => !['FINISHED', 'FAILED', 'ABORTED'].includes(aws.dataApi.statement(s.statementId)!.status)).length;
  // THEN (cleanup) the other 100 time out too: the next sweep cancels them
  for (const s of waiting) aws.sfn.closeToken(s.taskToken!, 'timedOut');
  const second = await sweep();

  log.add({
    scenario: '210 running statements (pg_sleep) with a Step Functions callback: the tasks of 100 time out (tokens closed), the executions of 10 are stopped (their tokens closed), 100 tasks still wait; one sweep',
    expected: 'CancelStatement for exactly the 110 statements nobody waits for, none for the 100 waiting tasks (still running); the cancelled statements\' ABORTED events call nobody back',
    measured: {
      running: scenario.started.length,
      tasksTimedOut: closed.length,
      executionsStopped: stopped.length,
      sweepCancelled: Number(report.cancelled),
      sweepStillRunning: Number(report.running),
      cancelStatementCalls: calls.redshiftData.CancelStatement ?? 0,
      cancelledWaitingTasks: waiting.filter((s) => cancelled.has(s.statementId)).length,
      describeExecutionCalls: calls.sfn.DescribeExecution ?? 0,
      heartbeatCalls: calls.sfn.SendTaskHeartbeat ?? 0,
      callbacksForCancelled: callbacksToGone,
      waitingStillRunning: stillRunning,
      deadLettered: queue.deadLetters.length,
      nextSweepCancelled: Number(second.cancelled),
    },
  });
  expect(report).toMatchObject({ examined: 210, cancelled: 110, running: 100, failed: 0 });
  expect(calls.redshiftData.CancelStatement).toBe(110);
  expect(cancelled).toEqual(orphanIds);
  // Only the task token tells whether a task waits (a token may belong to another workflow than the payload's
  // execution): one heartbeat per running statement, no DescribeExecution.
  expect(calls.sfn.DescribeExecution).toBeUndefined();
  expect(calls.sfn.SendTaskHeartbeat).toBe(210);
  expect(callbacksToGone).toBe(0);
  expect(stillRunning).toBe(100);
  expect(second).toMatchObject({ cancelled: 100 });
}, 300_000);

test('a CloudFormation request past its service timeout → its statement is cancelled and not answered', async () => {
  const responseUrl = aws.cfn.newResponseUrl();
  const waitingUrl = aws.cfn.newResponseUrl();
  const request = (url: string, logicalId: string, serviceTimeout: string) => ({
    ...cloudFormationEvent('Create', url, {
      LogicalResourceId: logicalId, RequestId: `request-${logicalId}`, ResourceProperties: { ServiceToken: 'x', ServiceTimeout: serviceTimeout },
    }),
    sqlStatement: 'select pg_sleep(600)',
  });
  const gaveUp = await invoke(handler, request(responseUrl, 'OrphanedTable', '1'));
  const waits = await invoke(handler, request(waitingUrl, 'WaitingTable', '3600'));
  if (!gaveUp.ok || !waits.ok) throw new Error('start failed');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const report = await sweep();
  await until(() => aws.dataApi.statement(gaveUp.result.Id)!.status === 'ABORTED', 30_000, 'the cancel');
  const event = aws.dataApi.events.find((e) => e.detail.statementId === gaveUp.result.Id);
  if (event) await new Scenario(aws, handler, 'cfn-late').deliver([JSON.stringify(event)]);
  await settle();
  const waitingStatus = aws.dataApi.statement(waits.result.Id)!.status;
  // Clean up: cancel the other one too, and complete it with its event (the stack is answered FAILED).
  await invoke(handler, { action: 'cancelStatement', statementId: waits.result.Id });
  await until(() => aws.dataApi.events.some((e) => e.detail.statementId === waits.result.Id), 30_000, 'the other ABORTED event');
  await new Scenario(aws, handler, 'cfn-cleanup').deliver([JSON.stringify(aws.dataApi.events.find((e) => e.detail.statementId === waits.result.Id))]);

  log.add({
    scenario: 'Two custom-resource statements running (pg_sleep): one whose request has a ServiceTimeout of 1 second, checked 1.5 s later; one with 3600 seconds',
    expected: 'the sweep cancels the statement CloudFormation no longer waits for, sends it no response, and leaves the other running',
    measured: {
      sweepCancelled: Number(report.cancelled),
      status: aws.dataApi.statement(gaveUp.result.Id)!.status,
      responsesToGivenUpRequest: aws.cfn.responsesFor(responseUrl).length,
      otherStatus: waitingStatus,
    },
  });
  expect(report).toMatchObject({ cancelled: 1, running: 1 });
  expect(aws.cfn.responsesFor(responseUrl)).toHaveLength(0);
  expect(waitingStatus).not.toBe('ABORTED');
}, 120_000);

test('1,000 starts, each retried after the Data API accepted the first and its answer was lost → 1,000 statements, 1,000 callbacks', async () => {
  // GIVEN a function whose SDK does not retry (each invocation tries once), and a Data API whose answer to the
  // first ExecuteStatement of every caller is lost after the statement started
  const pool = await startHandlerFunction(aws.env({ ...EVENT_PATH, AWS_MAX_ATTEMPTS: '1' }), { environments: 4, name: FUNCTION_NAME });
  const scenario = new Scenario(aws, handler, 'retried-starts');
  const seen = new Set<string>();
  aws.proxies.redshiftData.setFaults(({ operation, body }) => {
    if (operation !== 'ExecuteStatement' || !String(body.StatementName).startsWith(scenario.prefix) || seen.has(body.ClientToken)) return undefined;
    seen.add(body.ClientToken);
    return { kind: 'serverError', status: 500, phase: 'after' };
  });
  const first: string[] = [];
  const retried: Array<{ statementId: string; taskToken: string; executionArn: string }> = [];
  let next = 0;
  try {
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < 1000) {
        const i = next++;
        const payload = { sqlStatement: `insert into audit_log values (${i})`, taskToken: aws.sfn.issueToken(), executionArn: `${scenario.prefix}${i}` };
        // WHEN the caller's invocation fails and it invokes again with the same payload
        const attempt = outcomeOf(await pool.invoke(payload));
        first.push(attempt.ok ? 'ok' : attempt.errorType);
        const retry = outcomeOf(await pool.invoke(payload));
        if (!retry.ok) throw new Error(`retry ${i}: ${retry.errorType}: ${retry.errorMessage}`);
        retried.push({ statementId: retry.result.Id, taskToken: payload.taskToken, executionArn: payload.executionArn });
      }
    }));
  } finally {
    aws.clearFaults();
    await pool.close();
  }
  scenario.started.push(...retried);
  const statements = aws.dataApi.statements().filter((s) => s.statementName?.startsWith(scenario.prefix));
  const items = (await aws.items()).filter((item) => String(item.id).startsWith(scenario.prefix));
  const queue = await scenario.deliver((await scenario.allEvents(120_000)).map((e) => JSON.stringify(e)));
  const result = outcomes(aws, queue, scenario.started);

  log.add({
    scenario: '1000 starts with a Step Functions callback; the Data API starts each statement but the answer is lost (500 after ExecuteStatement, the SDK not retrying); the caller invokes again with the same payload',
    expected: 'the first invocations fail; the retries register the same statement names and send the same client tokens: 1000 statements, 1000 registrations, 1000 callbacks, none twice',
    measured: {
      starts: 1000,
      firstInvocationsFailed: first.filter((r) => r !== 'ok').length,
      firstInvocationError: [...new Set(first)].join(', '),
      executeStatementCalls: seen.size * 2,
      statements: statements.length,
      distinctStatementIds: new Set(retried.map((r) => r.statementId)).size,
      registrationItems: items.length,
      callbacks: result.calledBack,
      calledBackTwice: result.calledBackTwice,
      lost: result.lost,
    },
  });
  expect(first.every((r) => r === 'InternalServerException')).toBe(true);
  expect(statements).toHaveLength(1000);
  expect(new Set(retried.map((r) => r.statementId)).size).toBe(1000);
  expect(items).toHaveLength(1000);
  expect(result).toMatchObject({ statements: 1000, calledBack: 1000, calledBackTwice: 0, lost: 0 });
}, 300_000);

describe('error text in every topology', () => {
  test('a failing statement started by each tasker: the completer reads Redshift\'s error text as the starter', async () => {
    // GIVEN one function (Single), a separate completer (Split), and a tasker sharing Single's callback infrastructure
    const topology = await startTopology((stack) => {
      const cluster = new redshift.CfnCluster(stack, 'Cluster', {
        clusterType: 'single-node', nodeType: 'ra3.large', dbName: 'dev', masterUsername: 'admin', masterUserPassword: 'Local-only-1',
      });
      const target = { clusterIdentifier: cluster.ref, dbName: 'dev', dbUser: 'admin' };
      // The event path is under test: the completer, not the starter's fast path, completes the statements.
      const eventPath = { redshiftTargetProps: target, fastPathWaitTime: Duration.seconds(0) };
      const single = new SfnRedshiftTasker(stack, 'Single', eventPath);
      const split = new SfnRedshiftTasker(stack, 'Split', { ...eventPath, completerLambdaFunctionProps: {} });
      const shared = new SfnRedshiftTasker(stack, 'Shared', {
        ...eventPath, createCallbackInfra: false, existingTableObj: single.trackingTable,
      });
      return { single, split, shared };
    });
    const { cloud, starters } = topology;
    try {
      const measured: Record<string, boolean | string | number> = {};
      for (const [topologyName, id] of [['oneFunction', 'single'], ['separateCompleter', 'split'], ['sharedInfrastructure', 'shared']] as const) {
        const taskToken = cloud.callbacks.issueToken();
        const starter = cloud.lambda.get(starters[id])!;
        // WHEN its starter starts a statement that fails
        const started = outcomeOf(await cloud.lambda.invoke(starters[id], {
          sqlStatement: 'select * from no_such_table',
          taskToken,
          executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Topology:${id}`,
        }));
        if (!started.ok) throw new Error(`${id}: ${started.errorType}: ${started.errorMessage}`);
        const callback = await cloud.callbacks.waitForCallback(taskToken, 60_000);
        const detail = callback.kind === 'failure' ? JSON.parse(callback.cause).detail : {};
        measured[`${topologyName}ErrorText`] = typeof detail.error === 'string' && detail.error.includes('relation "no_such_table" does not exist');
        // The completer cannot describe it itself (the Data API allows only the starting identity): it invokes the
        // starter (which, in these topologies, is invoked for nothing else: one start, one describe).
        if (id !== 'single') {
          measured[`${topologyName}StarterInvocations`] = starter.invocations;
          const completerName = id === 'split'
            ? cloud.lambda.all().map((fn) => fn.name).find((name) => name.startsWith('SplitCompleterFunction'))!
            : starters.single;
          const asCompleter = new RedshiftDataClient({
            endpoint: cloud.redshift.endpoint,
            region: 'eu-west-1',
            credentials: { accessKeyId: completerName, secretAccessKey: 'x', sessionToken: `local-session-${completerName}` },
          });
          const direct = await asCompleter.send(new DescribeStatementCommand({ Id: started.result.Id })).then(() => 'allowed', (e: Error) => e.name);
          asCompleter.destroy();
          measured[`${topologyName}CompleterDescribingItself`] = direct;
        }
      }
      log.add({
        scenario: 'A synthesized stack run locally: a default tasker (one function), a tasker with a separate completer, and a tasker sharing the first one\'s callback infrastructure; each starts `select * from no_such_table` for a task',
        expected: 'every task fails with Redshift\'s error text in detail.error; a completer that did not start the statement may not describe it itself (AccessDeniedException) and asks the starter',
        measured,
      });
      expect(measured).toEqual({
        oneFunctionErrorText: true,
        separateCompleterErrorText: true,
        separateCompleterStarterInvocations: 2,
        separateCompleterCompleterDescribingItself: 'AccessDeniedException',
        sharedInfrastructureErrorText: true,
        sharedInfrastructureStarterInvocations: 2,
        sharedInfrastructureCompleterDescribingItself: 'AccessDeniedException',
      });
    } finally {
      await topology.close();
    }
  }, 300_000);
});

test('statements whose events were lost, 25 hours later (the Data API forgot them) → their tasks fail with StatementNotFound', async () => {
  // GIVEN 5 statements that ended, whose events were lost
  const scenario = new Scenario(aws, handler, 'expired');
  aws.dataApi.setEventDrops((event) => event.detail.statementName.startsWith(scenario.prefix));
  const ids = new Set((await scenario.start(5)).map((s) => s.statementId));
  await until(() => aws.dataApi.droppedEvents.filter((e) => ids.has(e.detail.statementId)).length === 5, 30_000, 'the lost events');
  aws.dataApi.setEventDrops(undefined);
  // WHEN no sweep ran for 25 hours (Date only is faked: the handler's and the stand-in's clocks move together)
  jest.useFakeTimers({
    advanceTimers: true,
    doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
  });
  let report: Record<string, number | boolean>;
  try {
    jest.setSystemTime(Date.now() + 25 * 3600 * 1000);
    report = await sweep();
  } finally {
    jest.useRealTimers();
  }
  const failures = scenario.started.map((s) => aws.sfn.callbackFor(s.taskToken!));
  const result = outcomes(aws, [], scenario.started);
  log.add({
    scenario: '5 statements with a Step Functions callback that ended but whose events were lost; the next sweep runs 25 hours later (the Data API keeps statements 24 hours)',
    expected: 'each task fails with the error StatementNotFound and a cause that says so; called back once',
    measured: {
      statements: 5,
      sweepNotFound: Number(report.notFound),
      failedWithStatementNotFound: failures.filter((f) => f?.kind === 'failure' && f.error === 'StatementNotFound').length,
      causeExplains: failures.every((f) => f?.kind === 'failure' && /Data API does not know statement/.test(JSON.parse(f.cause).detail.error)),
      calledBackTwice: result.calledBackTwice,
      lost: result.lost,
    },
  });
  expect(report).toMatchObject({ examined: 5, notFound: 5 });
  expect(failures.every((f) => f?.kind === 'failure' && f.error === 'StatementNotFound')).toBe(true);
  expect(result).toMatchObject({ calledBack: 5, calledBackTwice: 0, lost: 0 });
}, 120_000);
