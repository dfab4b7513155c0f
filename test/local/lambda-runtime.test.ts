import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { functionName, LocalLambdaRuntime } from '../../local/lambda/runtime';
import { Env } from '../../src/contract';

let codeDir: string;
let runtime: LocalLambdaRuntime;

const HANDLER = `
'use strict';
const loadedAt = Date.now();
let invocations = 0;
exports.handler = async (event, context) => {
  invocations += 1;
  if (event.throw) { const e = new Error(event.throw); e.name = event.name || 'Error'; throw e; }
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.exit) process.exit(3);
  console.log(JSON.stringify({ level: 'INFO', message: 'invoked', invocations }));
  return {
    user: process.env.DB_USER, pid: process.pid, loadedAt, invocations, region: process.env.AWS_REGION,
    key: process.env.AWS_ACCESS_KEY_ID, requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis() > 0,
    arn: context.invokedFunctionArn, home: process.env.HOME ?? null,
  };
};
exports.callbackStyle = (event, context, callback) => callback(null, { echoed: event });
`;

beforeAll(() => {
  codeDir = mkdtempSync(join(tmpdir(), 'local-lambda-test-'));
  writeFileSync(join(codeDir, 'index.js'), HANDLER);
  writeFileSync(join(codeDir, 'broken.js'), 'throw new Error("cannot load");');
  runtime = new LocalLambdaRuntime();
  runtime.add({ name: 'TaskerOne', codeDir, environment: { DB_USER: 'one' }, maxEnvironments: 2 });
  runtime.add({ name: 'TaskerTwo', codeDir, environment: { DB_USER: 'two' } });
  runtime.add({ name: 'Callback', codeDir, handler: 'index.callbackStyle' });
  runtime.add({ name: 'Slow', codeDir, timeoutSeconds: 1 });
  runtime.add({ name: 'Broken', codeDir, handler: 'broken.handler' });
});

afterAll(async () => {
  await runtime.close();
  rmSync(codeDir, { recursive: true, force: true });
});

test('each function has its own process and environment; module scope runs once per environment', async () => {
  const one = await runtime.invoke('TaskerOne', {});
  const again = await runtime.invoke('arn:aws:lambda:eu-west-1:123456789012:function:TaskerOne:$LATEST', {});
  const two = await runtime.invoke('TaskerTwo', {});
  expect(one.payload).toMatchObject({
    user: 'one',
    region: 'eu-west-1',
    key: 'TaskerOne',
    remaining: true,
    home: null,
    arn: 'arn:aws:lambda:eu-west-1:123456789012:function:TaskerOne',
  });
  expect(two.payload).toMatchObject({ user: 'two', key: 'TaskerTwo' });
  const [p1, p2, p3] = [one, again, two].map((r) => r.payload as { pid: number; loadedAt: number; invocations: number });
  expect(p2.pid).toBe(p1.pid);
  expect(p2.loadedAt).toBe(p1.loadedAt);
  expect(p2.invocations).toBe(2);
  expect(p3.pid).not.toBe(p1.pid);
  expect([one.coldStart, again.coldStart]).toEqual([true, false]);
  expect(runtime.get('TaskerOne')!.logs.some((line) => line.includes('"invoked"'))).toBe(true);
});

test('concurrent invocations start more environments, up to the limit', async () => {
  const results = await Promise.all([1, 2, 3].map(() => runtime.invoke('TaskerOne', { sleepMs: 200 })));
  const pids = new Set(results.map((r) => (r.payload as { pid: number }).pid));
  expect(pids.size).toBe(2);
});

test('errors are reported like Lambda: errorType, errorMessage, trace and function error Unhandled', async () => {
  const result = await runtime.invoke('TaskerOne', { throw: 'bad input', name: 'InvalidRequest' });
  expect(result.functionError).toBe('Unhandled');
  expect(result.payload).toMatchObject({ errorType: 'InvalidRequest', errorMessage: 'bad input' });
  expect((result.payload as { trace: string[] }).trace[0]).toBe('InvalidRequest: bad input');
});

test('callback-style handlers, timeouts, crashes and init errors', async () => {
  expect((await runtime.invoke('Callback', { a: 1 })).payload).toEqual({ echoed: { a: 1 } });
  const timedOut = await runtime.invoke('Slow', { sleepMs: 5000 });
  expect(timedOut).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Sandbox.Timedout' } });
  expect((timedOut.payload as { errorMessage: string }).errorMessage).toMatch(/Task timed out after 1.00 seconds/);
  expect((await runtime.invoke('Slow', {})).coldStart).toBe(true);
  const crashed = await runtime.invoke('TaskerTwo', { exit: true });
  expect(crashed.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
  const broken = await runtime.invoke('Broken', {});
  expect(broken).toMatchObject({ functionError: 'Unhandled', payload: { errorType: 'Runtime.ImportModuleError', errorMessage: 'cannot load' } });
});

test('the Lambda Invoke API serves the functions to the real SDK client', async () => {
  const endpoint = await runtime.startInvokeServer();
  const lambda = new LambdaClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  try {
    const ok = await lambda.send(new InvokeCommand({ FunctionName: 'TaskerTwo', Payload: Buffer.from('{}') }));
    expect(ok.StatusCode).toBe(200);
    expect(ok.ExecutedVersion).toBe('$LATEST');
    expect(JSON.parse(Buffer.from(ok.Payload!).toString())).toMatchObject({ user: 'two' });

    const failed = await lambda.send(new InvokeCommand({
      FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:TaskerTwo',
      Payload: Buffer.from(JSON.stringify({ throw: 'nope', name: 'ConcurrentExecution' })),
    }));
    expect(failed.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(failed.Payload!).toString())).toMatchObject({ errorType: 'ConcurrentExecution', errorMessage: 'nope' });

    const event = await lambda.send(new InvokeCommand({ FunctionName: 'TaskerTwo', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(event.StatusCode).toBe(202);

    const missing = await lambda.send(new InvokeCommand({ FunctionName: 'Nope', Payload: Buffer.from('{}') })).catch((e) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.message).toBe('Function not found: arn:aws:lambda:eu-west-1:123456789012:function:Nope');
  } finally {
    lambda.destroy();
  }
});

test('function names from names, ARNs and partial ARNs', () => {
  expect(functionName('fn')).toBe('fn');
  expect(functionName('arn:aws:lambda:eu-west-1:123456789012:function:fn:$LATEST')).toBe('fn');
  expect(functionName('123456789012:function:fn')).toBe('fn');
  expect(functionName('arn:aws:states:eu-west-1:1:stateMachine:x')).toBeUndefined();
});

test('the bundled handler loads as Lambda would and reports bad configuration as ConfigurationError', async () => {
  const bundled = new LocalLambdaRuntime();
  bundled.add({ name: 'Bundled', codeDir: join(__dirname, '..', '..', 'assets', 'handler'), environment: { [Env.TABLE_NAME]: 'table', [Env.LOG_LEVEL]: 'SILENT' } });
  try {
    const result = await bundled.invoke('Bundled', { sqlStatement: 'select 1' });
    expect(result.functionError).toBe('Unhandled');
    expect(result.payload).toMatchObject({ errorType: 'ConfigurationError' });
  } finally {
    await bundled.close();
  }
});
