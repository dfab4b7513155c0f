/**
 * The flow of the manage_user custom-resource function: who answers CloudFormation in every case, with what status,
 * reason and physical id. The tasker invoke is mocked (aws-sdk-client-mock); the ResponseURL is a local
 * pre-signed-style S3 stand-in on 127.0.0.1 that checks each response against CloudFormation's contract.
 */
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CREATE_FAILED_SUFFIX, CustomResourceDeps, handleCustomResource } from '../../example/custom-resources/custom-resource';
import { TASKER_FUNCTION_ENV } from '../../example/custom-resources/environment';
import { planManageUser } from '../../example/custom-resources/manage-user-sql';
import { CloudFormationResponseError, nodeHttpPut } from '../../lambda/cfn-callback';
import { MAX_CFN_RESPONSE_BYTES } from '../../lambda/plain';
import { CfnResponseServer, startCfnResponseServer } from '../../local/servers/cfn-response';

const TASKER = 'integ-test-stack-RSTaskStarterFunction-abc123';
const lambda = mockClient(LambdaClient);
let server: CfnResponseServer;
const logs: string[] = [];

beforeAll(async () => { server = await startCfnResponseServer(); });
afterAll(async () => { await server.close(); });
beforeEach(() => { lambda.reset(); logs.length = 0; });

const deps = (overrides: Partial<CustomResourceDeps> = {}): CustomResourceDeps => ({
  lambda: new LambdaClient({ region: 'eu-west-1' }),
  put: nodeHttpPut,
  functionName: TASKER,
  retryDelaysMs: [0, 0],
  log: (level, message, fields) => { logs.push(JSON.stringify({ level, message, ...fields })); },
  ...overrides,
});

type RequestType = 'Create' | 'Update' | 'Delete';
function event(
  requestType: RequestType, properties: Record<string, unknown>, extra: Record<string, unknown> = {},
): CloudFormationCustomResourceEvent {
  const serviceToken = 'arn:aws:lambda:eu-west-1:123456789012:function:RSUserManager';
  return {
    RequestType: requestType,
    ServiceToken: serviceToken,
    ResponseURL: server.newResponseUrl({ expect: { StackId: 'stack-1', RequestId: 'request-1', LogicalResourceId: 'rsuser' } }),
    StackId: 'stack-1',
    RequestId: 'request-1',
    LogicalResourceId: 'rsuser',
    ResourceType: 'Custom::RedshiftUser',
    ResourceProperties: { ServiceToken: serviceToken, ...properties },
    ...requestType !== 'Create' ? { PhysicalResourceId: 'rsuser:1763985600.123456789012' } : {},
    ...extra,
  } as CloudFormationCustomResourceEvent;
}

const userProperties = { username: 'cfncreated_user', groups: ['group_a', 'group_b'] };
const CREATE_USER = 'CREATE USER "cfncreated_user" PASSWORD DISABLE IN GROUP "group_a", "group_b"';
const payloadOf = (call = 0) => JSON.parse(Buffer.from(lambda.commandCalls(InvokeCommand)[call].args[0].input.Payload as Uint8Array).toString());
const returnsStarted = () => lambda.on(InvokeCommand).resolves({
  StatusCode: 200, Payload: Buffer.from(JSON.stringify({ Id: 'statement-1', Database: 'dev' })) as any,
});

/** The only response CloudFormation received for the event, checked against its contract. */
function onlyResponse(e: CloudFormationCustomResourceEvent) {
  const responses = server.responsesFor(e.ResponseURL);
  expect(responses).toHaveLength(1);
  expect(responses[0].problems).toEqual([]);
  return responses[0].body!;
}

describe('when the tasker accepts the statement, it owns the answer', () => {
  test('Create: the tasker gets the callback fields and sqlStatement, not the properties; the function sends nothing', async () => {
    returnsStarted();
    const e = event('Create', userProperties);
    const outcome = await handleCustomResource(e, planManageUser, deps());
    expect(outcome).toEqual({ answeredBy: 'tasker', result: { Id: 'statement-1', Database: 'dev' } });
    expect(lambda).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: TASKER, InvocationType: 'RequestResponse' });
    expect(payloadOf()).toEqual({
      RequestType: 'Create',
      ServiceToken: e.ServiceToken,
      ResponseURL: e.ResponseURL,
      StackId: 'stack-1',
      RequestId: 'request-1',
      ResourceType: 'Custom::RedshiftUser',
      LogicalResourceId: 'rsuser',
      sqlStatement: CREATE_USER,
    });
    expect(server.responsesFor(e.ResponseURL)).toEqual([]);
  });

  test('Delete: the incoming physical id goes to the tasker with the drop statement', async () => {
    returnsStarted();
    const e = event('Delete', userProperties);
    await handleCustomResource(e, planManageUser, deps());
    expect(payloadOf()).toEqual(expect.objectContaining({
      RequestType: 'Delete', PhysicalResourceId: 'rsuser:1763985600.123456789012', sqlStatement: 'DROP USER IF EXISTS "cfncreated_user"',
    }));
  });

  test('several statements go as sqlStatements (one transaction)', async () => {
    returnsStarted();
    const e = event('Update', { ...userProperties, create_db: true, connection_limit: 5 }, { OldResourceProperties: userProperties });
    await handleCustomResource(e, planManageUser, deps());
    expect(payloadOf()).toEqual(expect.objectContaining({
      sqlStatements: ['ALTER USER "cfncreated_user" CREATEDB', 'ALTER USER "cfncreated_user" CONNECTION LIMIT 5'],
    }));
    expect(payloadOf()).not.toHaveProperty('sqlStatement');
  });

  test('manage_user Update with a rename: the ALTER statements in order, the incoming physical id, no password hash in the logs', async () => {
    returnsStarted();
    const hash = `md5${'c'.repeat(32)}`;
    const e = event('Update', { username: 'new_name', password: hash }, { OldResourceProperties: { username: 'old_name', password: hash } });
    await handleCustomResource(e, planManageUser, deps());
    expect(payloadOf()).toEqual(expect.objectContaining({
      RequestType: 'Update',
      PhysicalResourceId: 'rsuser:1763985600.123456789012',
      sqlStatements: ['ALTER USER "old_name" RENAME TO "new_name"', `ALTER USER "new_name" PASSWORD '${hash}'`],
    }));
    expect(payloadOf()).not.toHaveProperty('ResourceProperties');
    expect(payloadOf()).not.toHaveProperty('OldResourceProperties');
    expect(logs.join('\n')).not.toContain(hash);
    expect(logs.join('\n')).not.toContain(e.ResponseURL);
  });

  test('the tasker could not start the statement and already answered FAILED: the function adds nothing', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: Buffer.from(JSON.stringify({ Status: 'FAILED', Reason: 'ValidationException: cluster not found', PhysicalResourceId: 'rsuser:1' })) as any,
    });
    const e = event('Create', userProperties);
    expect(await handleCustomResource(e, planManageUser, deps())).toEqual(expect.objectContaining({ answeredBy: 'tasker' }));
    expect(server.responsesFor(e.ResponseURL)).toEqual([]);
    expect(logs.some((line) => line.includes('already answered') || line.includes('answered CloudFormation FAILED'))).toBe(true);
  });
});

describe('when the tasker does not answer, the function answers FAILED with a readable reason', () => {
  test('the tasker threw (FunctionError): the error type and message, and the Create-failed physical id', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: Buffer.from(JSON.stringify({ errorType: 'ConfigurationError', errorMessage: 'DATABASE is not set' })) as any,
    });
    const e = event('Create', userProperties);
    const outcome = await handleCustomResource(e, planManageUser, deps());
    expect(onlyResponse(e)).toEqual(expect.objectContaining({
      Status: 'FAILED',
      Reason: `The starter function ${TASKER} failed: ConfigurationError: DATABASE is not set`,
      PhysicalResourceId: `rsuser${CREATE_FAILED_SUFFIX}`,
      StackId: 'stack-1',
      RequestId: 'request-1',
      LogicalResourceId: 'rsuser',
    }));
    expect(outcome).toEqual(expect.objectContaining({ answeredBy: 'function', status: 'FAILED' }));
  });

  test('a FunctionError without a JSON payload (timeout) still gives a reason', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('Task timed out after 60.00 seconds') as any });
    const e = event('Delete', userProperties);
    await handleCustomResource(e, planManageUser, deps());
    expect(onlyResponse(e)).toEqual(expect.objectContaining({
      Status: 'FAILED',
      Reason: `The starter function ${TASKER} failed: Unhandled: Task timed out after 60.00 seconds`,
      PhysicalResourceId: 'rsuser:1763985600.123456789012',
    }));
  });

  test('the invoke itself failed (throttled after the SDK\'s retries)', async () => {
    lambda.on(InvokeCommand).rejects(new TooManyRequestsException({ message: 'Rate Exceeded.', $metadata: {} }));
    const e = event('Create', userProperties);
    await handleCustomResource(e, planManageUser, deps());
    expect(onlyResponse(e)).toEqual(expect.objectContaining({
      Status: 'FAILED', Reason: `Could not invoke the starter function ${TASKER}: TooManyRequestsException: Rate Exceeded.`,
    }));
  });

  test('invalid properties: no invoke, the property named in the reason', async () => {
    const e = event('Create', { username: 'cfncreated_user', create_user: 'nope' });
    await handleCustomResource(e, planManageUser, deps());
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(onlyResponse(e)).toEqual(expect.objectContaining({
      Status: 'FAILED',
      Reason: 'Invalid properties: "create_user" must be true or false, got "nope".',
      PhysicalResourceId: `rsuser${CREATE_FAILED_SUFFIX}`,
    }));
  });

  test(`the function is misconfigured (${TASKER_FUNCTION_ENV} unset)`, async () => {
    const e = event('Create', userProperties);
    await handleCustomResource(e, planManageUser, deps({ functionName: undefined }));
    expect(onlyResponse(e).Reason).toMatch(new RegExp(`set the environment variable ${TASKER_FUNCTION_ENV}`));
  });

  test('a very long error is shortened to fit CloudFormation\'s 4,096-byte response', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: Buffer.from(JSON.stringify({ errorType: 'ValidationException', errorMessage: 'ü'.repeat(6000) })) as any,
    });
    const e = event('Create', userProperties);
    await handleCustomResource(e, planManageUser, deps());
    const [response] = server.responsesFor(e.ResponseURL);
    expect(response.problems).toEqual([]);
    expect(Buffer.byteLength(response.rawBody)).toBeLessThanOrEqual(MAX_CFN_RESPONSE_BYTES);
    expect(response.body!.Reason).toMatch(/^The starter function .* failed: ValidationException: ü+ \.\.\.\[\d+ characters truncated\]$/);
  });
});

describe('when there is nothing to run, the function answers SUCCESS itself', () => {
  test('an Update without a change: no SQL, the physical id kept', async () => {
    const e = event('Update', { username: 'u1', create_db: 'true' }, { OldResourceProperties: { username: 'u1', create_db: true } });
    const outcome = await handleCustomResource(e, planManageUser, deps());
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(onlyResponse(e)).toEqual(expect.objectContaining({
      Status: 'SUCCESS', Reason: 'user u1 unchanged.', PhysicalResourceId: 'rsuser:1763985600.123456789012',
    }));
    expect(outcome).toEqual(expect.objectContaining({ answeredBy: 'function', status: 'SUCCESS' }));
  });

  test('the rollback Delete after a Create that failed before any SQL ran: nothing to drop', async () => {
    const e = event('Delete', { username: 'bad name' }, { PhysicalResourceId: `rsuser${CREATE_FAILED_SUFFIX}` });
    await handleCustomResource(e, planManageUser, deps());
    expect(lambda).not.toHaveReceivedCommand(InvokeCommand);
    expect(onlyResponse(e)).toEqual(expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: `rsuser${CREATE_FAILED_SUFFIX}` }));
  });
});

describe('delivering the function\'s own answer', () => {
  test('retries a failed PUT', async () => {
    const e = event('Update', userProperties, { OldResourceProperties: userProperties });
    server.failNext(2, 503, e.ResponseURL);
    await handleCustomResource(e, planManageUser, deps());
    const responses = server.responsesFor(e.ResponseURL);
    expect(responses.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  test('throws when the answer cannot be delivered, so that Lambda retries the request', async () => {
    const e = event('Update', userProperties, { OldResourceProperties: userProperties });
    server.failNext(3, 500, e.ResponseURL);
    await expect(handleCustomResource(e, planManageUser, deps())).rejects.toThrow(CloudFormationResponseError);
  });
});
