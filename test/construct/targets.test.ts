import { CfnParameter, Duration, Fn } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { findLogicalId, findResource, newStack, policyStatements, stackArn } from './helpers';
import { LogLevel, RedshiftTargetProps, SfnRedshiftTasker } from '../../src';

const WORKGROUPS = stackArn('redshift-serverless', 'workgroup/*');
const OWNER_STATEMENT = {
  Effect: 'Allow',
  Action: ['redshift-data:DescribeStatement', 'redshift-data:CancelStatement', 'redshift-data:GetStatementResult',
    'redshift-data:ListStatements'],
  Resource: '*',
  Condition: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
};
const SESSION_STATEMENT = { Effect: 'Allow', Action: 'redshift-data:ListSessions', Resource: '*' };

function synth(target: (stack: ReturnType<typeof newStack>) => RedshiftTargetProps) {
  const stack = newStack();
  new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: target(stack) });
  const template = Template.fromStack(stack);
  const environment = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props.Environment.Variables;
  const statements = policyStatements(template, 'RSTaskStarterPolicy');
  return { stack, template, environment, statements };
}

/** The statements of the starter policy that are about Redshift (the rest is the same for every target). */
const redshiftStatements = (statements: any[]) => statements.filter((s) => [s.Action].flat()
  .some((a: string) => a.startsWith('redshift')));

describe('Redshift Serverless with IAM identity', () => {
  // GIVEN / WHEN
  const { environment, statements } = synth(() => ({ workgroupName: 'analytics', dbName: 'dev' }));

  test('configures the handler for the workgroup, without user or secret', () => {
    // THEN
    expect(environment).toEqual({
      DDB_TABLE_NAME: expect.anything(), WORKGROUP_NAME: 'analytics', DATABASE: 'dev', TTL: '1', LOG_LEVEL: 'INFO', FAST_PATH_WAIT_SECONDS: '2',
    });
  });

  test('scopes execution and credentials to the account\'s workgroups (the ARN carries the workgroup id)', () => {
    // THEN
    expect(redshiftStatements(statements)).toEqual([
      { Effect: 'Allow', Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'], Resource: WORKGROUPS },
      OWNER_STATEMENT,
      SESSION_STATEMENT,
      { Effect: 'Allow', Action: 'redshift-serverless:GetCredentials', Resource: WORKGROUPS },
    ]);
  });
});

describe('Redshift Serverless with a secret', () => {
  // GIVEN / WHEN
  const { template, environment, statements } = synth((s) => ({
    workgroupName: 'analytics',
    dbName: 'dev',
    secret: new secretsmanager.Secret(s, 'Credentials', { encryptionKey: new kms.Key(s, 'SecretKey') }),
  }));
  const secretId = findLogicalId(template, 'AWS::SecretsManager::Secret', 'Credentials');

  test('passes the secret ARN to the handler', () => {
    // THEN
    expect(environment).toEqual({
      DDB_TABLE_NAME: expect.anything(),
      WORKGROUP_NAME: 'analytics',
      DATABASE: 'dev',
      SECRET_ARN: { Ref: secretId },
      TTL: '1',
      LOG_LEVEL: 'INFO',
      FAST_PATH_WAIT_SECONDS: '2',
    });
  });

  test('needs no Serverless credentials: only execution on the workgroups', () => {
    // THEN
    expect(redshiftStatements(statements)).toEqual([
      { Effect: 'Allow', Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'], Resource: WORKGROUPS },
      OWNER_STATEMENT,
      SESSION_STATEMENT,
    ]);
  });

  test('grants read access to the secret and decryption through Secrets Manager with its key', () => {
    // THEN
    const roleId = findLogicalId(template, 'AWS::IAM::Role', 'RSTaskStarterRole');
    const defaultPolicy = Object.values(template.findResources('AWS::IAM::Policy'))
      .find((p: any) => p.Properties.PolicyName.Ref === undefined && p.Properties.Roles[0].Ref === roleId
        && JSON.stringify(p).includes('secretsmanager')) as any;
    expect(defaultPolicy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: { Ref: secretId } },
    ]);
    const key = findResource(template, 'AWS::KMS::Key', 'SecretKey').props;
    expect(key.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Action: 'kms:Decrypt',
      Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    }));
  });
});

describe('a provisioned cluster with a secret', () => {
  test('needs no cluster credentials', () => {
    // GIVEN / WHEN
    const { environment, statements } = synth((s) => ({
      clusterIdentifier: 'my-cluster', dbName: 'dev', secret: new secretsmanager.Secret(s, 'Credentials'),
    }));
    // THEN
    expect(environment.SECRET_ARN).toEqual({ Ref: expect.stringMatching(/^Credentials/) });
    expect(environment.DB_USER).toBeUndefined();
    expect(redshiftStatements(statements)).toEqual([
      {
        Effect: 'Allow',
        Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
        Resource: stackArn('redshift', 'cluster:my-cluster'),
      },
      OWNER_STATEMENT,
      SESSION_STATEMENT,
    ]);
  });
});

describe('a provisioned cluster with IAM identity', () => {
  test('gets credentials for its own identity on the database only', () => {
    // GIVEN / WHEN
    const { environment, statements } = synth(() => ({ clusterIdentifier: 'my-cluster', dbName: 'dev' }));
    // THEN
    expect(environment).toEqual({
      DDB_TABLE_NAME: expect.anything(), CLUSTER_IDENTIFIER: 'my-cluster', DATABASE: 'dev', TTL: '1', LOG_LEVEL: 'INFO', FAST_PATH_WAIT_SECONDS: '2',
    });
    expect(redshiftStatements(statements)).toEqual([
      {
        Effect: 'Allow',
        Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
        Resource: stackArn('redshift', 'cluster:my-cluster'),
      },
      OWNER_STATEMENT,
      SESSION_STATEMENT,
      { Effect: 'Allow', Action: 'redshift:GetClusterCredentialsWithIAM', Resource: stackArn('redshift', 'dbname:my-cluster/dev') },
    ]);
  });
});

describe('tokens', () => {
  test('are passed through, not validated as literals', () => {
    // GIVEN / WHEN
    const { environment, statements } = synth(() => ({
      clusterIdentifier: Fn.importValue('ClusterId'), dbName: Fn.importValue('Db'), dbUser: Fn.importValue('User'),
    }));
    // THEN
    expect(environment).toEqual(expect.objectContaining({
      CLUSTER_IDENTIFIER: { 'Fn::ImportValue': 'ClusterId' },
      DATABASE: { 'Fn::ImportValue': 'Db' },
      DB_USER: { 'Fn::ImportValue': 'User' },
    }));
    expect(JSON.stringify(statements)).toContain('"Fn::ImportValue":"ClusterId"');
  });

  test('a workgroup name from another stack', () => {
    // GIVEN / WHEN
    const { environment } = synth(() => ({ workgroupName: Fn.importValue('Workgroup'), dbName: 'dev' }));
    // THEN
    expect(environment.WORKGROUP_NAME).toEqual({ 'Fn::ImportValue': 'Workgroup' });
  });
});

describe('handler settings', () => {
  test('tokens for the log level and the TTL are passed through', () => {
    // GIVEN
    const stack = newStack();
    const ttl = new CfnParameter(stack, 'TtlDays', { type: 'Number' });
    const level = new CfnParameter(stack, 'LogLevel');
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'c', dbName: 'dev' },
      logLevel: LogLevel.of(level.valueAsString),
      trackingTableTtl: Duration.days(ttl.valueAsNumber),
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOG_LEVEL: { Ref: 'LogLevel' }, TTL: { Ref: 'TtlDays' } }) },
    });
  });

  test('log level and TTL reach the environment', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'c', dbName: 'dev' },
      logLevel: LogLevel.of('debug'),
      trackingTableTtl: Duration.days(7),
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOG_LEVEL: 'DEBUG', TTL: '7' }) },
    });
  });
});
