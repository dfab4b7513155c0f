import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { findResource, newStack } from './helpers';
import { SfnRedshiftTasker } from '../../src';
import { nag } from '../support/nag';


/** A database secret of the user's app; its rotation is the user's decision, not the construct's. */
function userSecret(stack: Stack): secretsmanager.ISecret {
  const secret = new secretsmanager.Secret(stack, 'ReportingCredentials');
  NagSuppressions.addResourceSuppressions(secret, [
    { id: 'AwsSolutions-SMG4', reason: 'Test fixture: rotation of the database secret belongs to the application.' },
  ]);
  return secret;
}

/** The suppressions the construct recorded on a resource. */
function suppressions(stack: Stack, type: string, prefix: string): { id: string; reason: string; applies_to?: string[] }[] {
  return findResource(Template.fromStack(stack), type, prefix).raw.Metadata?.cdk_nag?.rules_to_suppress ?? [];
}

describe('cdk-nag AwsSolutions', () => {
  test('a default tasker has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'admin' } });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('a Serverless tasker with a secret has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev', secret: userSecret(stack) },
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('a tasker whose reconciler does not cancel orphans has no unsuppressed findings (and no heartbeat permission)', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' }, cancelOrphans: false });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
    // Its policy has nothing on `*` left to suppress: the index query only.
    expect(suppressions(stack, 'AWS::IAM::Policy', 'RSTaskReconcilerPolicy')).toEqual([]);
  });

  test('a tasker in a stack with an environment has no unsuppressed findings (the suppressions name its region and account)', () => {
    // GIVEN
    const stack = new Stack(new App(), 'EnvStack', { env: { account: '123456789012', region: 'eu-west-1' } });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev' } });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('the shared-infrastructure pair has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' } });
    // WHEN
    new SfnRedshiftTasker(stack, 'Second', {
      redshiftTargetProps: { workgroupName: 'analytics', dbName: 'reporting', secret: userSecret(stack) },
      createCallbackInfra: false,
      existingTableObj: first.trackingTable,
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('a separate completer has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' },
      completerLambdaFunctionProps: { memorySize: 512 },
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('functions in a VPC have no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    NagSuppressions.addResourceSuppressions(vpc, [
      { id: 'AwsSolutions-VPC7', reason: 'Test fixture: flow logs of the VPC belong to the application.' },
    ]);
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' },
      starterLambdaFunctionProps: { vpc },
      completerLambdaFunctionProps: { vpc },
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('a hardened tasker (customerManagedKey, VPC, reserved concurrency, dead-letter queue) has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaa', 'subnet-0bbb'],
      privateSubnetRouteTableIds: ['rtb-0aaa', 'rtb-0bbb'],
    });
    const failedInvocations = new sqs.Queue(stack, 'FailedInvocations', { encryptionMasterKey: key, enforceSSL: true });
    NagSuppressions.addResourceSuppressions(failedInvocations, [
      { id: 'AwsSolutions-SQS3', reason: 'Test fixture: this queue is itself the dead-letter queue of the starter function.' },
    ]);
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'etl_user' },
      customerManagedKey: key,
      starterLambdaFunctionProps: { vpc, reservedConcurrentExecutions: 20, deadLetterQueue: failedInvocations },
      completerMaxConcurrency: 5,
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('a tracking table with a customer-managed key has no unsuppressed findings', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' },
      dynamoTableProps: { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED },
      completerLambdaFunctionProps: {},
    });
    // THEN
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });
});

describe('the construct\'s suppressions', () => {
  test('cover only IAM5 findings on resource `*` (and the workgroup wildcard), each with its reason', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev' } });
    // THEN
    expect(suppressions(stack, 'AWS::IAM::Policy', 'RSTaskStarterPolicy')).toEqual([
      {
        id: 'AwsSolutions-IAM5',
        reason: expect.stringMatching(/act on statement ids, which are not IAM resources; .*statement-owner-iam-userid = \$\{aws:userid\}.*X-Ray/),
        applies_to: ['Resource::*'],
      },
      {
        id: 'AwsSolutions-IAM5',
        reason: expect.stringMatching(/workgroup ARN carries the workgroup id, which cannot be derived from the workgroup name/),
        applies_to: ['Resource::arn:<AWS::Partition>:redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup/*'],
      },
    ]);
    expect(suppressions(stack, 'AWS::IAM::Policy', 'RSTaskCompleterPolicy')).toEqual([{
      id: 'AwsSolutions-IAM5',
      reason: expect.stringMatching(/states:SendTaskSuccess, states:SendTaskFailure, states:SendTaskHeartbeat act on task tokens, which are not IAM resources/),
      applies_to: ['Resource::*'],
    }]);
    expect(suppressions(stack, 'AWS::IAM::Policy', 'RSTaskReconcilerPolicy')).toEqual([]);
    const others = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, any>)
      .filter((r) => r.Type !== 'AWS::IAM::Policy' && r.Metadata?.cdk_nag !== undefined);
    expect(others).toEqual([]);
  });

  test('do not hide wildcards the user adds to the function\'s role', () => {
    // GIVEN
    const stack = newStack();
    const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' } });
    // WHEN
    tasker.lambdaFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    // THEN
    expect(nag(stack).errors).toEqual([expect.stringMatching(/RSTask\/StarterRole\/DefaultPolicy\/Resource: AwsSolutions-IAM5/)]);
  });

  test('do not hide a disabled key rotation', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' },
      encryptionKeyProps: { enableKeyRotation: false },
    });
    // THEN
    expect(nag(stack).errors).toEqual([expect.stringMatching(/CompletionQueueKey\/Resource: AwsSolutions-KMS5/)]);
  });
});
