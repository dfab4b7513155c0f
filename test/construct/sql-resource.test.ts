/**
 * RedshiftSql: the custom resource it renders (the tasker's function as service token, the SQL properties, the
 * timeout), its dependencies on the callback infrastructure, the synth-time checks, cdk-nag; and the tasker's
 * grantInvoke.
 */
import { Annotations as CdkAnnotations, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { getAttArn, newStack } from './helpers';
import { BatchExecutionMode, RedshiftSql, RedshiftSqlProps, SfnRedshiftTasker } from '../../src';
import { nag } from '../support/nag';

const TARGET = { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'admin' };

function setup(): { stack: Stack; tasker: SfnRedshiftTasker } {
  const stack = newStack();
  return { stack, tasker: new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET }) };
}

const logicalIdOf = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as any).logicalId);
const resourceOf = (stack: Stack, sql: RedshiftSql) => Template.fromStack(stack).toJSON().Resources[logicalIdOf(stack, sql.customResource)];

test('one statement per request type: the SQL as properties, the tasker\'s function as service token', () => {
  const { stack, tasker } = setup();
  const table = new RedshiftSql(stack, 'SalesTable', {
    tasker,
    onCreate: ['create table if not exists sales (id int, region varchar(20))'],
    onDelete: ['drop table if exists sales'],
  });
  expect(resourceOf(stack, table)).toEqual(expect.objectContaining({
    Type: 'Custom::RedshiftSql',
    Properties: {
      ServiceToken: getAttArn(logicalIdOf(stack, tasker.lambdaFunction)),
      OnCreate: 'create table if not exists sales (id int, region varchar(20))',
      OnDelete: 'drop table if exists sales',
    },
    UpdateReplacePolicy: 'Delete',
    DeletionPolicy: 'Delete',
  }));
});

test('lists (one transaction each), an OnUpdate, parameters (tokens too) and the service timeout', () => {
  const { stack, tasker } = setup();
  const bucket = new dynamodb.Table(stack, 'Config', { partitionKey: { name: 'k', type: dynamodb.AttributeType.STRING } });
  const view = new RedshiftSql(stack, 'View', {
    tasker,
    onCreate: ['create or replace view v as select 1', 'grant select on v to group readers'],
    onUpdate: ['create or replace view v as select :source as source, :region as region'],
    onDelete: ['drop view if exists v'],
    parameters: { source: bucket.tableName, region: 'EMEA' },
    serviceTimeout: Duration.minutes(10),
  });
  expect(resourceOf(stack, view).Properties).toEqual(expect.objectContaining({
    ServiceTimeout: '600',
    OnCreate: ['create or replace view v as select 1', 'grant select on v to group readers'],
    OnUpdate: 'create or replace view v as select :source as source, :region as region',
    OnDelete: 'drop view if exists v',
    Parameters: { source: { Ref: logicalIdOf(stack, bucket) }, region: 'EMEA' },
  }));
});

test('a list in AUTO_COMMIT mode with parameters: VACUUM can run, each statement commits', () => {
  const { stack, tasker } = setup();
  const maintenance = new RedshiftSql(stack, 'Maintenance', {
    tasker,
    onCreate: ['delete from events where day < :cutoff', 'vacuum delete only events', 'analyze events'],
    parameters: { cutoff: '2026-01-01' },
    executionMode: BatchExecutionMode.AUTO_COMMIT,
    serviceTimeout: Duration.minutes(30),
  });
  expect(resourceOf(stack, maintenance).Properties).toEqual(expect.objectContaining({
    OnCreate: ['delete from events where day < :cutoff', 'vacuum delete only events', 'analyze events'],
    Parameters: { cutoff: '2026-01-01' },
    ExecutionMode: 'AUTO_COMMIT',
  }));
});

test('depends on the whole tasker but the function its service token references: policies, table, rule, queues, key and event source mapping', () => {
  const { stack, tasker } = setup();
  const sql = new RedshiftSql(stack, 'Sql', { tasker, onCreate: ['select 1'] });
  const resources = Template.fromStack(stack).toJSON().Resources;
  const taskerResources = Object.keys(resources).filter((id) => id.startsWith('RSTask'));
  const functionId = logicalIdOf(stack, tasker.lambdaFunction);
  const dependsOn = resourceOf(stack, sql).DependsOn;
  expect(dependsOn.map((id: string) => resources[id].Type)).toEqual(expect.arrayContaining([
    'AWS::IAM::Policy', 'AWS::DynamoDB::Table', 'AWS::Events::Rule', 'AWS::SQS::Queue',
    'AWS::SQS::QueuePolicy', 'AWS::KMS::Key', 'AWS::Lambda::EventSourceMapping',
  ]));
  expect([...dependsOn].sort()).toEqual(taskerResources.filter((id) => id !== functionId).sort());
  expect(resourceOf(stack, sql).Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
});

test('a tasker sharing another\'s callback infrastructure: the resource also depends on the tasker that owns it', () => {
  const { stack, tasker } = setup();
  const second = new SfnRedshiftTasker(stack, 'Second', {
    redshiftTargetProps: { ...TARGET, dbUser: 'etl' }, createCallbackInfra: false, existingTableObj: tasker.trackingTable,
  });
  const sql = new RedshiftSql(stack, 'Sql', { tasker: second, onCreate: ['select 1'], serviceTimeout: Duration.minutes(5) });
  const dependsOn: string[] = resourceOf(stack, sql).DependsOn;
  expect(dependsOn).toEqual(expect.arrayContaining([
    logicalIdOf(stack, tasker.rule as any), logicalIdOf(stack, tasker.queue as any),
  ]));
  expect(dependsOn).not.toContain(logicalIdOf(stack, second.lambdaFunction));
  expect(dependsOn.some((id) => id.startsWith('RSTaskCompletionEventSource'))).toBe(true);
  expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
});

test('an unknown callback infrastructure (an imported table) gets a warning that says what to add', () => {
  const stack = newStack();
  const tasker = new SfnRedshiftTasker(stack, 'Lone', {
    redshiftTargetProps: TARGET, createCallbackInfra: false, existingTableObj: dynamodb.Table.fromTableName(stack, 'Shared', 'tracking'),
  });
  new RedshiftSql(stack, 'Sql', { tasker, onCreate: ['select 1'] });
  expect(Annotations.fromStack(stack).findWarning('/TestStack/Sql', Match.stringLikeRegexp(
    'The tasker TestStack/Lone has no callback infrastructure of its own.*Add that dependency yourself.*cdk-stepfunctions-redshift:callbackInfrastructure',
  ))).toHaveLength(1);
});

test('without serviceTimeout: a warning with the fix, which an id acknowledges', () => {
  const { stack, tasker } = setup();
  new RedshiftSql(stack, 'Sql', { tasker, onCreate: ['select 1'] });
  new RedshiftSql(stack, 'Bounded', { tasker, onCreate: ['select 1'], serviceTimeout: Duration.minutes(5) });
  const acknowledged = new RedshiftSql(stack, 'Acknowledged', { tasker, onCreate: ['select 1'] });
  CdkAnnotations.of(acknowledged).acknowledgeWarning('cdk-stepfunctions-redshift:serviceTimeout', 'an hour is fine here');
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue());
  expect(warnings.map((warning) => warning.id)).toEqual(['/TestStack/Sql']);
  expect(warnings[0].entry.data).toMatch(/TestStack\/Sql has no serviceTimeout: .*CloudFormation waits an hour before it fails the request\. Set serviceTimeout to the time the SQL may take .*cdk-stepfunctions-redshift:serviceTimeout/);
});

test('resultAttributes: the property, and each column of the row as Fn::GetAtt', () => {
  const { stack, tasker } = setup();
  const count = new RedshiftSql(stack, 'SalesCount', {
    tasker, onCreate: ['select count(*) as total, max(region) as top_region from sales'], resultAttributes: true, serviceTimeout: Duration.minutes(5),
  });
  const plain = new RedshiftSql(stack, 'Plain', { tasker, onCreate: ['select 1'], serviceTimeout: Duration.minutes(5) });
  expect(stack.resolve(count.getResultAttribute('total'))).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, count.customResource), 'total'] });
  expect(resourceOf(stack, count).Properties).toMatchObject({ ResultAttributes: 'true' });
  expect(resourceOf(stack, plain).Properties.ResultAttributes).toBeUndefined();
  expect(() => plain.getResultAttribute('total')).toThrow(/getResultAttribute reads the row of resultAttributes; got resultAttributes off/);
  expect(() => count.getResultAttribute('state')).toThrow(/got "state", which is a built-in attribute/);
});

describe('synth-time checks', () => {
  test.each<[string, Partial<RedshiftSqlProps>, RegExp]>([
    ['onCreate is missing', { onCreate: undefined }, /onCreate is required: the SQL run when the resource is created; got undefined/],
    ['onCreate is empty', { onCreate: [] }, /onCreate must hold 1 to 40 statements \(run as one transaction\); got 0/],
    ['onDelete has 41 statements', { onDelete: Array(41).fill('drop table t') }, /onDelete must hold 1 to 40 .*got 41/],
    ['onUpdate has an empty statement', { onUpdate: ['  '] }, /onUpdate\[0\] must be one SQL statement; got an empty string/],
    ['a statement is too long', { onCreate: ['x'.repeat(100_001)] }, /onCreate\[0\] is too long: .*; got 100001 bytes/],
    ['a parameter name is invalid', { parameters: { 'two words': 'x' } }, /invalid parameter name; got "two words"/],
    ['the timeout is over an hour', { serviceTimeout: Duration.minutes(61) }, /serviceTimeout must be from 1 second to 1 hour \(CloudFormation's limit\); got 1 hour 1 minute/],
  ])('fails when %s', (_, props, message) => {
    const { stack, tasker } = setup();
    expect(() => new RedshiftSql(stack, 'Sql', { tasker, onCreate: ['select 1'], ...props } as RedshiftSqlProps))
      .toThrow(message);
  });
});

test('cdk-nag: a tasker with RedshiftSql resources has no unsuppressed findings', () => {
  const { stack, tasker } = setup();
  const table = new RedshiftSql(stack, 'Table', { tasker, onCreate: ['create table t(id int)'], onDelete: ['drop table if exists t'] });
  new RedshiftSql(stack, 'View', { tasker, onCreate: ['create view v as select id from t'], onDelete: ['drop view if exists v'] })
    .node.addDependency(table);
  expect(nag(stack)).toEqual({ errors: [], warnings: [] });
});

describe('grantInvoke', () => {
  test('lambda:InvokeFunction on the function\'s ARN only, on the principal\'s policy', () => {
    const { stack, tasker } = setup();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = tasker.grantInvoke(role);
    expect(grant.success).toBe(true);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: logicalIdOf(stack, role) }] },
    })) as any[];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: getAttArn(logicalIdOf(stack, tasker.lambdaFunction)) },
    ]);
  });

  test('a principal without an identity policy is not granted (the Grant says so)', () => {
    const { tasker } = setup();
    expect(tasker.grantInvoke(new iam.ServicePrincipal('events.amazonaws.com')).success).toBe(false);
  });
});

describe('literal SQL against parameters', () => {
  const build = (props: Partial<RedshiftSqlProps>) => {
    const { stack, tasker } = setup();
    return () => new RedshiftSql(stack, 'Sql', { tasker, serviceTimeout: Duration.minutes(5), onCreate: ['select 1'], ...props } as RedshiftSqlProps);
  };

  test('each statement gets the names it uses; all must be given', () => {
    expect(build({ onCreate: ['insert into s values (:region)'], onDelete: ['delete from s where region = :regoin'], parameters: { region: 'EMEA' } }))
      .toThrow(/onDelete uses :regoin, which parameters does not give; got parameters \{ region \}\. Add regoin: '<value>' to parameters, or correct the name in the SQL\./);
    expect(build({ onCreate: ['insert into s values (:region)'] })).toThrow(/onCreate uses :region, which parameters does not give; got no parameters/);
  });

  test('a name no statement uses fails; a name one statement uses is fine', () => {
    expect(build({ onCreate: ['insert into s values (:region)'], onDelete: ['delete from s'], parameters: { region: 'EMEA' } })).not.toThrow();
    expect(build({ onCreate: ['insert into s values (:region)'], parameters: { region: 'EMEA', year: '2026' } }))
      .toThrow(/parameters gives year, which none of onCreate, onUpdate, onDelete uses \(the Data API refuses unused parameters\); got parameters \{ region, year \}\. Remove year from parameters, or use :year in the SQL\./);
  });

  test('a list of several statements gets the names its statements use', () => {
    expect(build({ onCreate: ['create table s (r varchar)', 'insert into s values (:region)'], parameters: { region: 'EMEA' } })).not.toThrow();
    expect(build({ onCreate: ['create table s (r varchar)', 'insert into s values (:regoin)'], parameters: { region: 'EMEA' } }))
      .toThrow(/onCreate\[1\] uses :regoin, which parameters does not give; got parameters \{ region \}/);
  });

  test('a statement known only at deployment is not checked, nor is a name only it could use', () => {
    const sql = Lazy.string({ produce: () => 'select :region' });
    expect(build({ onCreate: [sql], parameters: { region: 'EMEA' } })).not.toThrow();
  });
});
