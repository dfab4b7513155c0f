import * as path from 'node:path';
import { CfnParameter, Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { findResource, newStack, policyStatements } from './helpers';
import { SfnRedshiftTasker, SfnRedshiftTaskerProps } from '../../src';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };
const HANDLER = path.join(__dirname, '..', '..', 'assets', 'handler');

function synth(props: Partial<SfnRedshiftTaskerProps> = {}, stack = newStack()) {
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, ...props });
  return { stack, tasker, template: Template.fromStack(stack) };
}

const env = (template: Template, prefix = 'RSTaskStarterFunction') =>
  findResource(template, 'AWS::Lambda::Function', prefix).props.Environment.Variables;

function userFunction(stack: ReturnType<typeof newStack>, timeout?: Duration): lambda.Function {
  return new lambda.Function(stack, 'MyStarter', {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromAsset(HANDLER), timeout,
  });
}

describe('fastPathWaitTime', () => {
  test('defaults to a 2-second wait, set on the starter function', () => {
    expect(env(synth().template).FAST_PATH_WAIT_SECONDS).toBe('2');
  });

  test('is passed in whole seconds; 0 turns the fast path off', () => {
    expect(env(synth({ fastPathWaitTime: Duration.seconds(10) }).template).FAST_PATH_WAIT_SECONDS).toBe('10');
    expect(env(synth({ fastPathWaitTime: Duration.seconds(0) }).template).FAST_PATH_WAIT_SECONDS).toBe('0');
    expect(env(synth({ fastPathWaitTime: Duration.seconds(30) }).template).FAST_PATH_WAIT_SECONDS).toBe('30');
  });

  test('is set on the starter only, not on a separate completer', () => {
    const { template } = synth({ fastPathWaitTime: Duration.seconds(5), completerLambdaFunctionProps: { memorySize: 512 } });
    expect(env(template).FAST_PATH_WAIT_SECONDS).toBe('5');
    expect(env(template, 'RSTaskCompleterFunction').FAST_PATH_WAIT_SECONDS).toBeUndefined();
  });

  test('is added to an existing starter function', () => {
    const stack = newStack();
    synth({ starterExistingLambdaObj: userFunction(stack, Duration.seconds(60)), fastPathWaitTime: Duration.seconds(3) }, stack);
    expect(env(Template.fromStack(stack), 'MyStarter').FAST_PATH_WAIT_SECONDS).toBe('3');
  });

  test('a token is passed through unvalidated', () => {
    const stack = newStack();
    const wait = new CfnParameter(stack, 'Wait', { type: 'Number' });
    const { template } = synth({ fastPathWaitTime: Duration.seconds(wait.valueAsNumber) }, stack);
    expect(env(template).FAST_PATH_WAIT_SECONDS).toEqual({ Ref: 'Wait' });
  });

  test.each([
    ['more than 30 seconds', Duration.seconds(31), /got 31 seconds/],
    ['a fraction of a second', Duration.millis(1500), /got 1 second 500 millis/],
    ['minutes beyond the limit', Duration.minutes(1), /got 1 minute/],
  ])('refuses %s, saying what it accepts and how to turn it off', (_name, wait, got) => {
    expect(() => synth({ fastPathWaitTime: wait }))
      .toThrow(/fastPathWaitTime must be a whole number of seconds from 0 to 30 \(the Data API's WaitTimeSeconds\)/);
    expect(() => synth({ fastPathWaitTime: wait })).toThrow(got);
    expect(() => synth({ fastPathWaitTime: wait })).toThrow(/Duration.seconds\(0\) to turn the fast path off/);
  });

  test('refuses a starter timeout too short for the wait plus 5 seconds, with the timeout needed', () => {
    expect(() => synth({ fastPathWaitTime: Duration.seconds(20), starterLambdaFunctionProps: { timeout: Duration.seconds(24) } }))
      .toThrow(/starterLambdaFunctionProps.timeout is too short for fastPathWaitTime \(20 seconds\).*; got 24 seconds\. Set the timeout to at least 25 seconds/s);
    expect(() => synth({ enableReconciler: false, starterLambdaFunctionProps: { timeout: Duration.seconds(5) } }))
      .toThrow(/is too short for fastPathWaitTime \(2 seconds\).*; got 5 seconds\. .*at least 7 seconds, or lower fastPathWaitTime/s);
    expect(() => synth({ fastPathWaitTime: Duration.seconds(20), starterLambdaFunctionProps: { timeout: Duration.seconds(30) } })).not.toThrow();
  });

  test('a short timeout is fine without the fast path', () => {
    expect(() => synth({
      fastPathWaitTime: Duration.seconds(0), enableReconciler: false, starterLambdaFunctionProps: { timeout: Duration.seconds(3) },
    })).not.toThrow();
  });

  test('the starter may call back whenever the fast path is on, even with the reconciler off and a separate completer', () => {
    const { template } = synth({ enableReconciler: false, completerLambdaFunctionProps: {} });
    const actions = policyStatements(template, 'RSTaskStarterPolicy').flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']));
    const withoutFastPath = synth({ enableReconciler: false, completerLambdaFunctionProps: {}, fastPathWaitTime: Duration.seconds(0) }).template;
    expect(policyStatements(withoutFastPath, 'RSTaskStarterPolicy').flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('states:'))).toEqual([]);
  });

  test('refuses a starter timeout too short for reconciler sweeps, with the fix', () => {
    expect(() => synth({ fastPathWaitTime: Duration.seconds(0), starterLambdaFunctionProps: { timeout: Duration.seconds(10) } }))
      .toThrow(/starterLambdaFunctionProps.timeout is too short for reconciler sweeps.*; got 10 seconds\. Set the timeout to at least 30 seconds, or set enableReconciler: false/s);
  });

  test('refuses an existing starter whose timeout is too short', () => {
    const stack = newStack();
    const existing = userFunction(stack, Duration.seconds(4));
    expect(() => synth({ starterExistingLambdaObj: existing }, stack))
      .toThrow(/The existing starter function's timeout is too short for fastPathWaitTime \(2 seconds\).*; got 4 seconds/);
  });

  test('warns about an existing starter with Lambda\'s default timeout', () => {
    const stack = newStack();
    synth({ starterExistingLambdaObj: userFunction(stack) }, stack);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('sets no timeout'));
    expect(warnings.map((w) => String(w.entry.data))).toEqual([expect.stringMatching(
      /MyStarter sets no timeout \(Lambda's default is 3 seconds\).*Set the timeout to at least 7 seconds/)]);
  });

  test('FAST_PATH_WAIT_SECONDS is managed: a function option cannot set it', () => {
    expect(() => synth({ starterLambdaFunctionProps: { environment: { FAST_PATH_WAIT_SECONDS: '9' } } }))
      .toThrow(/must not set FAST_PATH_WAIT_SECONDS, which the construct manages for the handler; got FAST_PATH_WAIT_SECONDS: "9"\. Set it through fastPathWaitTime instead/);
  });
});
