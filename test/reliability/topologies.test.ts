/**
 * The fast path's callback fails in every topology: the tasker's starter is also its completer, has a separate
 * completer, or shares another tasker's callback infrastructure — each with the reconciler on and off. Every
 * `SendTaskSuccess` is throttled while the statements start (the fast path gives its claims back), then Step Functions
 * recovers: each task is called back exactly once, by the status-change event, without any sweep.
 *
 * The taskers are synthesized and run from their template on the local stand-ins (`LocalCloud`: rules, queues,
 * event source mappings and functions as deployed).
 */
import { Duration } from 'aws-cdk-lib';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import { ResultLog } from './support/record';
import { startTopology, LocalTopology } from './support/topology';
import { outcomeOf } from '../../local/lambda/runtime';
import { until } from '../../local/servers/sqs-queue';
import { SfnRedshiftTasker } from '../../src';

const STATEMENTS = 5;
const log = new ResultLog('topologies', 'Fast-path callbacks failing in every topology');
let topology: LocalTopology;

beforeAll(async () => {
  topology = await startTopology((stack) => {
    const cluster = new redshift.CfnCluster(stack, 'Cluster', {
      clusterType: 'single-node', nodeType: 'ra3.large', dbName: 'dev', masterUsername: 'admin', masterUserPassword: 'Local-only-1',
    });
    const base = { redshiftTargetProps: { clusterIdentifier: cluster.ref, dbName: 'dev', dbUser: 'admin' }, fastPathWaitTime: Duration.seconds(5) };
    const single = new SfnRedshiftTasker(stack, 'Single', base);
    const singleNoReconciler = new SfnRedshiftTasker(stack, 'SingleNoReconciler', { ...base, enableReconciler: false });
    return {
      single,
      singleNoReconciler,
      split: new SfnRedshiftTasker(stack, 'Split', { ...base, completerLambdaFunctionProps: {} }),
      splitNoReconciler: new SfnRedshiftTasker(stack, 'SplitNoReconciler', { ...base, completerLambdaFunctionProps: {}, enableReconciler: false }),
      shared: new SfnRedshiftTasker(stack, 'Shared', { ...base, createCallbackInfra: false, existingTableObj: single.trackingTable }),
      sharedNoReconciler: new SfnRedshiftTasker(stack, 'SharedNoReconciler', {
        ...base, createCallbackInfra: false, existingTableObj: singleNoReconciler.trackingTable, enableReconciler: false,
      }),
    };
  });
}, 120_000);
afterAll(async () => {
  await topology?.close();
  log.write();
});

test.each([
  ['one function', 'single'], ['one function, no reconciler', 'singleNoReconciler'],
  ['a separate completer', 'split'], ['a separate completer, no reconciler', 'splitNoReconciler'],
  ['shared callback infrastructure', 'shared'], ['shared callback infrastructure, no reconciler', 'sharedNoReconciler'],
])('%s: every fast-path callback throttled → each task called back once by its event', async (name, id) => {
  const { cloud, starters } = topology;
  const tokens = Array.from({ length: STATEMENTS }, () => cloud.callbacks.issueToken());
  const throttled = new Set(tokens);
  cloud.callbacks.setFaults((call) => (throttled.has(String(call.taskToken)) ? { kind: 'throttle' } : undefined));
  try {
    for (const [i, taskToken] of tokens.entries()) {
      const started = outcomeOf(await cloud.lambda.invoke(starters[id], {
        sqlStatement: `select ${i}`, taskToken, executionArn: `arn:aws:states:eu-west-1:123456789012:execution:Topologies:${id}-${i}`,
      }));
      if (!started.ok) throw new Error(`${id}: ${started.errorType}: ${started.errorMessage}`);
    }
  } finally {
    throttled.clear();
  }
  const accepted = (token: string) => cloud.callbacks.callsFor(token).filter((call) => call.answer === 'accepted').length;
  await until(() => tokens.every((token) => accepted(token) >= 1), 60_000, `the callbacks of ${name}`);
  // Whatever is still on its way (another copy, a retry) has time to arrive and must not call back again.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const throttledCalls = tokens.reduce((sum, token) => sum + cloud.callbacks.callsFor(token).filter((c) => c.answer === 'fault').length, 0);
  const callbacks = tokens.map(accepted);
  log.add({
    scenario: `${name}: ${STATEMENTS} statements ending within the 5 s fast-path wait, every callback throttled while they start`,
    expected: 'each task called back exactly once, by its status-change event (no sweep runs)',
    measured: {
      statements: STATEMENTS,
      throttledCallbacks: throttledCalls,
      calledBack: callbacks.filter((c) => c >= 1).length,
      calledBackTwice: callbacks.filter((c) => c > 1).length,
    },
  });
  expect(throttledCalls).toBeGreaterThanOrEqual(STATEMENTS);
  expect(callbacks).toEqual(tokens.map(() => 1));
}, 120_000);
