/**
 * A local Lambda runtime for bundled Node.js handlers.
 *
 * Each function runs in its own child processes (execution environments) with only the environment Lambda would
 * give it — its variables, region, dummy credentials, `AWS_ENDPOINT_URL_*` pointing at the local stand-ins — so two
 * functions with different configuration never share a module instance, and SDK clients are created once per
 * environment like in Lambda. An environment runs one invocation at a time; concurrent invocations start more
 * environments (cold starts) up to `maxEnvironments`. Errors come back as Lambda reports them (`errorType`,
 * `errorMessage`, `trace`, function error `Unhandled`); an invocation that outlives the function's timeout is
 * stopped (`Sandbox.Timedout`) and its environment replaced.
 *
 * `startInvokeServer()` serves the Lambda `Invoke` API (REST JSON) on 127.0.0.1 for `AWS_ENDPOINT_URL_LAMBDA`.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { deferred, Deferred, LoopbackServer, startLoopbackServer } from '../servers/http-util';

const ENVIRONMENT_FILE = join(__dirname, 'environment.cjs');

/** What Lambda returns for an invocation. */
export interface InvokeResult {
  /** `Unhandled` when the function threw (the payload is then the serialized error). */
  readonly functionError?: 'Unhandled';
  /** The function's return value, or `{ errorType, errorMessage, trace }`. */
  readonly payload: unknown;
  readonly durationMs: number;
  readonly coldStart: boolean;
  readonly requestId: string;
}

export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
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
}

interface Environment {
  readonly child: ChildProcess;
  readonly ready: Deferred<void>;
  busy: boolean;
  invocations: number;
  /** The handler module failed to load (reported on the invocation, like Lambda). */
  initError?: LambdaErrorPayload;
  pending?: { id: string; resolve: (m: ChildMessage) => void };
}

type ChildMessage =
  | { type: 'ready' }
  | { type: 'initError'; error: LambdaErrorPayload }
  | { type: 'result'; id: string; payload: unknown }
  | { type: 'error'; id: string; error: LambdaErrorPayload };

/** One function: a pool of execution environments running its bundled handler. */
export class LocalFunction {
  public readonly name: string;
  public readonly arn: string;
  /** Every line the function logged. */
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

  /** Invokes the function (RequestResponse) and resolves with what Lambda would return. */
  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error(`Function ${this.name} is shut down`);
    this.invocations += 1;
    const requestId = randomUUID();
    const started = performance.now();
    const { environment, cold } = await this.acquire();
    if (environment.initError) {
      this.discard(environment);
      return { functionError: 'Unhandled', payload: environment.initError, durationMs: performance.now() - started, coldStart: cold, requestId };
    }
    const timeoutMs = (this.props.timeoutSeconds ?? 30) * 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const message = await new Promise<ChildMessage>((resolve) => {
        environment.pending = { id: requestId, resolve };
        timer = setTimeout(() => {
          resolve({
            type: 'error',
            id: requestId,
            error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` },
          });
          this.discard(environment);
        }, timeoutMs);
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
      const durationMs = performance.now() - started;
      if (message.type === 'result') return { payload: message.payload, durationMs, coldStart: cold, requestId };
      if (message.type === 'error') {
        return { functionError: 'Unhandled', payload: message.error, durationMs, coldStart: cold, requestId };
      }
      throw new Error(`Unexpected message from ${this.name}: ${JSON.stringify(message)}`);
    } finally {
      if (timer) clearTimeout(timer);
      environment.pending = undefined;
      this.release(environment);
    }
  }

  /** Stops every execution environment. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.environments.splice(0).map((environment) => stop(environment.child)));
  }

  private async acquire(): Promise<{ environment: Environment; cold: boolean }> {
    for (;;) {
      const idle = this.environments.find((e) => !e.busy);
      if (idle) {
        idle.busy = true;
        await idle.ready.promise;
        return { environment: idle, cold: false };
      }
      if (this.environments.length < (this.props.maxEnvironments ?? 4)) {
        const environment = this.spawn();
        environment.busy = true;
        this.coldStarts += 1;
        try {
          await environment.ready.promise;
        } catch (error) {
          this.discard(environment);
          throw error;
        }
        return { environment, cold: true };
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(environment: Environment): void {
    environment.busy = false;
    environment.invocations += 1;
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
    const environment: Environment = { child, ready: deferred<void>(), busy: false, invocations: 0 };
    environment.ready.promise.catch(() => undefined);
    this.environments.push(environment);
    const onOutput = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.logs.push(line);
        this.props.onLog?.(line, this.name);
      }
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        environment.ready.resolve();
      } else if (message.type === 'initError') {
        // Lambda reports an init error on the invocation that triggered the cold start.
        environment.initError = message.error;
        environment.ready.resolve();
      } else if (environment.pending && 'id' in message && message.id === environment.pending.id) {
        environment.pending.resolve(message);
      }
    });
    child.on('exit', (code, signal) => {
      environment.ready.reject(new Error(`Execution environment of ${this.name} exited (${signal ?? code}) before it was ready`));
      const pending = environment.pending;
      if (pending) {
        pending.resolve({
          type: 'error',
          id: pending.id,
          error: { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${pending.id} Error: Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}` },
        });
      }
      const index = this.environments.indexOf(environment);
      if (index >= 0) this.environments.splice(index, 1);
    });
    return environment;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Functions by name and ARN, invocable directly or through the local Lambda Invoke endpoint. */
export class LocalLambdaRuntime {
  private readonly functions = new Map<string, LocalFunction>();
  private server?: LoopbackServer;

  /** Adds a function. */
  add(props: LocalFunctionProps): LocalFunction {
    const fn = new LocalFunction(props);
    this.functions.set(fn.name, fn);
    return fn;
  }

  /** A function by name, ARN (with or without `:$LATEST`) or partial ARN. */
  get(nameOrArn: string): LocalFunction | undefined {
    const name = functionName(nameOrArn);
    return name ? this.functions.get(name) : undefined;
  }

  all(): LocalFunction[] {
    return [...this.functions.values()];
  }

  /** Invokes a function; throws `ResourceNotFoundException` for an unknown one. */
  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const fn = this.get(nameOrArn);
    if (!fn) throw Object.assign(new Error(`Function not found: ${nameOrArn}`), { name: 'ResourceNotFoundException' });
    return fn.invoke(event);
  }

  /** Serves the Lambda Invoke API on 127.0.0.1; returns its endpoint (for `AWS_ENDPOINT_URL_LAMBDA`). */
  async startInvokeServer(): Promise<string> {
    this.server ??= await startLoopbackServer((req, res, body) => this.handleInvoke(req, res, body));
    return this.server.endpoint;
  }

  async close(): Promise<void> {
    await this.server?.close();
    await Promise.all(this.all().map((fn) => fn.close()));
  }

  private async handleInvoke(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      restJsonError(res, 404, 'UnknownOperationException', `Unsupported operation ${req.method} ${url.pathname}`);
      return;
    }
    const requested = decodeURIComponent(match[1]);
    const qualifier = url.searchParams.get('Qualifier');
    const fn = this.get(requested);
    if (!fn || (qualifier && qualifier !== '$LATEST')) {
      restJsonError(res, 404, 'ResourceNotFoundException', `Function not found: ${requested.startsWith('arn:') ? requested : `arn:aws:lambda:eu-west-1:123456789012:function:${requested}`}${qualifier ? `:${qualifier}` : ''}`);
      return;
    }
    let event: unknown = {};
    try {
      event = body.length ? JSON.parse(body.toString('utf8')) : {};
    } catch {
      restJsonError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json: Unrecognized token');
      return;
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': randomUUID() });
      res.end();
      return;
    }
    if (invocationType === 'Event') {
      void fn.invoke(event).catch(() => undefined);
      res.writeHead(202, { 'x-amzn-requestid': randomUUID(), 'content-length': 0 });
      res.end();
      return;
    }
    const result = await fn.invoke(event);
    const payload = JSON.stringify(result.payload);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': result.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (result.functionError) headers['x-amz-function-error'] = result.functionError;
    if (req.headers['x-amz-log-type'] === 'Tail') headers['x-amz-log-result'] = Buffer.from(fn.logs.slice(-20).join('\n').slice(-4096)).toString('base64');
    res.writeHead(200, headers);
    res.end(payload);
  }
}

function restJsonError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ Type: 'User', message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** The function name in a name, a full ARN or a partial ARN (`123456789012:function:name`), without qualifier. */
export function functionName(nameOrArn: string): string | undefined {
  const parts = nameOrArn.split(':');
  if (parts[0] === 'arn') return parts[5] === 'function' ? parts[6] : undefined;
  if (parts.length >= 3 && parts[1] === 'function') return parts[2];
  return parts[0] || undefined;
}
