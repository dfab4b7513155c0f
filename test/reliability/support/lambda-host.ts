/**
 * Runs the bundled handler (`assets/handler/index.js`) the way Lambda does: each "instance" is a separate Node.js
 * process that loads the bundle once and handles one invocation at a time. A pool of instances is what an event
 * source mapping or a burst of synchronous invokes scales to.
 */
import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
/** The bundled handler, as the construct deploys it. */
export const BUNDLE = join(ROOT, 'assets', 'handler', 'index.js');
const WORKER = join(__dirname, 'lambda-worker.ts');

/**
 * What an invocation returned: the handler's result, or its error as Lambda reports it (`errorType` = name), with
 * its duration and the CPU time the instance used for it.
 */
export type InvokeResult =
  | { readonly ok: true; readonly result: any; readonly durationMs: number; readonly cpuMs: number }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string; readonly durationMs: number; readonly cpuMs: number };

/** The handler's configuration for the local endpoints (names from the contract's `Env`, SDK endpoint variables). */
export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly sfn: string;
  readonly redshiftData: string;
}

export function handlerEnv(endpoints: LocalEndpoints, tableName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DDB_TABLE_NAME: tableName,
    CLUSTER_IDENTIFIER: 'examplecluster',
    DATABASE: 'dev',
    DB_USER: 'admin',
    TTL: '1',
    LOG_LEVEL: 'SILENT',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIALOCALTASKER',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    AWS_ENDPOINT_URL_REDSHIFT_DATA: endpoints.redshiftData,
    // Anything not pointed at a local server goes to a closed loopback port, never to AWS.
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

export interface LambdaInstance {
  readonly pid: number;
  /** Milliseconds the bundle took to load in this instance (module-scope code: config, SDK clients). */
  readonly initMs: number;
  readonly busy: boolean;
  invoke(event: unknown): Promise<InvokeResult>;
  /** Kills the process (a crash: pending invocations end with `Runtime.ExitError`). */
  kill(signal?: NodeJS.Signals): void;
  close(): Promise<void>;
}

function assertBundle(): void {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} does not exist: run "npx projen bundle:lambda" first.`);
}

/** Starts one instance; resolves once the bundle is loaded. */
export function startLambdaInstance(env: Record<string, string>): Promise<LambdaInstance> {
  assertBundle();
  const child: ChildProcess = fork(WORKER, [BUNDLE], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (result: InvokeResult) => void>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    for (const settle of pending.values()) {
      settle({ ok: false, errorType: 'Runtime.ExitError', errorMessage: 'The process exited before the invocation completed', durationMs: 0, cpuMs: 0 });
    }
    pending.clear();
    resolve();
  }));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    const onReady = (message: any) => {
      if (!message?.ready) return;
      child.off('message', onReady);
      child.on('message', (reply: any) => {
        const settle = pending.get(reply.id);
        if (!settle) return;
        pending.delete(reply.id);
        settle(reply.ok
          ? { ok: true, result: reply.result, durationMs: reply.durationMs, cpuMs: reply.cpuMs }
          : { ok: false, errorType: reply.errorType, errorMessage: reply.errorMessage, durationMs: reply.durationMs, cpuMs: reply.cpuMs });
      });
      resolve({
        pid: child.pid!,
        initMs: message.initMs,
        get busy() { return pending.size > 0; },
        invoke(event) {
          if (exited) {
            return Promise.resolve({ ok: false, errorType: 'Runtime.ExitError', errorMessage: 'The process has exited', durationMs: 0, cpuMs: 0 } as const);
          }
          const id = ++nextId;
          return new Promise<InvokeResult>((settle) => {
            pending.set(id, settle);
            child.send({ id, event });
          });
        },
        kill(signal = 'SIGKILL') {
          child.kill(signal);
        },
        async close() {
          if (!exited) child.kill('SIGTERM');
          await exit;
        },
      });
    };
    child.on('message', onReady);
    child.once('exit', (code) => reject(new Error(`The Lambda worker exited during INIT (code ${code})`)));
  });
}

/** A fixed number of instances; an invocation goes to a free one or waits for one (at most `size` run at once). */
export interface LambdaPool {
  readonly instances: readonly LambdaInstance[];
  invoke(event: unknown): Promise<InvokeResult>;
  close(): Promise<void>;
}

export async function startLambdaPool(size: number, env: Record<string, string>): Promise<LambdaPool> {
  const instances = await Promise.all(Array.from({ length: size }, () => startLambdaInstance(env)));
  const free = [...instances];
  const waiting: Array<(instance: LambdaInstance) => void> = [];
  const acquire = () => new Promise<LambdaInstance>((resolve) => {
    const instance = free.shift();
    if (instance) resolve(instance);
    else waiting.push(resolve);
  });
  const release = (instance: LambdaInstance) => {
    const next = waiting.shift();
    if (next) next(instance);
    else free.push(instance);
  };
  return {
    instances,
    async invoke(event) {
      const instance = await acquire();
      try {
        return await instance.invoke(event);
      } finally {
        release(instance);
      }
    },
    async close() {
      await Promise.all(instances.map((instance) => instance.close()));
    },
  };
}
