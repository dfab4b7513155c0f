/**
 * RedshiftStatementTask: describe, cancel and read the result of a statement in one call, in JSONPath and JSONata;
 * the synth-time checks; every rendered machine is valid ASL.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { getAttArn, newStack } from './helpers';
import { ExportFormat, RedshiftStatementTask, RedshiftStatementTaskProps, RowFormat, SfnRedshiftTasker, StatementAction } from '../../src';
import { aslErrors, definitionOf } from '../support/asl';

const RETRIES = [
  expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.ServiceException']), IntervalSeconds: 2 }),
  expect.objectContaining({ ErrorEquals: ['ActiveStatementsExceededException', 'ActiveSessionsExceededException', 'InternalServerException', 'DatabaseConnectionException'] }),
];

function setup(): { stack: Stack; tasker: SfnRedshiftTasker; fnArn: unknown } {
  const stack = newStack();
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev' } });
  return { stack, tasker, fnArn: getAttArn(stack.resolve((tasker.lambdaFunction.node.defaultChild as any).logicalId)) };
}

const CASES: Array<{
  name: string;
  jsonPath: Partial<RedshiftStatementTaskProps>;
  jsonata: Partial<RedshiftStatementTaskProps>;
  parameters: Record<string, unknown>;
  arguments: Record<string, unknown>;
}> = [
  {
    name: 'describe the statement this execution started last (LATEST)',
    jsonPath: { action: StatementAction.DESCRIBE },
    jsonata: { action: StatementAction.DESCRIBE },
    parameters: { 'action': 'describeStatement', 'statementId': 'LATEST', 'executionArn.$': '$$.Execution.Id' },
    arguments: { action: 'describeStatement', statementId: 'LATEST', executionArn: '{% $states.context.Execution.Id %}' },
  },
  {
    name: 'cancel a statement by its id from the input',
    jsonPath: { action: StatementAction.CANCEL, statementId: sfn.JsonPath.stringAt('$.started.Id') },
    jsonata: { action: StatementAction.CANCEL, statementId: '{% $states.input.started.Id %}' },
    parameters: { 'action': 'cancelStatement', 'statementId.$': '$.started.Id', 'executionArn.$': '$$.Execution.Id' },
    arguments: { action: 'cancelStatement', statementId: '{% $states.input.started.Id %}', executionArn: '{% $states.context.Execution.Id %}' },
  },
  {
    name: 'the next page of a result',
    jsonPath: { action: StatementAction.FETCH_RESULT, nextToken: sfn.JsonPath.stringAt('$.page.NextToken') },
    jsonata: { action: StatementAction.FETCH_RESULT, nextToken: '{% $states.input.page.NextToken %}' },
    parameters: { 'action': 'getStatementResult', 'statementId': 'LATEST', 'executionArn.$': '$$.Execution.Id', 'nextToken.$': '$.page.NextToken' },
    arguments: {
      action: 'getStatementResult',
      statementId: 'LATEST',
      executionArn: '{% $states.context.Execution.Id %}',
      nextToken: '{% $states.input.page.NextToken %}',
    },
  },
  {
    name: 'a batch\'s sub-statement result',
    jsonPath: { action: StatementAction.FETCH_RESULT, statementId: 'd2b3a1f0-8a55-4c9e-9b7e-2f1c0e4d5a6b:2' },
    jsonata: { action: StatementAction.FETCH_RESULT, statementId: 'd2b3a1f0-8a55-4c9e-9b7e-2f1c0e4d5a6b:2' },
    parameters: { 'action': 'getStatementResult', 'statementId': 'd2b3a1f0-8a55-4c9e-9b7e-2f1c0e4d5a6b:2', 'executionArn.$': '$$.Execution.Id' },
    arguments: { action: 'getStatementResult', statementId: 'd2b3a1f0-8a55-4c9e-9b7e-2f1c0e4d5a6b:2', executionArn: '{% $states.context.Execution.Id %}' },
  },
  {
    name: 'a page of rows as plain objects',
    jsonPath: { action: StatementAction.FETCH_RESULT, statementId: 'abc', rowFormat: RowFormat.OBJECTS },
    jsonata: { action: StatementAction.FETCH_RESULT, statementId: 'abc', rowFormat: RowFormat.OBJECTS },
    parameters: { 'action': 'getStatementResult', 'statementId': 'abc', 'executionArn.$': '$$.Execution.Id', 'rowFormat': 'OBJECTS' },
    arguments: { action: 'getStatementResult', statementId: 'abc', executionArn: '{% $states.context.Execution.Id %}', rowFormat: 'OBJECTS' },
  },
];

describe.each(CASES)('$name', (c) => {
  test('JSONPath: the function as resource, its answer as result', () => {
    const { stack, tasker, fnArn } = setup();
    const task = RedshiftStatementTask.jsonPath(stack, 'Ask', { tasker, resultPath: '$.answer', ...c.jsonPath } as any);
    expect(stack.resolve(task.toStateJson())).toEqual({
      Type: 'Task', Resource: fnArn, Parameters: c.parameters, ResultPath: '$.answer', Retry: RETRIES, End: true,
    });
  });

  test('JSONata', () => {
    const { stack, tasker, fnArn } = setup();
    const task = RedshiftStatementTask.jsonata(stack, 'Ask', { tasker, ...c.jsonata } as any);
    expect(stack.resolve(task.toStateJson())).toEqual({
      Type: 'Task', QueryLanguage: 'JSONata', Resource: fnArn, Arguments: c.arguments, Retry: RETRIES, End: true,
    });
  });
});

test('EXPORT_RESULT: the export\'s fields, and the grant to write under the prefix', () => {
  const { stack, tasker, fnArn } = setup();
  const bucket = s3.Bucket.fromBucketName(stack, 'Results', 'results-bucket');
  const task = RedshiftStatementTask.jsonPath(stack, 'Export', {
    tasker, action: StatementAction.EXPORT_RESULT, statementId: sfn.JsonPath.stringAt('$.id'), resultExport: { bucket, keyPrefix: 'x/', format: ExportFormat.CSV },
  });
  expect(stack.resolve(task.toStateJson())).toMatchObject({
    Resource: fnArn,
    Parameters: { 'action': 'exportResult', 'statementId.$': '$.id', 'exportBucket': 'results-bucket', 'exportKeyPrefix': 'x/', 'exportFormat': 'CSV' },
  });
  expect(JSON.stringify(Template.fromStack(stack).toJSON())).toContain(':s3:::results-bucket/x/*');
});

test('StatementAction names the invocation API\'s actions', () => {
  expect([StatementAction.DESCRIBE, StatementAction.CANCEL, StatementAction.FETCH_RESULT].map(String))
    .toEqual(['describeStatement', 'cancelStatement', 'getStatementResult']);
});

test('retryOnServiceExceptions: false renders no retry', () => {
  const { stack, tasker } = setup();
  const task = RedshiftStatementTask.jsonPath(stack, 'Ask', { tasker, action: StatementAction.DESCRIBE, retryOnServiceExceptions: false });
  expect(stack.resolve(task.toStateJson())).not.toHaveProperty('Retry');
});

describe('synth-time checks', () => {
  test.each<[string, Partial<RedshiftStatementTaskProps>, RegExp]>([
    ['nextToken without FETCH_RESULT', { action: StatementAction.DESCRIBE, nextToken: 'abc' }, /nextToken pages a result; it only works with StatementAction.FETCH_RESULT, got "describeStatement"/],
    ['a callback pattern', { action: StatementAction.CANCEL, integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN }, /integrationPattern must be REQUEST_RESPONSE: .*; got WAIT_FOR_TASK_TOKEN/],
    ['an empty statement id', { action: StatementAction.DESCRIBE, statementId: '' }, /statementId must be a Data API statement id \(or omitted for LATEST\); got ""/],
    ['rowFormat without FETCH_RESULT', { action: StatementAction.DESCRIBE, rowFormat: RowFormat.OBJECTS }, /rowFormat shapes the rows of a result; it only works with StatementAction.FETCH_RESULT, got "describeStatement"/],
    ['no action', {}, /action must be StatementAction.DESCRIBE, CANCEL, FETCH_RESULT or EXPORT_RESULT; got undefined/],
  ])('fails with %s', (_, props, message) => {
    const { stack, tasker } = setup();
    expect(() => new RedshiftStatementTask(stack, 'Ask', { tasker, ...props } as RedshiftStatementTaskProps)).toThrow(message);
  });
});

test('every rendered machine is valid ASL (asl-validator), in both query languages', () => {
  const { stack, tasker } = setup();
  const machines = (['JSONPath', 'JSONata'] as const).map((language) => {
    let chain: sfn.Chain | undefined;
    CASES.forEach((c, index) => {
      const task = language === 'JSONPath'
        ? RedshiftStatementTask.jsonPath(stack, `${language}${index}`, { tasker, resultPath: `$.answer${index}`, ...c.jsonPath } as any)
        : RedshiftStatementTask.jsonata(stack, `${language}${index}`, { tasker, ...c.jsonata } as any);
      chain = chain === undefined ? sfn.Chain.start(task) : chain.next(task);
    });
    return new sfn.StateMachine(stack, `${language}Machine`, { definitionBody: sfn.DefinitionBody.fromChainable(chain!) });
  });
  for (const machine of machines) expect(aslErrors(definitionOf(stack, machine))).toBe('');
});
