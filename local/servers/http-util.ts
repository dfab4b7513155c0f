/**
 * Small building blocks shared by the local AWS stand-ins: a loopback HTTP server that closes cleanly, body reading,
 * AWS JSON-protocol responses and the fault-injection vocabulary the reliability tests use.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** A request handler; a thrown error becomes a 500 answer. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<void> | void;

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  /** Stops listening and closes every open connection (keep-alive sockets of SDK clients included). */
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 (a free port unless one is given). */
export async function startLoopbackServer(handler: RequestHandler, port = 0): Promise<LoopbackServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handler(req, res, Buffer.concat(chunks)))
        .catch((error: unknown) => {
          if (!res.headersSent) {
            sendJson(res, 500, { __type: 'InternalFailure', message: String(error instanceof Error ? error.message : error) });
          } else {
            res.destroy();
          }
        });
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** Writes a JSON answer with a request id, as AWS services do. */
export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/x-amz-json-1.1'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/**
 * Writes an AWS JSON-protocol error. The SDK reads the error name from `__type` (anything after `#` names the
 * shape) and the text from `message`, and maps it to the client's named exception class.
 */
export function sendAwsJsonError(
  res: ServerResponse, status: number, namespace: string, name: string, message: string, contentType?: string,
): void {
  sendJson(res, status, { __type: `${namespace}#${name}`, message }, contentType);
}

/**
 * A fault the stand-ins can inject instead of (or before) the normal answer:
 * - `throttle`: HTTP 400 with the service's throttling error (`ThrottlingException`), which SDK clients retry;
 * - `serverError`: HTTP 5xx (default 500) — a transient service failure, retried by SDK clients;
 * - `error`: a named service error (e.g. `ActiveStatementsExceededException`) with the given HTTP status (default 400);
 * - `delay`: wait, then answer normally;
 * - `disconnect`: close the connection without answering (a network error).
 */
export type Fault =
  | { readonly kind: 'throttle'; readonly message?: string }
  | { readonly kind: 'serverError'; readonly status?: number; readonly message?: string }
  | { readonly kind: 'error'; readonly name: string; readonly message?: string; readonly status?: number }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'disconnect' };

/** Decides per call whether to inject a fault; `undefined` answers normally. */
export type FaultInjector<Call> = (call: Call) => Fault | undefined;

/**
 * Applies a fault. Returns `true` when the answer has been written (or the connection dropped) and the caller must
 * stop; `false` to continue with the normal answer (after a `delay`).
 */
export async function applyFault(
  fault: Fault | undefined, res: ServerResponse, namespace: string, contentType?: string,
): Promise<boolean> {
  if (!fault) return false;
  switch (fault.kind) {
    case 'delay':
      await sleep(fault.ms);
      return false;
    case 'throttle':
      sendAwsJsonError(res, 400, namespace, 'ThrottlingException', fault.message ?? 'Rate exceeded', contentType);
      return true;
    case 'serverError':
      sendAwsJsonError(res, fault.status ?? 500, namespace, 'InternalServerException',
        fault.message ?? 'The service encountered an internal error. Please try again.', contentType);
      return true;
    case 'error':
      sendAwsJsonError(res, fault.status ?? 400, namespace, fault.name, fault.message ?? fault.name, contentType);
      return true;
    case 'disconnect':
      res.socket?.destroy();
      return true;
  }
}

/** A fault injector that answers the first `times` matching calls with `fault`, then behaves normally. */
export function faultTimes<Call>(times: number, fault: Fault, matches: (call: Call) => boolean = () => true): FaultInjector<Call> {
  let left = times;
  return (call) => {
    if (left > 0 && matches(call)) {
      left -= 1;
      return fault;
    }
    return undefined;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolvers, typed for the compile targets in use (`Promise.withResolvers` needs lib ES2024). */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects with a readable error if `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The caller's access key id from a SigV4 `Authorization` header (the local stand-ins' notion of identity). */
export function callerAccessKeyId(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? '';
  const match = /Credential=([^/,\s]+)\//.exec(auth);
  return match ? match[1] : 'anonymous';
}
