/**
 * The CloudFormation callback: a PUT of the custom-resource response to the pre-signed `ResponseURL`.
 * The body is at most 4,096 bytes; a non-2xx answer or a network error is retried a few times, then reported to the
 * caller (the completer puts the record back on the queue, so the answer is retried later or lands in the DLQ).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CloudFormationRequest } from './callback-details';
import { MAX_CFN_RESPONSE_BYTES, byteLength, fitText } from './plain';
import { CustomResource } from '../src/contract';

export interface CloudFormationResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: boolean;
  readonly Data?: Record<string, string | number>;
}

/** Sends one HTTP PUT; resolves with the status code. */
export type HttpPut = (url: string, body: string) => Promise<number>;

/** A CloudFormation answer that could not be delivered (after retries). */
export class CloudFormationResponseError extends Error {
  public readonly name = 'CloudFormationResponseError';
}

/** The physical id of a failed Create: its rollback Delete runs no SQL. */
export function failedCreatePhysicalId(logicalResourceId: string): string {
  return `${logicalResourceId}${CustomResource.CREATE_FAILED_SUFFIX}`;
}

/** The request fields a response is built from (the tasker's stored request, or a wrapper's CloudFormation event). */
export type RespondableRequest = Pick<CloudFormationRequest, 'RequestType' | 'StackId' | 'RequestId' | 'LogicalResourceId' | 'PhysicalResourceId'>;

/**
 * Builds the response body, shortening `Reason` so the whole body fits CloudFormation's 4,096-byte limit.
 * PhysicalResourceId: the incoming one on Update and Delete; on Create, `createdPhysicalId` when it succeeded (or
 * `mayHaveCreated`: a failure after which the rollback's Delete must run the Delete SQL), and the failed-Create marker
 * otherwise.
 */
export function cloudFormationResponse(
  request: RespondableRequest,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
  createdPhysicalId?: string,
  data?: Record<string, string | number>,
  mayHaveCreated = false,
): CloudFormationResponse {
  const onCreate = (status === 'SUCCESS' || mayHaveCreated) && createdPhysicalId !== undefined
    ? createdPhysicalId
    : failedCreatePhysicalId(request.LogicalResourceId);
  const base: CloudFormationResponse = {
    Status: status,
    Reason: '',
    PhysicalResourceId: (request.RequestType !== 'Create' ? request.PhysicalResourceId : undefined) ?? onCreate,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    NoEcho: false,
    ...data ? { Data: data } : {},
  };
  const shortened = fitText(reason, (candidate) => byteLength(JSON.stringify({ ...base, Reason: candidate })) <= MAX_CFN_RESPONSE_BYTES);
  return { ...base, Reason: shortened };
}

/**
 * CloudFormation's response URLs: pre-signed S3 URLs of its per-region response buckets
 * (`cloudformation-custom-resource-response-<region>`), virtual-hosted or path-style, in every partition.
 */
const RESPONSE_BUCKET = /^cloudformation-custom-resource-response-[a-z0-9]+$/;
const S3_HOST = /^s3([.-][a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/;
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Whether a request's `ResponseURL` is one the function may PUT to: `https:` on CloudFormation's response buckets,
 * or — with `loopback` (local stand-ins only) — any port of this machine. Anything else is refused, so nobody who may
 * invoke the function can make it send requests to other addresses.
 */
export function isAllowedResponseUrl(url: string, loopback: boolean): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (loopback && LOOPBACK_HOSTS.includes(parsed.hostname) && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) return true;
  if (parsed.protocol !== 'https:' || parsed.port !== '' || parsed.username !== '' || parsed.password !== '') return false;
  const [bucket, ...rest] = parsed.hostname.split('.');
  if (RESPONSE_BUCKET.test(bucket) && S3_HOST.test(rest.join('.'))) return true;
  return S3_HOST.test(parsed.hostname) && RESPONSE_BUCKET.test(parsed.pathname.split('/')[1] ?? '');
}

/** Node's http(s) PUT with the headers a pre-signed S3 URL expects (empty Content-Type, exact Content-Length). */
export const nodeHttpPut: HttpPut = (url, body) => new Promise((resolve, reject) => {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const request = send(target, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) },
    timeout: 10_000,
  }, (response) => {
    response.resume();
    response.on('end', () => resolve(response.statusCode ?? 0));
    response.on('error', reject);
  });
  request.on('timeout', () => request.destroy(new Error('PUT to the CloudFormation response URL timed out after 10 s')));
  request.on('error', reject);
  request.end(body);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers a response, retrying non-2xx answers and network errors (3 attempts, 0.5 s and 1.5 s apart).
 * @throws CloudFormationResponseError when every attempt failed
 */
export async function sendCloudFormationResponse(
  put: HttpPut, url: string, response: CloudFormationResponse, retryDelaysMs: readonly number[] = [500, 1500],
): Promise<void> {
  const body = JSON.stringify(response);
  let last = '';
  for (let attempt = 0; attempt <= retryDelaysMs.length; attempt++) {
    if (attempt > 0) await sleep(retryDelaysMs[attempt - 1]);
    try {
      const status = await put(url, body);
      if (status >= 200 && status < 300) return;
      last = `HTTP ${status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
  }
  throw new CloudFormationResponseError(
    `The CloudFormation response (${response.Status}) could not be delivered after ${retryDelaysMs.length + 1} attempts: ${last}`);
}
