/**
 * A local stand-in for CloudFormation's custom-resource `ResponseURL` (a pre-signed S3 PUT URL) on 127.0.0.1.
 *
 * `newResponseUrl()` hands out a unique URL; every PUT to it is recorded with its headers and parsed body and checked
 * against the custom-resource response contract (JSON ≤ 4,096 bytes, `Status`, `Reason` when FAILED, a non-empty
 * `PhysicalResourceId` ≤ 1 KB, the echoed `StackId`/`RequestId`/`LogicalResourceId`). Like S3 with a URL signed
 * without a content type, a PUT carrying a non-empty `Content-Type` is refused with `403 SignatureDoesNotMatch`.
 * Faults (5xx answers, delays, dropped connections) can be injected to exercise the sender's retries.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { deferred, Deferred, LoopbackServer, sleep, startLoopbackServer, withTimeout } from './http-util';

/** CloudFormation's limit on the response body. */
export const MAX_RESPONSE_BYTES = 4096;
/** CloudFormation's limit on the physical resource id. */
export const MAX_PHYSICAL_ID_BYTES = 1024;

/** The parsed response body (fields CloudFormation reads). */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED' | string;
  readonly Reason?: string;
  readonly PhysicalResourceId?: string;
  readonly StackId?: string;
  readonly RequestId?: string;
  readonly LogicalResourceId?: string;
  readonly NoEcho?: boolean;
  readonly Data?: Record<string, unknown>;
}

/** One PUT (or other request) received on a response URL. */
export interface RecordedResponse {
  readonly url: string;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  /** The body, if it parsed as a JSON object. */
  readonly body?: CustomResourceResponse;
  /** HTTP status the server answered with. */
  readonly status: number;
  /** Contract violations CloudFormation would reject or mis-handle (empty when the response is valid). */
  readonly problems: readonly string[];
  readonly at: Date;
}

/** What a fault injector sees of a PUT. */
export interface ResponsePut {
  readonly url: string;
  /** 1-based count of requests to this URL so far, this one included. */
  readonly attempt: number;
}

/** A fault for a PUT: a 5xx answer (S3 `InternalError` / 503 `SlowDown`), a delay before answering, or a drop. */
export type ResponseFault =
  | { readonly kind: 'serverError'; readonly status?: number }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'disconnect' };

export interface ResponseUrlOptions {
  /** Values the response must echo (problems are recorded otherwise). */
  readonly expect?: { readonly StackId?: string; readonly RequestId?: string; readonly LogicalResourceId?: string };
}

export interface CfnResponseServer {
  readonly endpoint: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedResponse[];
  /** A new unique pre-signed-style URL. */
  newResponseUrl(options?: ResponseUrlOptions): string;
  /** Resolves with the first accepted (2xx-answered) PUT to the URL (immediately when it already arrived). */
  waitForResponse(url: string, timeoutMs?: number): Promise<RecordedResponse>;
  /** All requests received for a URL. */
  responsesFor(url: string): RecordedResponse[];
  /** Answers the next `times` PUTs (to any URL, or to `url`) with `status` (default 500). */
  failNext(times: number, status?: number, url?: string): void;
  /** Replaces the fault injector (`undefined` removes it). */
  setFaults(faults: ((put: ResponsePut) => ResponseFault | undefined) | undefined): void;
  close(): Promise<void>;
}

interface UrlState {
  readonly url: string;
  readonly signature: string;
  readonly options: ResponseUrlOptions;
  readonly accepted: Deferred<RecordedResponse>;
  attempts: number;
  done: boolean;
}

const PATH_PREFIX = '/cloudformation-custom-resource-response-local/';

const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided.';

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>`
    + `<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** The response URLs and what was PUT to them; the server below speaks HTTP around it. */
class ResponseBucket {
  readonly urls = new Map<string, UrlState>();
  readonly requests: RecordedResponse[] = [];
  readonly failures: Array<{ left: number; status: number; url?: string }> = [];
  faults: ((put: ResponsePut) => ResponseFault | undefined) | undefined;
  endpoint = '';

  async handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const parsed = new URL(req.url ?? '/', this.endpoint);
    const id = parsed.pathname.startsWith(PATH_PREFIX) ? parsed.pathname.slice(PATH_PREFIX.length) : '';
    const state = this.urls.get(id);
    const rawBody = raw.toString('utf8');
    const at = new Date();
    const record = (status: number, problems: string[], body?: CustomResourceResponse): RecordedResponse => {
      const entry: RecordedResponse = {
        url: state?.url ?? `${this.endpoint}${req.url}`, method: req.method ?? '', headers: req.headers, rawBody, body, status, problems, at,
      };
      this.requests.push(entry);
      return entry;
    };

    const refused = this.refusal(req, parsed, state);
    if (refused !== undefined || state === undefined) {
      record(403, [refused ?? 'unknown or altered response URL']);
      s3Error(res, 403, 'SignatureDoesNotMatch', SIGNATURE_MISMATCH);
      return;
    }
    if (await this.injectFault(res, state, record)) return;

    const { body, problems } = checkResponse(rawBody, req.headers, state.options);
    const entry = record(200, problems, body);
    res.writeHead(200, { 'etag': `"${randomBytes(16).toString('hex')}"`, 'content-length': 0 });
    res.end();
    if (!state.done) {
      state.done = true;
      state.accepted.resolve(entry);
    }
  }

  /** Why S3 would refuse the PUT as not matching the pre-signed URL, if it would (counts the attempt otherwise). */
  private refusal(req: IncomingMessage, parsed: URL, state: UrlState | undefined): string | undefined {
    if (!state || parsed.searchParams.get('X-Amz-Signature') !== state.signature) return 'unknown or altered response URL';
    state.attempts += 1;
    if (req.method !== 'PUT') return `method ${req.method} is not allowed on a pre-signed PUT URL`;
    const contentType = req.headers['content-type'];
    if (contentType !== undefined && contentType !== '') {
      return `Content-Type "${contentType}" was sent; the URL is signed without one (send it empty or omit it)`;
    }
    return undefined;
  }

  /** Applies an injected delay, disconnect or server error; `true` when the request was answered by the fault. */
  private async injectFault(res: ServerResponse, state: UrlState, record: (status: number, problems: string[]) => unknown): Promise<boolean> {
    const fault = this.faults?.({ url: state.url, attempt: state.attempts });
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (fault?.kind === 'disconnect') {
      record(0, ['connection dropped (injected)']);
      res.socket?.destroy();
      return true;
    }
    const failure = this.failures.find((f) => f.left > 0 && (!f.url || f.url === state.url));
    const faultStatus = fault?.kind === 'serverError' ? fault.status ?? 500 : undefined;
    if (!failure && !faultStatus) return false;
    if (failure) failure.left -= 1;
    const status = faultStatus ?? failure!.status;
    record(status, [`answered ${status} (injected)`]);
    if (status === 503) s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    else s3Error(res, status, 'InternalError', 'We encountered an internal error. Please try again.');
    return true;
  }
}

/** Starts the server on a free loopback port. */
export async function startCfnResponseServer(): Promise<CfnResponseServer> {
  const bucket = new ResponseBucket();
  const server: LoopbackServer = await startLoopbackServer((req, res, raw) => bucket.handle(req, res, raw));
  const endpoint = server.endpoint;
  bucket.endpoint = endpoint;

  return {
    endpoint,
    requests: bucket.requests,
    newResponseUrl(options = {}) {
      const id = `${Date.now()}/${randomUUID()}`;
      const signature = randomBytes(32).toString('hex');
      const url = `${endpoint}${PATH_PREFIX}${id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=${isoBasic(new Date())}`
        + `&X-Amz-SignedHeaders=host&X-Amz-Expires=7200&X-Amz-Signature=${signature}`;
      bucket.urls.set(id, { url, signature, options, accepted: deferred(), attempts: 0, done: false });
      return url;
    },
    waitForResponse(url, timeoutMs) {
      const state = [...bucket.urls.values()].find((s) => s.url === url);
      if (!state) return Promise.reject(new Error(`Not a response URL of this server: ${url}`));
      return timeoutMs === undefined ? state.accepted.promise : withTimeout(state.accepted.promise, timeoutMs, 'a CloudFormation response');
    },
    responsesFor: (url) => bucket.requests.filter((r) => r.url === url),
    failNext(times, status = 500, url) {
      bucket.failures.push({ left: times, status, url });
    },
    setFaults(next) {
      bucket.faults = next;
    },
    close: () => server.close(),
  };
}

function isoBasic(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses a response body and lists what CloudFormation would not accept. */
export function checkResponse(
  rawBody: string, headers: IncomingHttpHeaders, options: ResponseUrlOptions = {},
): { body?: CustomResourceResponse; problems: string[] } {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(rawBody);
  const declared = headers['content-length'];
  if (declared === undefined) {
    problems.push('no Content-Length header (S3 needs it for a pre-signed PUT)');
  } else if (Number(declared) !== bytes) {
    problems.push(`Content-Length ${declared} does not match the body (${bytes} bytes)`);
  }
  if (bytes > MAX_RESPONSE_BYTES) problems.push(`body is ${bytes} bytes; CloudFormation accepts at most ${MAX_RESPONSE_BYTES}`);
  let body: CustomResourceResponse | undefined;
  try {
    const value = JSON.parse(rawBody);
    if (value && typeof value === 'object' && !Array.isArray(value)) body = value;
    else problems.push('body is not a JSON object');
  } catch {
    problems.push('body is not valid JSON');
  }
  if (!body) return { problems };
  if (body.Status !== 'SUCCESS' && body.Status !== 'FAILED') problems.push(`Status must be SUCCESS or FAILED, got ${JSON.stringify(body.Status)}`);
  if (body.Status === 'FAILED' && !body.Reason) problems.push('Reason is required when Status is FAILED');
  if (typeof body.PhysicalResourceId !== 'string' || body.PhysicalResourceId === '') {
    problems.push('PhysicalResourceId must be a non-empty string');
  } else if (Buffer.byteLength(body.PhysicalResourceId) > MAX_PHYSICAL_ID_BYTES) {
    problems.push(`PhysicalResourceId exceeds ${MAX_PHYSICAL_ID_BYTES} bytes`);
  }
  for (const key of ['StackId', 'RequestId', 'LogicalResourceId'] as const) {
    if (typeof body[key] !== 'string' || body[key] === '') problems.push(`${key} is missing`);
    const expected = options.expect?.[key];
    if (expected !== undefined && body[key] !== expected) problems.push(`${key} is ${JSON.stringify(body[key])}, expected ${JSON.stringify(expected)}`);
  }
  if (body.NoEcho !== undefined && typeof body.NoEcho !== 'boolean') problems.push('NoEcho must be a boolean');
  if (body.Data !== undefined && (typeof body.Data !== 'object' || body.Data === null || Array.isArray(body.Data))) {
    problems.push('Data must be an object');
  }
  return { body, problems };
}
