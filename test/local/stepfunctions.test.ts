import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand, ExecutionDoesNotExist, SendTaskHeartbeatCommand, SendTaskSuccessCommand, SFNClient, StopExecutionCommand,
  TaskDoesNotExist, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { LocalLambdaRuntime } from '../../local/lambda/runtime';
import { SfnCallbackServer, startSfnCallbackServer } from '../../local/servers/sfn-callbacks';
import { LocalStepFunctions, TraceEvent } from '../../local/stepfunctions/runner';

/**
 * A stand-in for the tasker: calls the task back (over the real awsJson1_0 protocol, with fetch) after a short
 * delay, fails, or never answers, as the event asks.
 */
const TASKER = `
'use strict';
const seen = new Set();
async function callback(operation, body) {
  await fetch(process.env.AWS_ENDPOINT_URL_SFN, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.' + operation },
    body: JSON.stringify(body),
  });
}
exports.handler = async (event) => {
  const first = !seen.has(event.executionArn);
  seen.add(event.executionArn);
  if (event.mode === 'throw') { const e = new Error('already running'); e.name = 'ConcurrentExecution'; throw e; }
  if (event.mode === 'flaky' && first) { const e = new Error('busy'); e.name = 'ActiveStatementsExceededException'; throw e; }
  const detail = { statementId: 'statement-1', state: event.mode === 'fail' ? 'FAILED' : 'FINISHED' };
  if (event.mode === 'succeed' || event.mode === 'flaky' || event.mode === 'slow') {
    const delay = event.mode === 'slow' ? 500 : 20;
    setTimeout(() => callback('SendTaskSuccess', { taskToken: event.taskToken, output: JSON.stringify({ detail }) }), delay);
  }
  if (event.mode === 'silent') await callback('SendTaskHeartbeat', { taskToken: event.taskToken });
  if (event.mode === 'fail') {
    setTimeout(() => callback('SendTaskFailure', { taskToken: event.taskToken, error: 'FAILED', cause: JSON.stringify({ detail }) }), 20);
  }
  return { started: true, echo: event.value ?? null };
};
`;

let codeDir: string;
let lambda: LocalLambdaRuntime;
let callbacks: SfnCallbackServer;
let sfn: LocalStepFunctions;
const trace: TraceEvent[] = [];
const FN = 'arn:aws:lambda:eu-west-1:123456789012:function:Tasker';

function callbackTask(mode: string, extra: Record<string, unknown> = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: { FunctionName: FN, Payload: { 'taskToken.$': '$$.Task.Token', 'executionArn.$': '$$.Execution.Id', mode } },
    ...extra,
  };
}

beforeAll(async () => {
  codeDir = mkdtempSync(join(tmpdir(), 'local-sfn-test-'));
  writeFileSync(join(codeDir, 'index.js'), TASKER);
  callbacks = await startSfnCallbackServer();
  lambda = new LocalLambdaRuntime();
  lambda.add({ name: 'Tasker', codeDir, environment: { AWS_ENDPOINT_URL_SFN: callbacks.endpoint }, maxEnvironments: 1 });
  sfn = new LocalStepFunctions({ lambda, callbacks, onTrace: (e) => trace.push(e) });
  callbacks.setExecutions({
    describe: (arn) => sfn.describeExecution(arn),
    stop: async (arn) => (await sfn.stopExecution(arn))?.stopDate,
  });
});

afterAll(async () => {
  await lambda.close();
  await callbacks.close();
  rmSync(codeDir, { recursive: true, force: true });
});

test('waitForTaskToken: the task gets a fresh token, and resumes with SendTaskSuccess output', async () => {
  sfn.register('Succeeds', { StartAt: 'Run', States: { Run: { ...callbackTask('succeed'), TimeoutSeconds: 30, End: true } } } as never);
  const { executionArn, result } = sfn.startExecution('Succeeds', {});
  const outcome = await result;
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { detail: { statementId: 'statement-1', state: 'FINISHED' } } });
  const callback = trace.find((e) => e.executionArn === executionArn && e.kind === 'TaskCallback');
  expect(callback).toMatchObject({ state: 'Run', detail: 'SendTaskSuccess', statementId: 'statement-1' });
  expect(executionArn).toMatch(/^arn:aws:states:eu-west-1:123456789012:execution:Succeeds:/);
  expect(callbacks.calls.filter((c) => c.answer === 'accepted')).toHaveLength(1);
});

test('SendTaskFailure fails the task with its error, which Catch matches; the cause is kept', async () => {
  sfn.register('Fails', {
    StartAt: 'Run',
    States: {
      Run: { ...callbackTask('fail'), TimeoutSeconds: 30, Catch: [{ ErrorEquals: ['FAILED'], ResultPath: '$.error', Next: 'Caught' }], End: true },
      Caught: { Type: 'Succeed' },
    },
  } as never);
  const outcome = await sfn.startExecution('Fails', {}).result;
  expect(outcome.status).toBe('SUCCEEDED');
  expect(outcome.output).toEqual({ error: { Error: 'FAILED', Cause: JSON.stringify({ detail: { statementId: 'statement-1', state: 'FAILED' } }) } });
});

test('TimeoutSeconds without a callback: States.Timeout, and the token is closed (a late callback is TaskTimedOut)', async () => {
  sfn.register('TimesOut', {
    StartAt: 'Run',
    States: {
      Run: { ...callbackTask('silent'), TimeoutSeconds: 1, Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Caught' }], End: true },
      Caught: { Type: 'Pass', End: true },
    },
  } as never);
  const { executionArn, result } = sfn.startExecution('TimesOut', {});
  const outcome = await result;
  expect(outcome.status).toBe('SUCCEEDED');
  expect((outcome.output as { error: { Error: string } }).error.Error).toBe('States.Timeout');
  expect(trace.filter((e) => e.executionArn === executionArn && e.kind === 'TaskTimedOut')).toHaveLength(1);
  // The function heartbeat with its token while the task waited; calling back now fails like it does on AWS.
  const token = callbacks.calls.filter((c) => c.operation === 'SendTaskHeartbeat').pop()!.taskToken;
  const client = new SFNClient({ endpoint: callbacks.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  try {
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
  } finally {
    client.destroy();
  }
});

test('a function error fails the task with the errorType (Catch on it) and the error payload as cause', async () => {
  sfn.register('Throws', {
    StartAt: 'Run',
    States: {
      Run: { ...callbackTask('throw'), TimeoutSeconds: 30, Catch: [{ ErrorEquals: ['ConcurrentExecution'], ResultPath: '$.error', Next: 'Caught' }], End: true },
      Caught: { Type: 'Succeed' },
    },
  } as never);
  const outcome = await sfn.startExecution('Throws', {}).result;
  const error = (outcome.output as { error: { Error: string; Cause: string } }).error;
  expect(error.Error).toBe('ConcurrentExecution');
  expect(JSON.parse(error.Cause)).toMatchObject({ errorType: 'ConcurrentExecution', errorMessage: 'already running' });
});

test('Retry on a function error, then success', async () => {
  sfn.register('Retries', {
    StartAt: 'Run',
    States: {
      Run: {
        ...callbackTask('flaky'),
        TimeoutSeconds: 30,
        Retry: [{ ErrorEquals: ['ActiveStatementsExceededException'], IntervalSeconds: 0, MaxAttempts: 3 }],
        End: true,
      },
    },
  } as never);
  const { executionArn, result } = sfn.startExecution('Retries', {});
  const retried = await result;
  expect(retried).toMatchObject({ status: 'SUCCEEDED', output: { detail: { state: 'FINISHED' } } });
  expect(trace.some((e) => e.executionArn === executionArn && e.kind === 'StateRetried')).toBe(true);
});

test('lambda:invoke wraps the result in Payload; a function ARN resource returns it as is', async () => {
  sfn.register('Invokes', {
    StartAt: 'Wrapped',
    States: {
      Wrapped: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: FN, Payload: { mode: 'none', value: 1 } }, ResultPath: '$.wrapped', Next: 'Direct' },
      Direct: { Type: 'Task', Resource: FN, Parameters: { mode: 'none', value: 2 }, ResultPath: '$.direct', End: true },
    },
  } as never);
  const outcome = await sfn.startExecution('Invokes', {}).result;
  expect(outcome.output).toMatchObject({
    wrapped: { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: { started: true, echo: 1 } },
    direct: { started: true, echo: 2 },
  });
});

test('startExecution.sync:2 runs a nested execution; its failure is States.TaskFailed with the execution as cause', async () => {
  sfn.register('Child', {
    StartAt: 'Check',
    States: {
      Check: { Type: 'Choice', Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Boom' }], Default: 'Done' },
      Boom: { Type: 'Fail', Error: 'ChildFailed', Cause: 'asked to fail' },
      Done: { Type: 'Pass', Result: { child: 'ok' }, End: true },
    },
  } as never);
  const childArn = sfn.arnOf('Child');
  sfn.register('Parent', {
    StartAt: 'RunOk',
    States: {
      RunOk: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: childArn, Input: { fail: false } }, ResultPath: '$.ok', Next: 'RunFail' },
      RunFail: {
        Type: 'Task',
        Resource: 'arn:aws:states:::states:startExecution.sync:2',
        Parameters: { StateMachineArn: childArn, Input: { fail: true } },
        Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failed', Next: 'End' }],
        End: true,
      },
      End: { Type: 'Succeed' },
    },
  } as never);
  const { executionArn, result } = sfn.startExecution('Parent', {});
  const outcome = await result;
  const output = outcome.output as { ok: { Status: string; Output: unknown }; failed: { Error: string; Cause: string } };
  expect(output.ok).toMatchObject({ Status: 'SUCCEEDED', Output: { child: 'ok' }, StateMachineArn: childArn });
  expect(output.failed.Error).toBe('States.TaskFailed');
  expect(JSON.parse(output.failed.Cause)).toMatchObject({ Status: 'FAILED', Error: 'ChildFailed', Cause: 'asked to fail' });
  const children = [...sfn.executions.values()].filter((e) => e.parentExecutionArn === executionArn);
  expect(children.map((c) => c.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
});

describe('DescribeExecution, StopExecution and heartbeats of closed tasks', () => {
  let client: SFNClient;
  beforeAll(() => {
    client = new SFNClient({ endpoint: callbacks.endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterAll(() => client.destroy());

  /** The token of the task waiting in `executionArn` (the silent tasker heartbeats with it once, after `from` calls). */
  async function waitingToken(executionArn: string, from: number): Promise<string> {
    for (let i = 0; i < 500; i++) {
      const call = callbacks.calls.slice(from).find((c) => c.operation === 'SendTaskHeartbeat');
      if (call && trace.some((e) => e.executionArn === executionArn && e.kind === 'TaskWaiting')) return call.taskToken;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('no waiting task');
  }

  test('RUNNING while a task waits (its heartbeat is accepted), then SUCCEEDED with output and stop date', async () => {
    // The callback comes 500 ms after the call: the first DescribeExecution is answered while the task waits.
    sfn.register('Described', { StartAt: 'Run', States: { Run: { ...callbackTask('slow'), TimeoutSeconds: 30, End: true } } } as never);
    const { executionArn, result } = sfn.startExecution('Described', { value: 1 });
    const running = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(running).toMatchObject({ executionArn, status: 'RUNNING', name: executionArn.split(':').pop(), input: '{"value":1}' });
    expect(running.stopDate).toBeUndefined();
    await result;
    const done = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(done).toMatchObject({ status: 'SUCCEEDED', stateMachineArn: sfn.arnOf('Described') });
    expect(JSON.parse(done.output!)).toMatchObject({ detail: { state: 'FINISHED' } });
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
  });

  test('FAILED and TIMED_OUT executions are described with their error', async () => {
    sfn.register('DescribedFailure', { StartAt: 'Run', States: { Run: { ...callbackTask('fail'), TimeoutSeconds: 30, End: true } } } as never);
    const failed = sfn.startExecution('DescribedFailure', {});
    await failed.result;
    expect(await client.send(new DescribeExecutionCommand({ executionArn: failed.executionArn }))).toMatchObject({ status: 'FAILED', error: 'FAILED' });
    sfn.register('DescribedTimeout', { StartAt: 'Run', TimeoutSeconds: 1, States: { Run: { ...callbackTask('silent'), End: true } } } as never);
    const timedOut = sfn.startExecution('DescribedTimeout', {});
    await timedOut.result;
    expect(await client.send(new DescribeExecutionCommand({ executionArn: timedOut.executionArn }))).toMatchObject({ status: 'TIMED_OUT' });
  });

  test('a stopped execution is ABORTED; the heartbeat of its waiting task then gets TaskTimedOut', async () => {
    sfn.register('Stopped', { StartAt: 'Run', States: { Run: { ...callbackTask('silent'), TimeoutSeconds: 60, End: true } } } as never);
    const from = callbacks.calls.length;
    const { executionArn, result } = sfn.startExecution('Stopped', {});
    const token = await waitingToken(executionArn, from);
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: token }))).resolves.toBeDefined();
    const stopped = await client.send(new StopExecutionCommand({ executionArn }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect((await result).status).toBe('ABORTED');
    expect(await client.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED' });
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toThrow(TaskTimedOut);
  });

  test('heartbeats: TaskTimedOut after the task timed out or was called back, TaskDoesNotExist for an unknown token', async () => {
    const answered = callbacks.issueToken();
    await client.send(new SendTaskSuccessCommand({ taskToken: answered, output: '{}' }));
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: answered }))).rejects.toThrow(TaskTimedOut);
    const timedOut = callbacks.issueToken();
    callbacks.closeToken(timedOut, 'timedOut');
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: timedOut }))).rejects.toThrow(TaskTimedOut);
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: `AQ${'x'.repeat(60)}` }))).rejects.toThrow(TaskDoesNotExist);
  });

  test('an unknown execution: ExecutionDoesNotExist', async () => {
    const executionArn = 'arn:aws:states:eu-west-1:123456789012:execution:Nope:missing';
    await expect(client.send(new DescribeExecutionCommand({ executionArn }))).rejects.toThrow(ExecutionDoesNotExist);
    await expect(client.send(new StopExecutionCommand({ executionArn }))).rejects.toThrow(ExecutionDoesNotExist);
  });
});

test('JSONata Task states: Arguments from $states.input and $states.context (a fresh task token), Output from $states.result', async () => {
  sfn.register('Jsonata', {
    StartAt: 'Wait',
    States: {
      Wait: {
        Type: 'Task',
        QueryLanguage: 'JSONata',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Arguments: {
          FunctionName: FN,
          Payload: { taskToken: '{% $states.context.Task.Token %}', executionArn: '{% $states.context.Execution.Id %}', mode: '{% $states.input.mode %}' },
        },
        Output: '{% $merge([$states.input, { "waited": $states.result.detail.state }]) %}',
        TimeoutSeconds: 30,
        Next: 'Direct',
      },
      Direct: {
        Type: 'Task',
        QueryLanguage: 'JSONata',
        Resource: FN,
        Arguments: { mode: 'none', value: '{% $states.input.waited & "!" %}', missing: '{% $states.input.nothing %}' },
        End: true,
      },
    },
  } as never);
  const { executionArn, result } = sfn.startExecution('Jsonata', { mode: 'succeed' });
  const outcome = await result;
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { started: true, echo: 'FINISHED!' } });
  expect(trace.find((e) => e.executionArn === executionArn && e.kind === 'TaskCallback')).toMatchObject({ state: 'Wait', detail: 'SendTaskSuccess' });
});
