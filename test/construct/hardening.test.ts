import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { findLogicalId, findResource, getAttArn, newStack, policyStatements, stackArn } from './helpers';
import { SfnRedshiftTasker, SfnRedshiftTaskerProps } from '../../src';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };

/** Every statement of the policies whose logical ids start with `prefix`, flattened to their actions. */
function actionsOf(template: Template, prefix: string): string[] {
  return policyStatements(template, prefix).flatMap((s: any) => [s.Action].flat());
}

/** The warnings of the stack, as text. */
function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
}

describe('customerManagedKey', () => {
  // GIVEN
  const stack = newStack();
  const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', {
    redshiftTargetProps: CLUSTER,
    customerManagedKey: key,
    completerLambdaFunctionProps: {},
  });
  const template = Template.fromStack(stack);
  const keyArn = getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'TaskerKey'));

  test('is the only key: the construct creates none of its own', () => {
    // THEN
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(tasker.encryptionKey).toBe(key);
  });

  test('encrypts the tracking table (customer-managed)', () => {
    // THEN
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    expect(tasker.trackingTable.encryptionKey).toBe(key);
  });

  test('encrypts the completion queue and its dead-letter queue', () => {
    // THEN
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual(keyArn);
  });

  test('encrypts the log groups and the environment variables of both functions', () => {
    // THEN
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(2);
    for (const logGroup of logGroups) expect(logGroup.Properties.KmsKeyId).toEqual(keyArn);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(2);
    for (const fn of functions) expect(fn.Properties.KmsKeyArn).toEqual(keyArn);
  });

  test('its policy lets CloudWatch Logs (for the log groups of this account and region) and EventBridge use it', () => {
    // THEN
    const statements = findResource(template, 'AWS::KMS::Key', 'TaskerKey').props.KeyPolicy.Statement;
    expect(statements).toContainEqual({
      Sid: 'AllowCloudWatchLogsToUseTheKey',
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stackArn('logs', 'log-group:*') } },
    });
    expect(statements).toContainEqual(expect.objectContaining({
      Sid: 'AllowEventBridgeToUseTheKey', Principal: { Service: 'events.amazonaws.com' },
    }));
    // Once, though two log groups use it.
    expect(statements.filter((s: any) => s.Sid === 'AllowCloudWatchLogsToUseTheKey')).toHaveLength(1);
  });

  test('both roles get the key actions for the table, the completer also kms:Decrypt for the queue', () => {
    // THEN
    for (const prefix of ['RSTaskStarterPolicy', 'RSTaskCompleterPolicy']) {
      expect(policyStatements(template, prefix)).toContainEqual(expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'], Resource: keyArn,
      }));
    }
    expect(policyStatements(template, 'RSTaskCompleterPolicy')).toContainEqual({ Action: 'kms:Decrypt', Effect: 'Allow', Resource: keyArn });
  });

  test('adds no warning', () => {
    // THEN
    expect(warnings(stack)).toEqual([]);
  });
});

describe('customerManagedKey shared by two taskers', () => {
  test('gets each service statement once', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
    // WHEN
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: CLUSTER, customerManagedKey: key });
    new SfnRedshiftTasker(stack, 'Second', {
      redshiftTargetProps: { workgroupName: 'reporting', dbName: 'dev' },
      createCallbackInfra: false,
      existingTableObj: first.trackingTable,
      customerManagedKey: key,
    });
    // THEN
    const template = Template.fromStack(stack);
    const statements = findResource(template, 'AWS::KMS::Key', 'TaskerKey').props.KeyPolicy.Statement;
    expect(statements.filter((s: any) => s.Sid === 'AllowCloudWatchLogsToUseTheKey')).toHaveLength(1);
    for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.Properties.KmsKeyId).toEqual(getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'TaskerKey')));
    }
  });
});

describe('an imported customerManagedKey', () => {
  test('is used everywhere, with warnings naming the key policy statements to add', () => {
    // GIVEN
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, customerManagedKey: key });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: key.keyArn });
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEType: 'KMS', KMSMasterKeyId: key.keyArn } });
    template.hasResourceProperties('AWS::Lambda::Function', { KmsKeyArn: key.keyArn });
    const texts = warnings(stack);
    expect(texts).toContainEqual(expect.stringMatching(/allow the principal logs\.<region>\.amazonaws\.com kms:Encrypt\*.*kms:EncryptionContext:aws:logs:arn/));
    expect(texts).toContainEqual(expect.stringMatching(/allow events\.amazonaws\.com kms:GenerateDataKey and kms:Decrypt/));
  });
});

describe('what customerManagedKey leaves alone', () => {
  test('an existing table, a log group and an environment key given in the function options', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
    const envKey = new kms.Key(stack, 'EnvKey', { enableKeyRotation: true });
    const logGroup = new logs.LogGroup(stack, 'MyLogs', { retention: logs.RetentionDays.ONE_WEEK });
    const owner = new SfnRedshiftTasker(stack, 'Owner', { redshiftTargetProps: CLUSTER });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { workgroupName: 'reporting', dbName: 'dev' },
      createCallbackInfra: false,
      existingTableObj: owner.trackingTable,
      customerManagedKey: key,
      starterLambdaFunctionProps: { logGroup, environmentEncryption: envKey },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: Match.absent() } });
    expect(findResource(template, 'AWS::Logs::LogGroup', 'MyLogs').props.KmsKeyId).toBeUndefined();
    expect(findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props.KmsKeyArn)
      .toEqual(getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'EnvKey')));
    // No log group of the construct uses the key, so its policy is left as it was.
    const statements = findResource(template, 'AWS::KMS::Key', 'TaskerKey').props.KeyPolicy.Statement;
    expect(statements.map((s: any) => s.Sid)).not.toContain('AllowCloudWatchLogsToUseTheKey');
  });

  test('an existing queue keeps its own encryption', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
    const queue = new sqs.Queue(stack, 'MyQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED, visibilityTimeout: Duration.minutes(10) });
    // WHEN
    const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, customerManagedKey: key, existingQueueObj: queue });
    // THEN
    const template = Template.fromStack(stack);
    expect(findResource(template, 'AWS::SQS::Queue', 'MyQueue').props.KmsMasterKeyId).toBeUndefined();
    expect(tasker.encryptionKey).toBeUndefined();
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEType: 'KMS' } });
  });
});

describe('hardening function options', () => {
  // GIVEN
  const stack = newStack();
  const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  const starterDlq = new sqs.Queue(stack, 'StarterDlq', { encryptionMasterKey: key, enforceSSL: true });
  const completerFailures = new sqs.Queue(stack, 'CompleterFailures', { encryptionMasterKey: key, enforceSSL: true });
  // WHEN
  new SfnRedshiftTasker(stack, 'RSTask', {
    redshiftTargetProps: CLUSTER,
    customerManagedKey: key,
    starterLambdaFunctionProps: { vpc, reservedConcurrentExecutions: 20, deadLetterQueue: starterDlq, retryAttempts: 1 },
    completerLambdaFunctionProps: { vpc, reservedConcurrentExecutions: 5, onFailure: new destinations.SqsDestination(completerFailures) },
    completerMaxConcurrency: 5,
  });
  const template = Template.fromStack(stack);
  const starter = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props;
  const completer = findResource(template, 'AWS::Lambda::Function', 'RSTaskCompleterFunction').props;

  test('are honoured: VPC, reserved concurrency, dead-letter queue, async-failure destination', () => {
    // THEN
    for (const fn of [starter, completer]) expect(fn.VpcConfig.SubnetIds).toHaveLength(2);
    expect(starter.ReservedConcurrentExecutions).toBe(20);
    expect(completer.ReservedConcurrentExecutions).toBe(5);
    expect(starter.DeadLetterConfig).toEqual({ TargetArn: getAttArn(findLogicalId(template, 'AWS::SQS::Queue', 'StarterDlq')) });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction') },
      MaximumRetryAttempts: 1,
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskCompleterFunction') },
      DestinationConfig: { OnFailure: { Destination: getAttArn(findLogicalId(template, 'AWS::SQS::Queue', 'CompleterFailures')) } },
    });
  });

  test('keep the construct\'s own settings: handler, runtime, role with the VPC policy, encryption', () => {
    // THEN
    for (const fn of [starter, completer]) {
      expect(fn).toEqual(expect.objectContaining({ Handler: 'index.handler', Runtime: 'nodejs24.x', KmsKeyArn: getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'TaskerKey')) }));
    }
    template.resourcePropertiesCountIs('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] }],
    }, 2);
  });

  test('the starter may send to its dead-letter queue and use the queue\'s key to do so', () => {
    // THEN
    const keyArn = getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'TaskerKey'));
    const statements = policyStatements(template, 'RSTaskStarterRoleDefaultPolicy');
    expect(statements).toContainEqual({
      Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAttArn(findLogicalId(template, 'AWS::SQS::Queue', 'StarterDlq')),
    });
    expect(statements).toContainEqual({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Effect: 'Allow', Resource: keyArn });
  });

  test('the completer may send to its failure destination (aws-cdk-lib grants the queue and its key)', () => {
    // THEN
    expect(actionsOf(template, 'RSTaskCompleterRoleDefaultPolicy')).toEqual(expect.arrayContaining(['sqs:SendMessage', 'kms:GenerateDataKey*']));
  });

  test('add no warning when the event source stays within the completer\'s reserved concurrency', () => {
    // THEN
    expect(warnings(stack)).toEqual([]);
  });
});

describe('reserved concurrency and the completion event source', () => {
  test('warns when the starter also consumes the queue and completerMaxConcurrency is not below its reservation', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, starterLambdaFunctionProps: { reservedConcurrentExecutions: 10 } });
    // THEN
    expect(warnings(stack)).toEqual([expect.stringMatching(
      /starterLambdaFunctionProps\.reservedConcurrentExecutions is 10, .*completerMaxConcurrency is not set.*Set completerMaxConcurrency below 10, or give completions a separate completer/,
    )]);
  });

  test('asks for a larger reservation when the event source\'s minimum of 2 batches cannot stay below it', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, starterLambdaFunctionProps: { reservedConcurrentExecutions: 2 } });
    // THEN
    expect(warnings(stack)).toEqual([expect.stringMatching(
      /Raise the reservation to at least 3 and set completerMaxConcurrency below it, or give completions a separate completer\./,
    )]);
  });

  test('does not warn when completerMaxConcurrency is below it', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER, starterLambdaFunctionProps: { reservedConcurrentExecutions: 10 }, completerMaxConcurrency: 5,
    });
    // THEN
    expect(warnings(stack)).toEqual([]);
  });

  test('warns when a separate completer may be invoked more often than its reservation', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER, completerLambdaFunctionProps: { reservedConcurrentExecutions: 4 }, completerMaxConcurrency: 8,
    });
    // THEN
    expect(warnings(stack)).toEqual([expect.stringMatching(/completerLambdaFunctionProps\.reservedConcurrentExecutions is 4, .* 8 times at once .*Set completerMaxConcurrency at most 4\. /)]);
  });
});

describe('validation of the hardening props', () => {
  /** Builds a tasker with props made for a fresh stack; returns a function for `expect(...).toThrow`. */
  function create(props: (stack: Stack, key: kms.IKey) => Partial<SfnRedshiftTaskerProps>): () => void {
    const stack = newStack();
    const key = new kms.Key(stack, 'TaskerKey');
    return () => new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, customerManagedKey: key, ...props(stack, key) });
  }

  test('fails when customerManagedKey and encryptionKey are both given', () => {
    expect(create((stack) => ({ encryptionKey: new kms.Key(stack, 'QueueKey') })))
      .toThrow(/customerManagedKey and encryptionKey cannot both be set: .*got customerManagedKey TestStack\/TaskerKey and encryptionKey TestStack\/QueueKey\. Remove encryptionKey/);
  });

  test('fails when customerManagedKey and encryptionKeyProps are both given', () => {
    expect(create(() => ({ encryptionKeyProps: { description: 'x' } })))
      .toThrow(/customerManagedKey and encryptionKeyProps cannot both be set: .*got customerManagedKey TestStack\/TaskerKey and encryptionKeyProps \{"description":"x"\}\. Remove encryptionKeyProps/);
  });

  test('fails when customerManagedKey comes with SQS-managed encryption', () => {
    expect(create(() => ({ enableEncryptionWithCustomerManagedKey: false })))
      .toThrow(/got customerManagedKey TestStack\/TaskerKey and enableEncryptionWithCustomerManagedKey: false\. Remove enableEncryptionWithCustomerManagedKey/);
  });

  test('fails when dynamoTableProps choose the table\'s encryption too', () => {
    expect(create((stack) => ({
      dynamoTableProps: { encryption: dynamodb.TableEncryption.AWS_MANAGED, encryptionKey: new kms.Key(stack, 'TableKey') },
    }))).toThrow(/got customerManagedKey TestStack\/TaskerKey and dynamoTableProps\.encryption "AWS_MANAGED" and dynamoTableProps\.encryptionKey TestStack\/TableKey\. Remove them/);
  });

  test('fails when a function\'s reserved concurrency is 0', () => {
    expect(create(() => ({ starterLambdaFunctionProps: { reservedConcurrentExecutions: 0 } })))
      .toThrow(/starterLambdaFunctionProps\.reservedConcurrentExecutions must be at least 1 .*; got 0\. Give it/);
  });

  test('skips tokens: no warning for a reservation only known at deployment', () => {
    // GIVEN
    const stack = newStack();
    const reserved = new CfnParameter(stack, 'Reserved', { type: 'Number' }).valueAsNumber;
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, starterLambdaFunctionProps: { reservedConcurrentExecutions: reserved } });
    // THEN
    expect(warnings(stack)).toEqual([]);
  });
});
