/**
 * The bundled manage_user function as Lambda loads it (example/.bundles/manage-user/index.js), with the real Lambda SDK
 * client talking to a local Invoke endpoint on 127.0.0.1 and a local ResponseURL.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ensureExampleBundles } from './support';
import { TASKER_FUNCTION_ENV } from '../../example/custom-resources/environment';
import { bundlePath } from '../../local/bundles';
import { CfnResponseServer, startCfnResponseServer } from '../../local/servers/cfn-response';
import { LoopbackServer, startLoopbackServer } from '../../local/servers/http-util';

interface Invocation { readonly functionName: string; readonly invocationType?: string; readonly payload: any }
type Handler = (event: CloudFormationCustomResourceEvent) => Promise<unknown>;

const TASKER = 'integ-test-stack-RSTaskStarterFunction-abc123';
const invocations: Invocation[] = [];
/** How the local Lambda answers the next invoke. */
let answer: { status: number; headers?: Record<string, string>; body: unknown } = { status: 200, body: { Id: 'statement-1' } };
let lambdaServer: LoopbackServer;
let responses: CfnResponseServer;
let manageUser: Handler;
const saved = { ...process.env };

beforeAll(async () => {
  ensureExampleBundles();
  responses = await startCfnResponseServer();
  lambdaServer = await startLoopbackServer((req, res, body) => {
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
    invocations.push({
      functionName: decodeURIComponent(match?.[1] ?? ''),
      invocationType: req.headers['x-amz-invocation-type'] as string | undefined,
      payload: JSON.parse(body.toString('utf8')),
    });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'x-amzn-requestid': 'r-1', ...answer.headers });
    res.end(text);
  });
  process.env.AWS_ENDPOINT_URL_LAMBDA = lambdaServer.endpoint;
  process.env.AWS_MAX_ATTEMPTS = '1';
  process.env[TASKER_FUNCTION_ENV] = TASKER;
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- load the file the way the Lambda runtime does
  manageUser = require(bundlePath('manage-user')).handler;
});

afterAll(async () => {
  process.env = saved;
  jest.restoreAllMocks();
  await lambdaServer.close();
  await responses.close();
});

beforeEach(() => {
  invocations.length = 0;
  answer = { status: 200, body: { Id: 'statement-1' } };
});

function createEvent(properties: Record<string, unknown>, logicalId: string): CloudFormationCustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:wrapper',
    ResponseURL: responses.newResponseUrl(),
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/integ-test-stack/1',
    RequestId: 'request-1',
    LogicalResourceId: logicalId,
    ResourceType: 'Custom::Example',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:wrapper', ...properties },
  } as CloudFormationCustomResourceEvent;
}

test('manage_user: invokes the tasker named in the environment, synchronously, with the SQL; the tasker answers', async () => {
  const e = createEvent({ username: 'cfncreated_user', create_db: 'true' }, 'rscfncreateduser');
  await manageUser(e);
  expect(invocations).toEqual([{
    functionName: TASKER,
    invocationType: 'RequestResponse',
    payload: expect.objectContaining({
      RequestType: 'Create',
      LogicalResourceId: 'rscfncreateduser',
      ResponseURL: e.ResponseURL,
      sqlStatement: 'CREATE USER "cfncreated_user" PASSWORD DISABLE CREATEDB',
    }),
  }]);
  expect(responses.responsesFor(e.ResponseURL)).toEqual([]);
});

test('manage_user: a tasker error (FunctionError) is reported to CloudFormation as FAILED', async () => {
  answer = {
    status: 200,
    headers: { 'x-amz-function-error': 'Unhandled' },
    body: { errorType: 'ActiveStatementsExceededException', errorMessage: 'Active statements exceeded the allowed quota.' },
  };
  const e = createEvent({ username: 'user2' }, 'rsuser2');
  await manageUser(e);
  expect(invocations[0].payload.sqlStatement).toBe('CREATE USER "user2" PASSWORD DISABLE');
  const response = await responses.waitForResponse(e.ResponseURL, 5_000);
  expect(response.problems).toEqual([]);
  expect(response.body).toEqual(expect.objectContaining({
    Status: 'FAILED',
    Reason: `The starter function ${TASKER} failed: ActiveStatementsExceededException: Active statements exceeded the allowed quota.`,
    PhysicalResourceId: 'rsuser2:CREATE_FAILED',
  }));
});

test('manage_user: a throttled invoke is reported to CloudFormation as FAILED', async () => {
  answer = {
    status: 429,
    headers: { 'x-amzn-errortype': 'TooManyRequestsException' },
    body: { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
  };
  const e = createEvent({ username: 'user2' }, 'rsuser2');
  await manageUser(e);
  const response = await responses.waitForResponse(e.ResponseURL, 5_000);
  expect(response.body!.Status).toBe('FAILED');
  expect(response.body!.Reason).toMatch(new RegExp(`^Could not invoke the starter function ${TASKER}: TooManyRequestsException: Rate Exceeded`));
});
