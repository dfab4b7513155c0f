/**
 * One Lambda function run locally from its bundled code.
 *
 * Each execution environment is a child process (`environment.cjs`) with only the environment Lambda would give it —
 * its variables, region, dummy credentials, `AWS_ENDPOINT_URL_*` pointing at the local stand-ins — so two functions
 * with different configuration never share a module instance, and SDK clients are created once per environment like
 * in Lambda. An environment runs one invocation at a time; concurrent invocations start more environments (cold
 * starts) up to `maxEnvironments`, later ones wait for a free one. Errors come back as Lambda reports them
 * (`errorType`, `errorMessage`, `trace`, function error `Unhandled`); an invocation that outlives the function's
 * timeout is stopped (`Sandbox.Timedout`) and its environment replaced; an environment that dies mid-invocation
 * (`crash()`) ends it with `Runtime.ExitError`.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { deferred, Deferred } from '../servers/http-util';

const ENVIRONMENT_FILE = join(__dirname, 'environment.cjs');

/** What Lambda returns for an invocation, with the local measurements. */
export interface InvokeResult {
  /** `Unhandled` when the function threw (the payload is then the serialized error). */
  readonly functionError?: 'Unhandled';
  /** The function's return value, or `{ errorType, errorMessage, trace }`. */
  readonly payload: unknown;
  /** Wall time from the invoke call to its answer (a cold start's INIT included), ms. */
  readonly durationMs: number;
  /** CPU time the environment used for the handler call, ms (0 when it did not answer). */
  readonly cpuMs: number;
  readonly coldStart: boolean;
  readonly requestId: string;
}

export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

/** An invocation's result as a caller reads it: the value, or the Lambda error type and message. */
export type InvokeOutcome =
  | { readonly ok: true; readonly result: any }
  | { readonly ok: false; readonly errorType: string; readonly errorMessage: string };

/** Reads an `InvokeResult` as an `InvokeOutcome`. */
export function outcomeOf(result: InvokeResult): InvokeOutcome {
  if (!result.functionError) return { ok: true, result: result.payload };
  const error = result.payload as Partial<LambdaErrorPayload> | null;
  return { ok: false, errorType: error?.errorType ?? 'Error', errorMessage: error?.errorMessage ?? '' };
}

export interface LocalFunctionProps {
  /** Function name (the last part of its ARN). */
  readonly name: string;
  /** Directory with the bundled code (Lambda's `LAMBDA_TASK_ROOT`). */
  readonly codeDir: string;
  /** `<file>.<export>`. @default 'index.handler' */
  readonly handler?: string;
  /** Function environment variables. */
  readonly environment?: Record<string, string>;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** @default 128 */
  readonly memoryMb?: number;
  /** @default 'eu-west-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** Access key id the function's role signs with (the local stand-ins treat it as the role). @default the name */
  readonly accessKeyId?: string;
  /** Execution environments at most (Lambda's concurrency). @default 4 */
  readonly maxEnvironments?: number;
  /** Receives every line the function logs (stdout and stderr). */
  readonly onLog?: (line: string, fn: string) => void;
  /** Keep the logged lines in `logs`. @default true */
  readonly keepLogs?: boolean;
}

interface Environment {
  readonly child: ChildProcess;
  readonly ready: Deferred<void>;
  busy: boolean;
  /** Milliseconds the handler module took to load (INIT). */
  initMs?: number;
  /** The handler module failed to load (reported on the invocation, like Lambda). */
  initError?: LambdaErrorPayload;
  pending?: { id: string; resolve: (m: ChildMessage) => void };
}

type ChildMessage =
  | { type: 'ready'; initMs: number }
  | { type: 'initError'; error: LambdaErrorPayload }
  | { type: 'result'; id: string; payload: unknown; cpuMs: number }
  | { type: 'error'; id: string; error: LambdaErrorPayload; cpuMs: number };

/** One function: a pool of execution environments running its bundled handler. */
export class LocalFunction {
  public readonly name: string;
  public readonly arn: string;
  /** Every line the function logged (unless `keepLogs` is false). */
  public readonly logs: string[] = [];
  /** Number of invocations and cold starts so far. */
  public invocations = 0;
  public coldStarts = 0;

  private readonly props: LocalFunctionProps;
  private readonly environments: Environment[] = [];
  private readonly waiting: Array<() => void> = [];
  private closed = false;

  constructor(props: LocalFunctionProps) {
    this.props = props;
    this.name = props.name;
    this.arn = `arn:aws:lambda:${props.region ?? 'eu-west-1'}:${props.accountId ?? '123456789012'}:function:${props.name}`;
    const file = (props.handler ?? 'index.handler').replace(/\.[^.]+$/, '');
    if (!['.js', '.cjs', '.mjs'].some((ext) => existsSync(join(props.codeDir, file + ext)))) {
      throw new Error(`Function ${props.name}: no ${file}.js in ${props.codeDir}; build the bundle first (npx projen bundle:lambda)`);
    }
  }

  /** Execution environments at most. */
  get maxEnvironments(): number {
    return this.props.maxEnvironments ?? 4;
  }

  /** INIT time of each running environment, ms (environments still loading are left out). */
  get initTimes(): number[] {
    return this.environments.flatMap((e) => (e.initMs === undefined ? [] : [e.initMs]));
  }

  /** The environment variables an execution environment gets. */
  get environment(): Record<string, string> {
    const region = this.props.region ?? 'eu-west-1';
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: 'UTC',
      LANG: 'en_US.UTF-8',
      NODE_OPTIONS: '',
      LAMBDA_TASK_ROOT: this.props.codeDir,
      _HANDLER: this.props.handler ?? 'index.handler',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
      AWS_LAMBDA_FUNCTION_NAME: this.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.props.memoryMb ?? 128),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${this.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: this.props.accessKeyId ?? this.name,
      AWS_SECRET_ACCESS_KEY: 'local-secret-access-key',
      AWS_SESSION_TOKEN: `local-session-${this.name}`,
      // Never reach for instance metadata or shared config: everything is local.
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...this.props.environment,
    };
  }

  /** Starts up to `count` environments ahead of the first invocations (provisioned concurrency); resolves when ready. */
  async prewarm(count = this.maxEnvironments): Promise<void> {
    const started: Environment[] = [];
    while (this.environments.length < Math.min(count, this.maxEnvironments)) started.push(this.spawn());
    await Promise.all(started.map((environment) => environment.ready.promise));
  }

  /** Invokes the function (RequestResponse) and resolves with what Lambda would return. */
  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error(`Function ${this.name} is shut down`);
    this.invocations += 1;
    const requestId = randomUUID();
    const started = performance.now();
    const { environment, cold } = await this.acquire();
    const answer = (message: ChildMessage): InvokeResult => {
      const base = { durationMs: performance.now() - started, coldStart: cold, requestId };
      if (message.type === 'result') return { ...base, payload: message.payload, cpuMs: message.cpuMs };
      if (message.type === 'error') return { ...base, functionError: 'Unhandled', payload: message.error, cpuMs: message.cpuMs };
      throw new Error(`Unexpected message from ${this.name}: ${JSON.stringify(message)}`);
    };
    if (environment.initError) {
      this.discard(environment);
      return answer({ type: 'error', id: requestId, error: environment.initError, cpuMs: 0 });
    }
    try {
      return answer(await this.run(environment, requestId, event));
    } finally {
      environment.pending = undefined;
      this.release(environment);
    }
  }

  /** Kills every execution environment at once (a crash): invocations under way end with `Runtime.ExitError`. */
  crash(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const environment of this.environments) environment.child.kill(signal);
  }

  /** Stops every execution environment. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.environments.splice(0).map((environment) => stop(environment.child)));
  }

  /** Sends one invocation to an environment; resolves with its answer, a timeout or its exit. */
  private run(environment: Environment, requestId: string, event: unknown): Promise<ChildMessage> {
    const timeoutMs = (this.props.timeoutSeconds ?? 30) * 1000;
    return new Promise<ChildMessage>((resolve) => {
      const timer = setTimeout(() => {
        resolve({
          type: 'error',
          id: requestId,
          error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` },
          cpuMs: 0,
        });
        this.discard(environment);
      }, timeoutMs);
      environment.pending = {
        id: requestId,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      environment.child.send({
        type: 'invoke',
        id: requestId,
        event,
        context: {
          awsRequestId: requestId,
          deadlineMs: Date.now() + timeoutMs,
          functionName: this.name,
          invokedFunctionArn: this.arn,
          memoryLimitInMB: this.props.memoryMb ?? 128,
        },
      });
    });
  }

  private async acquire(): Promise<{ environment: Environment; cold: boolean }> {
    for (;;) {
      const idle = this.environments.find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        const cold = idle.initMs === undefined && !idle.initError;
        try {
          await idle.ready.promise;
        } catch (error) {
          this.discard(idle);
          throw error;
        }
        if (cold) this.coldStarts += 1;
        return { environment: idle, cold };
      }
      if (this.environments.length < this.maxEnvironments) {
        this.spawn();
        continue;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(environment: Environment): void {
    environment.busy = false;
    this.waiting.shift()?.();
  }

  private discard(environment: Environment): void {
    const index = this.environments.indexOf(environment);
    if (index >= 0) this.environments.splice(index, 1);
    void stop(environment.child);
    this.waiting.shift()?.();
  }

  private spawn(): Environment {
    const child = fork(ENVIRONMENT_FILE, [], {
      env: this.environment,
      execArgv: [],
      cwd: this.props.codeDir,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const environment: Environment = { child, ready: deferred<void>(), busy: false };
    environment.ready.promise.catch(() => undefined);
    this.environments.push(environment);
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        if (this.props.keepLogs !== false) this.logs.push(line);
        this.props.onLog?.(line, this.name);
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.on('message', (message: ChildMessage) => this.onMessage(environment, message));
    child.on('exit', (code, signal) => this.onExit(environment, code, signal));
    return environment;
  }

  private onMessage(environment: Environment, message: ChildMessage): void {
    if (message.type === 'ready') {
      environment.initMs = message.initMs;
      environment.ready.resolve();
    } else if (message.type === 'initError') {
      // Lambda reports an init error on the invocation that triggered the cold start.
      environment.initError = message.error;
      environment.ready.resolve();
    } else if (environment.pending && message.id === environment.pending.id) {
      environment.pending.resolve(message);
    }
  }

  private onExit(environment: Environment, code: number | null, signal: NodeJS.Signals | null): void {
    environment.ready.reject(new Error(`Execution environment of ${this.name} exited (${signal ?? code}) before it was ready`));
    const pending = environment.pending;
    if (pending) {
      const reason = signal ? `signal: ${signal}` : `exit status ${code}`;
      pending.resolve({
        type: 'error',
        id: pending.id,
        error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${pending.id} Error: Runtime exited with error: ${reason}` },
        cpuMs: 0,
      });
    }
    const index = this.environments.indexOf(environment);
    if (index >= 0) this.environments.splice(index, 1);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
