/**
 * The local Lambda service: functions by name and ARN (`LocalFunction`, one pool of execution environments each),
 * invocable directly or through the Lambda `Invoke` API (REST JSON) that `startInvokeServer()` serves on 127.0.0.1
 * for `AWS_ENDPOINT_URL_LAMBDA`.
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { InvokeResult, LocalFunction, LocalFunctionProps } from './function';
import { LoopbackServer, startLoopbackServer } from '../servers/http-util';

export { LocalFunction, outcomeOf } from './function';
export type { InvokeOutcome, InvokeResult, LambdaErrorPayload, LocalFunctionProps } from './function';

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
