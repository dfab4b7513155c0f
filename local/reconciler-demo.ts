/**
 * The reconciler in the local run: a statement whose completion event is lost on purpose is called back by a sweep,
 * and a statement whose task timed out while it ran is cancelled by a sweep. The sweep is what the construct's
 * schedule sends the starter function every few minutes: `{"action": "reconcile"}`.
 */
import { LocalCloud } from './cloud';
import { SynthesizedExample } from './example';
import { outcomeOf } from './lambda/runtime';
import { until } from './servers/sqs-queue';

/** What the reconciler scenarios report (the shape of the local run's scenario results). */
export interface ReconcilerResult {
  readonly name: string;
  readonly kind: 'reconciler';
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
  readonly durationMs: number;
}

const FINAL = ['FINISHED', 'FAILED', 'ABORTED'];

function result(name: string, expected: string, ok: boolean, actual: string, started: number): ReconcilerResult {
  return { name, kind: 'reconciler', expected, actual, ok, durationMs: Date.now() - started };
}

/** The local function name of the example app's first starter function. */
function starterOf(example: SynthesizedExample): string {
  const { app } = example;
  return example.template.ref(app.stack.getLogicalId(app.rsTask.lambdaFunction.node.defaultChild as never));
}

async function invokeStarter(cloud: LocalCloud, starter: string, event: unknown): Promise<any> {
  const outcome = outcomeOf(await cloud.lambda.invoke(starter, event));
  if (!outcome.ok) throw new Error(`${starter}: ${outcome.errorType}: ${outcome.errorMessage}`);
  return outcome.result;
}

/**
 * A statement whose event is lost: the sweep calls its task back, with the event the Data API would have sent. It
 * outlasts the start's fast-path wait (2 s by default), so only its event could have called back.
 */
async function lostEvent(cloud: LocalCloud, starter: string): Promise<ReconcilerResult> {
  const started = Date.now();
  const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:Reconciler:lost-event';
  const taskToken = cloud.callbacks.issueToken();
  cloud.redshift.setEventDrops((event) => event.detail.statementName.startsWith(`${executionArn}:`));
  let actual: string;
  let ok = false;
  try {
    const { Id } = await invokeStarter(cloud, starter, { sqlStatement: 'select pg_sleep(3), count(*) from pg_class', taskToken, executionArn });
    await until(() => FINAL.includes(cloud.redshift.statement(Id)?.status ?? ''), 30_000, 'the statement to end');
    await until(() => cloud.redshift.droppedEvents.some((e) => e.detail.statementId === Id), 5_000, 'its event to be lost');
    const beforeSweep = cloud.callbacks.callbackFor(taskToken);
    const sweep = await invokeStarter(cloud, starter, { action: 'reconcile', olderThanSeconds: 0 });
    const callback = await cloud.callbacks.waitForCallback(taskToken, 10_000);
    const event = callback.kind === 'success' ? JSON.parse(callback.output) : undefined;
    ok = beforeSweep === undefined && event?.detail?.statementId === Id && event.detail.state === 'FINISHED';
    actual = `event lost; task still waiting; the sweep (completed ${sweep.completed}) called it back: SendTaskSuccess, `
      + `detail.state ${event?.detail?.state}, ${event?.detail?.rows} row(s), event id ${event?.id}`;
  } catch (error) {
    actual = `error: ${(error as Error).message}`;
  } finally {
    cloud.redshift.setEventDrops(undefined);
  }
  return result('a lost completion event', 'the task is called back by the next sweep, once, with the event the Data API would have sent',
    ok, actual, started);
}

/** A statement whose task timed out while it ran: the sweep cancels it and calls nobody back. */
async function orphan(cloud: LocalCloud, starter: string): Promise<ReconcilerResult> {
  const started = Date.now();
  const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:Reconciler:orphan';
  const taskToken = cloud.callbacks.issueToken();
  let actual: string;
  let ok = false;
  try {
    const { Id } = await invokeStarter(cloud, starter, { sqlStatement: 'select pg_sleep(600)', taskToken, executionArn });
    // Step Functions closes the token when the task's TimeoutSeconds passes (the statement keeps running).
    cloud.callbacks.closeToken(taskToken, 'timedOut');
    const statusBefore = cloud.redshift.statement(Id)?.status;
    const sweep = await invokeStarter(cloud, starter, { action: 'reconcile', olderThanSeconds: 0 });
    await until(() => cloud.redshift.statement(Id)?.status === 'ABORTED', 30_000, 'the statement to be cancelled');
    await new Promise((resolve) => setTimeout(resolve, 500)); // its ABORTED event goes through the queue
    const calls = cloud.callbacks.callsFor(taskToken).filter((c) => c.operation !== 'SendTaskHeartbeat').length;
    ok = cloud.redshift.statement(Id)?.status === 'ABORTED' && calls === 0;
    actual = `task timed out while the statement was ${statusBefore}; the sweep (cancelled ${sweep.cancelled}) cancelled it: `
      + `ABORTED after ${((Date.now() - started) / 1000).toFixed(1)} s; callbacks to the closed task: ${calls}`;
  } catch (error) {
    actual = `error: ${(error as Error).message}`;
  }
  return result('an orphaned statement', 'the statement is cancelled by the next sweep (its caller no longer waits), and nobody is called back',
    ok, actual, started);
}

/** Both scenarios, one after the other. */
export async function reconcilerScenarios(cloud: LocalCloud, example: SynthesizedExample): Promise<ReconcilerResult[]> {
  const starter = starterOf(example);
  return [await lostEvent(cloud, starter), await orphan(cloud, starter)];
}
