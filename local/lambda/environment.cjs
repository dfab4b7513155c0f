// One Lambda execution environment: a Node.js process that loads a bundled handler once (module scope runs once,
// SDK clients are created once, as in Lambda) and runs one invocation at a time on request of the parent.
//
// Plain CommonJS on purpose: it runs in a bare `node` process, with only the environment the parent passes.
//
// IPC in:  { type: 'invoke', id, event, context: { awsRequestId, deadlineMs, functionName, invokedFunctionArn, memoryLimitInMB } }
// IPC out: { type: 'ready', initMs } | { type: 'result', id, payload, cpuMs }
//          | { type: 'error', id, error: { errorType, errorMessage, trace }, cpuMs } | { type: 'initError', error }
'use strict';

const path = require('node:path');

function serializeError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: String(error.stack || '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: typeof error === 'string' ? error : JSON.stringify(error), trace: [] };
}

let handler;
const initStarted = performance.now();
try {
  const [file, exportName] = splitHandler(process.env._HANDLER);
  const mod = require(path.join(process.env.LAMBDA_TASK_ROOT, file));
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${process.env._HANDLER} is undefined or not exported`);
  process.send({ type: 'ready', initMs: performance.now() - initStarted });
} catch (error) {
  const serialized = serializeError(error);
  if (!/is undefined or not exported/.test(serialized.errorMessage)) serialized.errorType = 'Runtime.ImportModuleError';
  else serialized.errorType = 'Runtime.HandlerNotFound';
  process.send({ type: 'initError', error: serialized });
}

function splitHandler(spec) {
  const dot = String(spec || '').lastIndexOf('.');
  if (dot <= 0) throw new Error(`Bad handler ${spec}: expected <file>.<export>`);
  return [spec.slice(0, dot), spec.slice(dot + 1)];
}

process.on('message', async (message) => {
  if (message.type !== 'invoke' || !handler) return;
  const { id, event, context: info } = message;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: info.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: info.invokedFunctionArn,
    memoryLimitInMB: String(info.memoryLimitInMB),
    awsRequestId: info.awsRequestId,
    logGroupName: `/aws/lambda/${info.functionName}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, info.deadlineMs - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  const cpu = process.cpuUsage();
  const cpuMs = () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / 1000;
  };
  try {
    const payload = await new Promise((resolve, reject) => {
      const returned = handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
      if (returned && typeof returned.then === 'function') returned.then(resolve, reject);
    });
    process.send({ type: 'result', id, payload: payload === undefined ? null : payload, cpuMs: cpuMs() });
  } catch (error) {
    process.send({ type: 'error', id, error: serializeError(error), cpuMs: cpuMs() });
  }
});

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`Unhandled promise rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
});
