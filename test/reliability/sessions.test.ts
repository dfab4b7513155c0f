/**
 * Statements in a Data API session, through the bundled handler and the local stand-ins (PostgreSQL: a connection per
 * session): the tracking, the reconciler, orphan cancel and idempotent start work as for any statement, and every
 * callback names the session.
 *
 * - A temporary table staged by one task is read by the next one, sent to the session by the id in the first callback.
 * - A lost event in a session: the sweep calls the task back, with the session's id.
 * - An orphan in a session (its task timed out): the sweep cancels it, and the session takes the next statement.
 * - A retried start while its statement keeps the session busy is the same statement; another start gets SessionBusy.
 * - A start in a closed session (its keep-alive passed) gets SessionNotAvailable; nothing is left in the table.
 */
import { EVENT_PATH, Handler, invoke, loadBundledHandler } from './support/in-process';
import { Scenario } from './support/scenario';
import { LocalAws, startLocalAws } from '../../local/aws';
import { LOCAL_TARGET } from '../../local/lambda/handler';
import { sleep } from '../../local/servers/http-util';
import { until } from '../../local/servers/sqs-queue';

const FUNCTION_NAME = 'session-tasker';
let aws: LocalAws;
let handler: Handler;
const DB = LOCAL_TARGET.database;

beforeAll(async () => {
  aws = await startLocalAws({ dataApi: { engine: 'postgres' } });
  handler = loadBundledHandler(aws.env({ ...EVENT_PATH, AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME }));
  await aws.dataApi.query(DB, 'create table session_results (answer int)');
  await aws.dataApi.query(DB, 'create or replace procedure hold(ms int) language plpgsql as $$ begin perform pg_sleep(ms / 1000.0); end $$');
});
afterAll(async () => {
  await aws?.close();
});

/** The output a task was called back with (the one accepted callback). */
function callbackOutput(taskToken: string): Record<string, any> {
  const accepted = aws.sfn.callsFor(taskToken).filter((call) => call.answer === 'accepted');
  expect(accepted).toHaveLength(1);
  return JSON.parse(accepted[0].output ?? 'null');
}

/** Starts statements and delivers their events through the queue; returns what each task was called back with. */
async function runToCallback(scenario: Scenario, sql: string, extra: Record<string, unknown>) {
  const [started] = await scenario.start(1, { sql: () => sql, extra });
  const events = await scenario.allEvents();
  await scenario.deliver(events.filter((e) => e.detail.statementId === started.statementId).map((e) => JSON.stringify(e)));
  return { started, output: callbackOutput(started.taskToken!) };
}

test('a temporary table staged by one task is read by the next, sent to the session from the first callback', async () => {
  const open = await runToCallback(new Scenario(aws, handler, 'session-open'), 'create temp table staged as select 41 + 1 as answer',
    { sessionKeepAliveSeconds: 60 });
  expect(open.output.detail.state).toBe('FINISHED');
  const sessionId = open.output.sessionId;
  expect(sessionId).toMatch(/^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}$/);

  const merge = await runToCallback(new Scenario(aws, handler, 'session-merge'), 'insert into session_results select answer from staged', { sessionId });
  expect(merge.output).toMatchObject({ sessionId, detail: { state: 'FINISHED', rows: 1 } });
  expect((await aws.dataApi.query(DB, 'select answer from session_results')).rows).toEqual([['42']]);
});

test('a lost event in a session: the sweep calls the task back once, with the session\'s id', async () => {
  const open = await runToCallback(new Scenario(aws, handler, 'lost-open'), 'select 1', { sessionKeepAliveSeconds: 60 });
  const scenario = new Scenario(aws, handler, 'lost-in-session');
  aws.dataApi.setEventDrops((event) => event.detail.statementName.startsWith(scenario.prefix));
  try {
    const [started] = await scenario.start(1, { extra: { sessionId: open.output.sessionId } });
    await until(() => aws.dataApi.droppedEvents.some((e) => e.detail.statementId === started.statementId), 10_000, 'the event to be lost');
    const answer = await invoke(handler, { action: 'reconcile', olderThanSeconds: 0 });
    expect(answer).toMatchObject({ ok: true, result: expect.objectContaining({ completed: 1 }) });
    expect(callbackOutput(started.taskToken!)).toMatchObject({ sessionId: open.output.sessionId, detail: { statementId: started.statementId } });
  } finally {
    aws.dataApi.setEventDrops(undefined);
  }
});

test('an orphan in a session is cancelled by the sweep, and the session takes the next statement', async () => {
  const open = await runToCallback(new Scenario(aws, handler, 'orphan-open'), 'select 1', { sessionKeepAliveSeconds: 60 });
  const { sessionId } = open.output;
  const scenario = new Scenario(aws, handler, 'orphan-in-session');
  const [orphan] = await scenario.start(1, { sql: () => 'call hold(30000)', extra: { sessionId } });
  await until(() => aws.dataApi.statement(orphan.statementId)?.status === 'STARTED', 10_000, 'the long statement to start');
  // The task times out while its statement runs: nobody waits any more.
  aws.sfn.closeToken(orphan.taskToken!, 'timedOut');

  const answer = await invoke(handler, { action: 'reconcile', olderThanSeconds: 0 });
  expect(answer).toMatchObject({ ok: true, result: expect.objectContaining({ cancelled: 1 }) });
  await until(() => aws.dataApi.statement(orphan.statementId)?.status === 'ABORTED', 10_000, 'the orphan to be aborted');

  const next = await runToCallback(new Scenario(aws, handler, 'after-orphan'), 'select 2', { sessionId });
  expect(next.output).toMatchObject({ sessionId, detail: { state: 'FINISHED' } });
});

test('a retried start while its statement keeps the session busy is the same statement; another start gets SessionBusy', async () => {
  const open = await runToCallback(new Scenario(aws, handler, 'busy-open'), 'select 1', { sessionKeepAliveSeconds: 60 });
  const { sessionId } = open.output;
  const taskToken = aws.sfn.issueToken();
  const request = { sqlStatement: 'call hold(1500)', sessionId, taskToken, executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:S:busy' };
  const first = await invoke(handler, request);
  if (!first.ok) throw new Error(`start failed: ${first.errorType}: ${first.errorMessage}`);
  const retried = await invoke(handler, request);
  expect(retried).toMatchObject({ ok: true, result: { Id: first.result.Id } });

  const other = await invoke(handler, { ...request, taskToken: aws.sfn.issueToken(), executionArn: `${request.executionArn}-other` });
  expect(other).toMatchObject({ ok: false, errorType: 'SessionBusy' });
  expect((await aws.items()).filter((item) => String(item.id).endsWith('-other'))).toEqual([]);
  expect(aws.dataApi.statements().filter((s) => s.sessionId === sessionId)).toHaveLength(2);
});

test('a start in a closed session gets SessionNotAvailable and leaves nothing behind', async () => {
  const open = await runToCallback(new Scenario(aws, handler, 'closing-open'), 'select 1', { sessionKeepAliveSeconds: 1 });
  await sleep(1500);
  const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:S:closed';
  const answer = await invoke(handler, { sqlStatement: 'select 1', sessionId: open.output.sessionId, taskToken: aws.sfn.issueToken(), executionArn });
  expect(answer).toMatchObject({ ok: false, errorType: 'SessionNotAvailable', errorMessage: expect.stringMatching(/is closed/) });
  expect((await aws.items()).filter((item) => item.id === executionArn)).toEqual([]);
});
