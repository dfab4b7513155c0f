/**
 * The custom-resource response: a PUT of a JSON body to the pre-signed `ResponseURL` CloudFormation sends.
 * The body must stay within 4,096 bytes, so `Reason` is shortened when needed.
 */
import * as http from 'node:http';
import * as https from 'node:https';

/** CloudFormation's limit for the whole response body. */
export const MAX_RESPONSE_BYTES = 4096;

export interface CloudFormationResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: boolean;
}

/** Sends one PUT and resolves with the HTTP status code. */
export type HttpPut = (url: string, body: string) => Promise<number>;

/** A response that could not be delivered. */
export class ResponseNotDeliveredError extends Error {
  public readonly name = 'ResponseNotDeliveredError';
}

/** Returns `response` with `Reason` shortened (on a character boundary) so the JSON body fits 4,096 bytes. */
export function fitToLimit(response: CloudFormationResponse): CloudFormationResponse {
  const size = (reason: string) => Buffer.byteLength(JSON.stringify({ ...response, Reason: reason }));
  if (size(response.Reason) <= MAX_RESPONSE_BYTES) return response;
  const characters = [...response.Reason];
  const shortened = (length: number) => `${characters.slice(0, length).join('')}...`;
  let low = 0;
  let high = characters.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (size(shortened(middle)) <= MAX_RESPONSE_BYTES) low = middle;
    else high = middle - 1;
  }
  return { ...response, Reason: size(shortened(low)) <= MAX_RESPONSE_BYTES ? shortened(low) : '' };
}

/** PUT with the headers a pre-signed S3 URL expects: no content type, an exact content length. */
export const httpPut: HttpPut = (url, body) => new Promise((resolve, reject) => {
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
  request.on('timeout', () => request.destroy(new Error('no answer from the response URL within 10 s')));
  request.on('error', reject);
  request.end(body);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers the response; retries network errors and non-2xx answers (`retryDelaysMs.length` more attempts).
 * @throws ResponseNotDeliveredError when every attempt failed
 */
export async function sendResponse(
  put: HttpPut, url: string, response: CloudFormationResponse, retryDelaysMs: readonly number[] = [1000, 3000],
): Promise<void> {
  const body = JSON.stringify(fitToLimit(response));
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
  throw new ResponseNotDeliveredError(`the ${response.Status} response could not be delivered to CloudFormation after `
    + `${retryDelaysMs.length + 1} attempts: ${last}`);
}
