import * as http from 'node:http';
import { CfnResponseServer, checkResponse, startCfnResponseServer } from '../../local/servers/cfn-response';

let server: CfnResponseServer;

beforeEach(async () => {
  server = await startCfnResponseServer();
});

afterEach(async () => {
  await server.close();
});

/** A PUT like the cfn-response module sends it: empty Content-Type, exact Content-Length. */
function put(url: string, body: string, headers: http.OutgoingHttpHeaders = { 'content-type': '', 'content-length': Buffer.byteLength(body) }): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(url), { method: 'PUT', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const valid = {
  Status: 'SUCCESS',
  Reason: '',
  PhysicalResourceId: 'MyTable:1764000000.123456789012',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/example/1',
  RequestId: 'req-1',
  LogicalResourceId: 'MyTable',
  NoEcho: false,
  Data: { statementId: 'abc', state: 'FINISHED', rows: 0 },
};

test('a valid PUT is accepted, recorded with headers and parsed', async () => {
  // GIVEN
  const url = server.newResponseUrl({ expect: { StackId: valid.StackId, RequestId: 'req-1', LogicalResourceId: 'MyTable' } });
  const waiting = server.waitForResponse(url);

  // WHEN
  const status = await put(url, JSON.stringify(valid));

  // THEN
  expect(status).toBe(200);
  const response = await waiting;
  expect(response.body).toEqual(valid);
  expect(response.problems).toEqual([]);
  expect(response.headers['content-type']).toBe('');
  expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(valid)));
});

test('URLs are unique and look like pre-signed S3 URLs', () => {
  const a = server.newResponseUrl();
  const b = server.newResponseUrl();
  expect(a).not.toBe(b);
  expect(a).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=[0-9a-f]{64}$/);
});

test('a non-empty Content-Type is refused like S3 does for a URL signed without one', async () => {
  const url = server.newResponseUrl();
  const body = JSON.stringify(valid);
  const status = await put(url, body, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  expect(status).toBe(403);
  expect(server.responsesFor(url)[0].problems[0]).toMatch(/Content-Type "application\/json"/);
  // fetch() always sends a Content-Type for a string body: the classic mistake.
  const fetched = await fetch(url, { method: 'PUT', body });
  expect(fetched.status).toBe(403);
  expect(await fetched.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
});

test('an altered or unknown URL is refused', async () => {
  const url = server.newResponseUrl();
  expect(await put(url.replace(/Signature=../, 'Signature=00'), '{}')).toBe(403);
  expect(await put(`${server.endpoint}/cloudformation-custom-resource-response-local/nope?X-Amz-Signature=1`, '{}')).toBe(403);
});

test('contract problems are listed: FAILED without Reason, missing ids, mismatched echo, oversize body', async () => {
  const url = server.newResponseUrl({ expect: { RequestId: 'req-2' } });
  await put(url, JSON.stringify({ Status: 'FAILED', PhysicalResourceId: '', StackId: valid.StackId, RequestId: 'req-1' }));
  const [first] = server.responsesFor(url);
  expect(first.status).toBe(200);
  expect(first.problems).toEqual(expect.arrayContaining([
    'Reason is required when Status is FAILED',
    'PhysicalResourceId must be a non-empty string',
    'LogicalResourceId is missing',
    'RequestId is "req-1", expected "req-2"',
  ]));

  const big = server.newResponseUrl();
  await put(big, JSON.stringify({ ...valid, Reason: 'x'.repeat(5000) }));
  expect(server.responsesFor(big)[0].problems[0]).toMatch(/accepts at most 4096/);

  const notJson = server.newResponseUrl();
  await put(notJson, 'SUCCESS');
  expect(server.responsesFor(notJson)[0].problems).toEqual(['body is not valid JSON']);
});

test('a wrong or missing Content-Length is reported', () => {
  const body = JSON.stringify(valid);
  expect(checkResponse(body, { 'content-length': '12' }).problems).toEqual([`Content-Length 12 does not match the body (${Buffer.byteLength(body)} bytes)`]);
  expect(checkResponse(body, {}).problems).toEqual(['no Content-Length header (S3 needs it for a pre-signed PUT)']);
  expect(checkResponse(body, { 'content-length': String(Buffer.byteLength(body)) }).problems).toEqual([]);
});

test('failNext answers 5xx N times, then the retried PUT is accepted', async () => {
  const url = server.newResponseUrl();
  server.failNext(2, 503, url);
  const body = JSON.stringify(valid);
  expect(await put(url, body)).toBe(503);
  expect(await put(url, body)).toBe(503);
  expect(await put(url, body)).toBe(200);
  expect(server.responsesFor(url).map((r) => r.status)).toEqual([503, 503, 200]);
  await expect(server.waitForResponse(url, 1000)).resolves.toMatchObject({ status: 200 });
});

test('fault injector: delay, then disconnect', async () => {
  const url = server.newResponseUrl();
  server.setFaults((p) => (p.attempt === 1 ? { kind: 'disconnect' } : { kind: 'delay', ms: 20 }));
  await expect(put(url, JSON.stringify(valid))).rejects.toThrow();
  expect(await put(url, JSON.stringify(valid))).toBe(200);
  expect(server.responsesFor(url).map((r) => r.status)).toEqual([0, 200]);
});

test('waitForResponse times out readably and rejects unknown URLs', async () => {
  const url = server.newResponseUrl();
  await expect(server.waitForResponse(url, 30)).rejects.toThrow(/Timed out after 30 ms waiting for a CloudFormation response/);
  await expect(server.waitForResponse('http://127.0.0.1:1/x')).rejects.toThrow(/Not a response URL/);
});
