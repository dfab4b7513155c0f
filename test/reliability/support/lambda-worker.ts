/**
 * One simulated Lambda execution environment: a Node.js process that loads the bundled handler once (the INIT
 * phase, timed) and then runs one invocation at a time, received over IPC from `lambda-host.ts`. Run with
 * `node --import tsx lambda-worker.ts <path to index.js>`; the handler's configuration comes from the environment.
 */
import { performance } from 'node:perf_hooks';

interface InvokeMessage {
  readonly id: number;
  readonly event: unknown;
}

const initStarted = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bundle = require(process.argv[2]) as { handler: (event: unknown, context?: unknown) => Promise<unknown> };
const initMs = performance.now() - initStarted;

let requests = 0;

function context() {
  const requestId = `${process.pid}-${++requests}`;
  return {
    functionName: 'local-tasker',
    functionVersion: '$LATEST',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:local-tasker',
    logGroupName: '/aws/lambda/local-tasker',
    logStreamName: `worker-${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
  };
}

process.on('message', (message: InvokeMessage) => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const measured = () => {
    const used = process.cpuUsage(cpu);
    return { durationMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
  };
  bundle.handler(message.event, context()).then(
    (result) => process.send!({ id: message.id, ok: true, result, ...measured() }),
    (error: unknown) => process.send!({
      id: message.id,
      ok: false,
      errorType: error instanceof Error ? error.name : 'Error',
      errorMessage: error instanceof Error ? error.message : String(error),
      ...measured(),
    }),
  );
});

process.send!({ ready: true, initMs });
