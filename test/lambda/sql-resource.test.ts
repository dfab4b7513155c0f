/**
 * A custom resource whose service token is the tasker's function (`RedshiftSql`): the SQL of each request type comes
 * from the resource properties of CloudFormation's own request. The pure parts (parameters named in SQL, the
 * properties), then each request type through the router with a real tracking table (dynalite) and a mocked Data API.
 */
import {
  BatchExecuteStatementCommand, DescribeStatementCommand, ExecuteStatementCommand, GetStatementResultCommand, InternalServerException,
  RedshiftDataClient, ValidationException,
} from '@aws-sdk/client-redshift-data';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { TestDeps, cloudFormationEvent, makeDeps, sqsRecord, statusEvent, tableItems } from './support';
import { InvalidRequest } from '../../lambda/errors';
import { isResourcePropertiesRequest, resourceRequest } from '../../lambda/resource-properties';
import { route } from '../../lambda/router';
import { LocalDynamoDb, startLocalDynamoDb } from '../../local/servers/dynamodb';
import { CustomResource, ResourceProperty } from '../../src/contract';
import { namedParameters } from '../../src/private/sql-parameters';

const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=abc';
const PHYSICAL_ID = 'SalesTable:1764000000.123000000001';

/** CloudFormation's request for a `Custom::RedshiftSql` resource, as CloudFormation sends it. */
function request(requestType: 'Create' | 'Update' | 'Delete', properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return cloudFormationEvent(requestType, RESPONSE_URL, {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:Tasker',
    LogicalResourceId: 'SalesTable',
    ResourceType: CustomResource.SQL_RESOURCE_TYPE,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:Tasker', ServiceTimeout: '600', ...properties },
    ...requestType !== 'Create' ? { PhysicalResourceId: PHYSICAL_ID } : {},
    ...requestType === 'Update' ? { OldResourceProperties: { OnCreate: 'select 0' } } : {},
    ...extra,
  });
}

const TABLE = { OnCreate: 'create table sales(id int)', OnDelete: 'drop table if exists sales' };

describe('namedParameters', () => {
  test.each([
    ['select :a, :b, :a', ['a', 'b']],
    ['select \':x\', "c:y", x::int, :z -- :c\n', ['z']],
    ['/* :q */ select $$ :in $$, $tag$ :in2 $tag$, :out', ['out']],
    ['select \'it\'\'s :no\', :yes', ['yes']],
    ['select a$b$c, :p, arr[1:2], $1', ['p']],
    ['select \'unterminated :no', []],
  ])('%s', (sql, names) => {
    expect(namedParameters(sql)).toEqual(names);
  });
});

describe('the request and its properties', () => {
  test('a CloudFormation request with ResourceProperties and no SQL of its own is such a request', () => {
    expect(isResourcePropertiesRequest(request('Create', TABLE))).toBe(true);
    expect(isResourcePropertiesRequest({ ...request('Create', TABLE), sqlStatement: 'select 1' })).toBe(false);
    expect(isResourcePropertiesRequest({ ...request('Create', TABLE), ResponseURL: 'not a url' })).toBe(false);
    expect(isResourcePropertiesRequest({ sqlStatement: 'select 1' })).toBe(false);
  });

  test('Create runs OnCreate; Delete runs OnDelete; a list is one transaction', () => {
    expect(resourceRequest(request('Create', TABLE))).toMatchObject({ type: 'execute', sql: TABLE.OnCreate, singleton: false });
    expect(resourceRequest(request('Delete', { ...TABLE, OnDelete: ['drop view v', 'drop table t'] })))
      .toMatchObject({ type: 'execute', sql: ['drop view v', 'drop table t'] });
    expect(resourceRequest(request('Create', { OnCreate: ['create table t(id int)'] }))).toMatchObject({ sql: 'create table t(id int)' });
  });

  test('Update runs OnUpdate; without it, and Delete without OnDelete, nothing runs', () => {
    expect(resourceRequest(request('Update', { ...TABLE, OnUpdate: 'alter table sales add column c int' })))
      .toMatchObject({ type: 'execute', sql: 'alter table sales add column c int' });
    expect(resourceRequest(request('Update', TABLE))).toMatchObject({ type: 'noSql', reason: 'Update runs no SQL: the resource has no OnUpdate.' });
    expect(resourceRequest(request('Delete', { OnCreate: 'grant select on sales to group readers' })))
      .toMatchObject({ type: 'noSql', reason: 'Delete runs no SQL: the resource has no OnDelete.' });
  });

  test('each statement gets the parameters it names; values as CloudFormation sends them', () => {
    const properties = {
      OnCreate: 'insert into config values (:key, :value)',
      OnDelete: 'delete from config where key = :key',
      Parameters: { key: 'region', value: 3 },
    };
    expect(resourceRequest(request('Create', properties))).toMatchObject({
      sql: properties.OnCreate, parameters: [{ name: 'key', value: 'region' }, { name: 'value', value: '3' }],
    });
    expect(resourceRequest(request('Delete', properties))).toMatchObject({ parameters: [{ name: 'key', value: 'region' }] });
    expect(resourceRequest(request('Create', { ...properties, OnCreate: 'select 1' }))).not.toHaveProperty('parameters');
  });

  test('a list takes the parameters its statements name, and an ExecutionMode', () => {
    const properties = {
      OnCreate: ['insert into config values (:key, 1)', 'vacuum config', 'analyze config'],
      OnDelete: 'delete from config where key = :key',
      Parameters: { key: 'region', unused: 'x' },
      ExecutionMode: 'AUTO_COMMIT',
    };
    expect(resourceRequest(request('Create', properties))).toMatchObject({
      sql: properties.OnCreate, parameters: [{ name: 'key', value: 'region' }], executionMode: 'AUTO_COMMIT',
    });
    expect(resourceRequest(request('Delete', properties))).not.toHaveProperty('executionMode');
  });

  test.each([
    ['no OnCreate', { OnDelete: 'drop table t' }, /OnCreate is required/],
    ['a misspelt property', { ...TABLE, OnDeleet: 'x' }, /Unknown resource property "OnDeleet"; the properties are OnCreate, OnUpdate, OnDelete, Parameters, ExecutionMode/],
    ['an empty statement', { OnCreate: '  ' }, /OnCreate must be a non-empty string of SQL/],
    ['an empty list', { OnCreate: [] }, /OnCreate must be one SQL statement, or a list of 1 to 40/],
    ['41 statements', { OnCreate: Array(41).fill('select 1') }, /got 41 items/],
    ['a list item that is not SQL', { OnCreate: ['select 1', 3] }, /OnCreate\[1\] must be a non-empty string/],
    ['an invalid OnDelete (found on Create, not when the stack is deleted)', { OnCreate: 'select 1', OnDelete: 7 }, /OnDelete must be/],
    ['parameters that are not a map', { ...TABLE, Parameters: ['a'] }, /Parameters must be a map/],
    ['a bad parameter name', { ...TABLE, Parameters: { 'a-b': 'x' } }, /Parameters has the name "a-b"/],
    ['an empty parameter value', { ...TABLE, Parameters: { a: '' } }, /Parameters.a must be a non-empty string/],
    ['an unknown ExecutionMode', { OnCreate: ['select 1', 'select 2'], ExecutionMode: 'EACH' }, /ExecutionMode must be "TRANSACTION" or "AUTO_COMMIT"; got "EACH"/],
  ])('refuses %s', (_, properties, message) => {
    expect(() => resourceRequest(request('Create', properties))).toThrow(InvalidRequest);
    expect(() => resourceRequest(request('Create', properties))).toThrow(message);
  });

  test('Delete reads only OnDelete: properties a newer version would refuse do not block the stack\'s deletion', () => {
    expect(resourceRequest(request('Delete', { ...TABLE, Legacy: 'x', OnUpdate: [] }))).toMatchObject({ sql: TABLE.OnDelete });
  });

  test('the property names are the contract\'s', () => {
    expect(Object.values(ResourceProperty)).toEqual(['OnCreate', 'OnUpdate', 'OnDelete', 'Parameters', 'ExecutionMode', 'ResultAttributes']);
  });
});

describe('through the handler', () => {
  const redshiftData = mockClient(RedshiftDataClient);
  let dynamo: LocalDynamoDb;
  let deps: TestDeps;
  const answers = () => deps.puts.map((put) => JSON.parse(put.body));

  beforeAll(async () => { dynamo = await startLocalDynamoDb(); });
  afterAll(async () => { await dynamo.close(); });
  beforeEach(async () => {
    redshiftData.reset();
    redshiftData.on(ExecuteStatementCommand).resolves({ Id: 'statement-1', CreatedAt: new Date('2026-11-24T10:00:00.000Z') });
    redshiftData.on(BatchExecuteStatementCommand).resolves({ Id: 'batch-1' });
    deps = await makeDeps(dynamo);
  });

  describe('ResultAttributes: the one row as the resource\'s attributes', () => {
    const COUNT = { OnCreate: 'select count(*) as total, max(region) as top from sales', ResultAttributes: 'true' };
    const complete = async (records: unknown[][], columns: Array<{ name: string; typeName: string }>) => {
      redshiftData.on(DescribeStatementCommand).resolves({ Id: 'statement-1', Status: 'FINISHED', HasResultSet: true, ResultRows: records.length });
      redshiftData.on(GetStatementResultCommand).resolves({ Records: records as never, ColumnMetadata: columns, TotalNumRows: records.length });
      await route(deps, request('Create', COUNT));
      const name = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input.StatementName!;
      await route(deps, { Records: [sqsRecord(statusEvent(name, 'statement-1', 'FINISHED', records.length))] });
      return answers()[0];
    };
    const COLUMNS = [{ name: 'total', typeName: 'int8' }, { name: 'top', typeName: 'varchar' }];

    test('one row: SUCCESS with each column as a string attribute next to the built-in ones', async () => {
      const answer = await complete([[{ longValue: 42 }, { isNull: true }]], COLUMNS);
      expect(answer).toMatchObject({ Status: 'SUCCESS', Data: { statementId: 'statement-1', state: 'FINISHED', rows: 1, total: '42', top: '' } });
      expect(JSON.parse((await tableItems(dynamo, deps))[0].callback_details).resultAttributes).toBe(true);
    });

    test('two rows: FAILED with the reason; the physical id is kept (the SQL ran: the rollback runs OnDelete)', async () => {
      const answer = await complete([[{ longValue: 1 }, { stringValue: 'a' }], [{ longValue: 2 }, { stringValue: 'b' }]], COLUMNS);
      expect(answer.Status).toBe('FAILED');
      expect(answer.Reason).toMatch(/ResultAttributes takes exactly one row; the SQL returned 2 rows/);
      expect(answer.PhysicalResourceId).toMatch(/^SalesTable:\d{12}\.\d{15}$/);
    });

    test('a row over CloudFormation\'s 4,096 bytes: FAILED with ResultTooLarge, the response still within the limit', async () => {
      const answer = await complete([[{ longValue: 1 }, { stringValue: 'x'.repeat(5000) }]], COLUMNS);
      expect(answer.Status).toBe('FAILED');
      expect(answer.Reason).toMatch(/^ResultTooLarge: /);
      expect(Buffer.byteLength(deps.puts[0].body)).toBeLessThanOrEqual(4096);
    });

    test('a column named like a built-in attribute: FAILED, saying which', async () => {
      const answer = await complete([[{ longValue: 1 }]], [{ name: 'rows', typeName: 'int8' }]);
      expect(answer).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/The column rows would hide the built-in attribute/) });
    });

    test('an invalid value is refused; a Delete never reads a result', async () => {
      await route(deps, request('Create', { ...COUNT, ResultAttributes: 'yes' }));
      expect(answers()[0].Reason).toMatch(/ResultAttributes must be "true" or "false"; got "yes"/);
      expect(resourceRequest(request('Delete', { ...COUNT, OnDelete: 'select 1' }))).toMatchObject({ callback: { kind: 'cloudFormation' } });
      expect((resourceRequest(request('Delete', { ...COUNT, OnDelete: 'select 1' })) as { callback: { resultAttributes?: boolean } }).callback.resultAttributes)
        .toBeUndefined();
    });
  });

  test('Create: starts OnCreate with an event under the logical id, keeps only the response fields; answers later', async () => {
    const result = await route(deps, request('Create', { ...TABLE, Parameters: { unused: 'x' } }));
    expect(result).toMatchObject({ Id: 'statement-1' });
    const input = redshiftData.commandCalls(ExecuteStatementCommand)[0].args[0].input;
    expect(input).toEqual(expect.objectContaining({
      Sql: TABLE.OnCreate, WithEvent: true, StatementName: expect.stringMatching(/^SalesTable:\d{12}\.\d{15}$/),
    }));
    expect(input.Parameters).toBeUndefined();
    const [item] = await tableItems(dynamo, deps);
    expect(JSON.parse(item.callback_details)).toEqual({
      RequestType: 'Create',
      ResponseURL: RESPONSE_URL,
      StackId: expect.any(String),
      RequestId: 'request-Create',
      ResourceType: 'Custom::RedshiftSql',
      LogicalResourceId: 'SalesTable',
      // The resource's ServiceTimeout, when the request carries it: the reconciler cancels the statement after it.
      ServiceTimeout: 600,
    });
    expect(deps.puts).toEqual([]);
  });

  test('Update with OnUpdate runs it (a list: BatchExecuteStatement)', async () => {
    await route(deps, request('Update', { ...TABLE, OnUpdate: ['alter table sales add column a int', 'alter table sales add column b int'] }));
    expect(redshiftData.commandCalls(BatchExecuteStatementCommand)[0].args[0].input).toEqual(expect.objectContaining({
      Sqls: ['alter table sales add column a int', 'alter table sales add column b int'], WithEvent: true,
    }));
  });

  test('Update without OnUpdate: SUCCESS at once, the same physical id, no SQL, nothing tracked', async () => {
    const result = await route(deps, request('Update', TABLE));
    expect(result).toEqual({ Status: 'SUCCESS', Reason: 'Update runs no SQL: the resource has no OnUpdate.', PhysicalResourceId: PHYSICAL_ID });
    expect(answers()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID, LogicalResourceId: 'SalesTable' })]);
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test.each([
    ['RedshiftSql\'s request', request('Delete', TABLE, { PhysicalResourceId: 'SalesTable:CREATE_FAILED' })],
    ['a custom-resource function\'s request with SQL', {
      ...request('Delete', TABLE, { PhysicalResourceId: 'SalesTable:CREATE_FAILED' }), sqlStatement: 'drop user someone_elses',
    }],
    ['a request whose properties are invalid', request('Delete', { OnDelete: [] }, { PhysicalResourceId: 'SalesTable:CREATE_FAILED' })],
  ])('the rollback Delete of a failed Create runs no SQL: %s', async (_, event) => {
    const result = await route(deps, event);
    expect(result).toEqual({
      Status: 'SUCCESS', Reason: 'Nothing to delete: the Create failed, so no SQL runs.', PhysicalResourceId: 'SalesTable:CREATE_FAILED',
    });
    expect(answers()).toEqual([expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'SalesTable:CREATE_FAILED' })]);
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
  });

  test('invalid properties: FAILED at once with the reason, the failed-Create id, nothing started', async () => {
    const result = await route(deps, request('Create', { ...TABLE, OnDeleet: 'x' }));
    expect(result).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'SalesTable:CREATE_FAILED' });
    expect(answers()[0].Reason).toBe('The SQL could not be started: InvalidRequest: Unknown resource property "OnDeleet"; '
      + 'the properties are OnCreate, OnUpdate, OnDelete, Parameters, ExecutionMode, ResultAttributes.');
    expect(redshiftData).not.toHaveReceivedCommand(ExecuteStatementCommand);
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });

  test('a Data API error on Update: FAILED at once with the incoming physical id, the registration removed', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(new ValidationException({ message: 'Database dev does not exist', $metadata: {} }));
    await route(deps, request('Update', { ...TABLE, OnUpdate: 'alter table sales rename to sales2' }));
    expect(answers()).toEqual([expect.objectContaining({
      Status: 'FAILED', PhysicalResourceId: PHYSICAL_ID, Reason: 'The SQL could not be started: ValidationException: Database dev does not exist',
    })]);
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });
  test('a Create whose start may have run (a server error): FAILED with the statement\'s name, so the rollback runs OnDelete', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(new InternalServerException({ message: 'oops', Message: 'oops', $metadata: {} }));
    const result = await route(deps, request('Create', TABLE)) as { Status: string; PhysicalResourceId: string };
    expect(result.Status).toBe('FAILED');
    expect(result.PhysicalResourceId).toMatch(/^SalesTable:\d{12}\.\d{15}$/);
    expect(answers()).toEqual([expect.objectContaining({ Status: 'FAILED', PhysicalResourceId: result.PhysicalResourceId })]);
    // The registration stays, marked answered: neither its event nor a sweep answers again.
    const [item] = await tableItems(dynamo, deps);
    expect(item.completedBy).toMatch(/^handled:/);
    expect(item.inFlightOf).toBeUndefined();
  });

  test('if that FAILED answer cannot be delivered, the registration is open again for Lambda\'s retry', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(new InternalServerException({ message: 'oops', Message: 'oops', $metadata: {} }));
    const failing = await makeDeps(dynamo, { httpPut: async () => 500, config: { functionName: 'starter' } });
    await expect(route(failing, request('Create', TABLE))).rejects.toMatchObject({ name: 'CloudFormationResponseError' });
    const [item] = await tableItems(dynamo, failing);
    expect(item.completedBy).toBeUndefined();
    expect(item.claimedBy).toBeUndefined();
    expect(item.inFlightOf).toBe('starter');
  }, 15_000);

  test('a start refused before anything was sent (no credentials): FAILED with the failed-Create id, nothing kept', async () => {
    redshiftData.on(ExecuteStatementCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const result = await route(deps, request('Create', TABLE));
    expect(result).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'SalesTable:CREATE_FAILED' });
    expect(await tableItems(dynamo, deps)).toEqual([]);
  });
});
