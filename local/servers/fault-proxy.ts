/**
 * A loopback proxy in front of a local AWS stand-in (dynalite, the Step Functions callback endpoint, the Data API
 * stand-in) that counts every call by operation and injects faults for selected calls.
 *
 * Faults come in two phases:
 * - `before`: the call never reaches the service (throttling, a 5xx, a named service error, a dropped connection);
 * - `after`: the service handles the call, then its answer is replaced by the fault ("the write happened but the
 *   answer was lost"), which is what makes SDK retries and idempotency matter.
 */
import { IncomingHttpHeaders, IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { Fault, LoopbackServer, applyFault, startLoopbackServer } from './http-util';

/** A call as the fault injector sees it. */
export interface ProxiedCall {
  /** The operation, from `X-Amz-Target` (`PutItem`, `SendTaskSuccess`, `ExecuteStatement`, ...). */
  readonly operation: string;
  /** The parsed JSON request body (`{}` when it is not JSON). */
  readonly body: Record<string, any>;
  /** 1-based number of this call among the calls of the same operation. */
  readonly n: number;
}

/**
 * A fault: one of the stand-ins' faults, before or after the service handled the call; or `hold`: the call is never
 * forwarded nor answered (the caller hangs until it gives up or dies — e.g. to crash a function mid-call).
 */
export type ProxyFault = (Fault & { readonly phase?: 'before' | 'after' }) | { readonly kind: 'hold'; readonly phase?: 'before' };

export type ProxyFaultInjector = (call: ProxiedCall) => ProxyFault | undefined;

/** One call that reached the proxy. */
export interface ProxyCallRecord {
  readonly operation: string;
  readonly body: Record<string, any>;
  /** HTTP status the caller received (0 for a dropped connection). */
  readonly status: number;
  /** The injected fault's kind and phase, if any. */
  readonly fault?: string;
  readonly at: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` — point the SDK client (or `AWS_ENDPOINT_URL_<SERVICE>`) here. */
  readonly endpoint: string;
  readonly calls: readonly ProxyCallRecord[];
  /** Number of calls of an operation (all calls without an argument). */
  count(operation?: string): number;
  /** Calls of an operation answered 2xx since the proxy started (not cleared by `reset`; constant time). */
  succeeded(operation: string): number;
  /** Calls per operation, e.g. `{ PutItem: 1, UpdateItem: 2 }`. */
  counts(): Record<string, number>;
  /** Forgets the recorded calls (the per-operation `n` keeps counting). */
  reset(): void;
  setFaults(faults: ProxyFaultInjector | undefined): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** The service behind the proxy, `http://127.0.0.1:<port>`. */
  readonly target: string;
  /** Error namespace of the service's JSON protocol, e.g. `com.amazonaws.dynamodb.v20120810`. */
  readonly namespace: string;
  /** Content type of the service's JSON protocol. @default 'application/x-amz-json-1.0' */
  readonly contentType?: string;
  readonly faults?: ProxyFaultInjector;
}

interface Forwarded {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, host: target.host };
    const outgoing = httpRequest({
      host: target.hostname, port: target.port, method: req.method, path: req.url, headers,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** Starts a proxy on a free loopback port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const contentType = options.contentType ?? 'application/x-amz-json-1.0';
  const calls: ProxyCallRecord[] = [];
  const numbers = new Map<string, number>();
  const successes = new Map<string, number>();
  let faults = options.faults;
  async function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const targetHeader = String(req.headers['x-amz-target'] ?? '');
    const operation = targetHeader.includes('.') ? targetHeader.slice(targetHeader.lastIndexOf('.') + 1) : targetHeader || req.method || '';
    let body: Record<string, any> = {};
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
    } catch {
      body = {};
    }
    const n = (numbers.get(operation) ?? 0) + 1;
    numbers.set(operation, n);
    const fault = faults?.({ operation, body, n });
    const record = (status: number) => {
      if (status >= 200 && status < 300) successes.set(operation, (successes.get(operation) ?? 0) + 1);
      calls.push({ operation, body, status, at: Date.now(), ...fault ? { fault: `${fault.kind}/${fault.phase ?? 'before'}` } : {} });
    };

    if (fault?.kind === 'hold') {
      record(0);
      await new Promise<void>((resolve) => {
        req.socket.once('close', () => resolve());
        if (req.socket.destroyed) resolve();
      });
      return;
    }

    if (fault && fault.phase !== 'after' && fault.kind !== 'delay') {
      record(fault.kind === 'disconnect' ? 0 : fault.kind === 'serverError' ? fault.status ?? 500 : 400);
      await applyFault(fault, res, options.namespace, contentType);
      return;
    }
    if (fault?.kind === 'delay' && fault.phase !== 'after') await applyFault(fault, res, options.namespace, contentType);
    const answer = await forward(target, req, raw);
    if (fault?.phase === 'after') {
      if (fault.kind === 'delay') {
        await applyFault(fault, res, options.namespace, contentType);
      } else {
        record(fault.kind === 'disconnect' ? 0 : fault.kind === 'serverError' ? fault.status ?? 500 : 400);
        await applyFault(fault, res, options.namespace, contentType);
        return;
      }
    }
    record(answer.status);
    const headers = { ...answer.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  const server: LoopbackServer = await startLoopbackServer(handle);
  return {
    endpoint: server.endpoint,
    calls,
    count: (operation) => (operation === undefined ? calls.length : calls.filter((call) => call.operation === operation).length),
    succeeded: (operation) => successes.get(operation) ?? 0,
    counts() {
      const result: Record<string, number> = {};
      for (const call of calls) result[call.operation] = (result[call.operation] ?? 0) + 1;
      return result;
    },
    reset() {
      calls.length = 0;
    },
    setFaults(next) {
      faults = next;
    },
    close: () => server.close(),
  };
}

/** DynamoDB's JSON protocol. */
export const DYNAMODB_PROTOCOL = { namespace: 'com.amazonaws.dynamodb.v20120810', contentType: 'application/x-amz-json-1.0' } as const;
/** Step Functions' JSON protocol. */
export const SFN_PROTOCOL = { namespace: 'com.amazonaws.sfn', contentType: 'application/x-amz-json-1.0' } as const;
/** The Redshift Data API's JSON protocol. */
export const REDSHIFT_DATA_PROTOCOL = { namespace: 'com.amazonaws.redshiftdata', contentType: 'application/x-amz-json-1.1' } as const;
