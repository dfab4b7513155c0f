import * as path from 'node:path';
import { CfnParameter, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { findLogicalId, findResource, getAttArn, newStack, policyStatements } from './helpers';
import { SfnRedshiftTasker, TablePermission } from '../../src';

const TARGET = { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'admin' };
const HANDLER = path.join(__dirname, '..', '..', 'assets', 'handler');

function userFunction(scope: ReturnType<typeof newStack>, id: string, props: Partial<lambda.FunctionProps> = {}): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(HANDLER),
    environment: { OWN_SETTING: 'kept' },
    ...props,
  });
}

describe('an existing starter function', () => {
  // GIVEN
  const stack = newStack();
  const existing = userFunction(stack, 'MyStarter', { timeout: Duration.seconds(120), handler: 'index.handler2' });
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, starterExistingLambdaObj: existing });
  const template = Template.fromStack(stack);
  const fnId = findLogicalId(template, 'AWS::Lambda::Function', 'MyStarter');
  const roleId = findLogicalId(template, 'AWS::IAM::Role', 'MyStarterServiceRole');

  test('is used as the starter and the completer, nothing else is created', () => {
    // THEN
    expect(tasker.lambdaFunction).toBe(existing);
    expect(tasker.completerFunction).toBe(existing);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler2' });
    expect(findResource(template, 'AWS::Lambda::EventSourceMapping', 'RSTask').props.FunctionName).toEqual({ Ref: fnId });
  });

  test('gets the handler\'s environment added to its own', () => {
    // THEN
    expect(findResource(template, 'AWS::Lambda::Function', 'MyStarter').props.Environment.Variables).toEqual({
      OWN_SETTING: 'kept',
      DDB_TABLE_NAME: { Ref: findLogicalId(template, 'AWS::DynamoDB::Table', 'RSTaskTrackingTable') },
      CLUSTER_IDENTIFIER: 'my-cluster',
      DATABASE: 'dev',
      DB_USER: 'admin',
      TTL: '1',
      LOG_LEVEL: 'INFO',
      FAST_PATH_WAIT_SECONDS: '2',
    });
  });

  test('gets the handler\'s permissions on its own role, without logging or tracing statements', () => {
    // THEN
    for (const prefix of ['RSTaskStarterPolicy', 'RSTaskCompleterPolicy']) {
      expect(findResource(template, 'AWS::IAM::Policy', prefix).props.Roles).toEqual([{ Ref: roleId }]);
      const actions = policyStatements(template, prefix).flatMap((s) => [s.Action].flat());
      expect(actions.filter((a: string) => /^(logs|xray):/.test(a))).toEqual([]);
    }
    expect(policyStatements(template, 'RSTaskStarterPolicy')).toHaveLength(6);
  });

  test('sets the queue\'s visibility timeout to six times its timeout', () => {
    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 720 });
  });

  test('does not make the existing function depend on the construct\'s policies', () => {
    // THEN
    expect(findResource(template, 'AWS::Lambda::Function', 'MyStarter').raw.DependsOn)
      .not.toContain(findLogicalId(template, 'AWS::IAM::Policy', 'RSTaskStarterPolicy'));
  });
});

describe('an imported starter function', () => {
  test('warns that its environment and permissions must be set by the user', () => {
    // GIVEN
    const stack = newStack();
    const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:sql');
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET,
      starterExistingLambdaObj: imported,
      queueProps: { visibilityTimeout: Duration.minutes(6) },
    });
    // THEN
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/cannot set its environment; set these variables on it yourself: DDB_TABLE_NAME, CLUSTER_IDENTIFIER, DATABASE, DB_USER, TTL, LOG_LEVEL/),
      expect.stringMatching(/role of the existing starter function .* is unknown/),
    ]));
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: 'sql',
    });
  });

  test('without a known timeout gets a 15-minute visibility timeout and a warning', () => {
    // GIVEN
    const stack = newStack();
    const imported = lambda.Function.fromFunctionAttributes(stack, 'Imported', {
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:sql',
      role: iam.Role.fromRoleArn(stack, 'ImportedRole', 'arn:aws:iam::123456789012:role/sql'),
    });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, starterExistingLambdaObj: imported });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 900 });
    template.hasResourceProperties('AWS::IAM::Policy', { Roles: ['sql'] });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('timeout of the existing completer function is unknown')))
      .toHaveLength(1);
  });
});

describe('completer timeouts', () => {
  test('an existing function without a timeout has Lambda\'s 3 seconds: visibility 18 seconds', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, starterExistingLambdaObj: userFunction(stack, 'Fn') });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 18 });
  });

  test('a timeout token gives a 15-minute visibility timeout', () => {
    // GIVEN
    const stack = newStack();
    const timeout = new CfnParameter(stack, 'Timeout', { type: 'Number' });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET, starterLambdaFunctionProps: { timeout: Duration.seconds(timeout.valueAsNumber) },
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 900 });
  });
});

describe('an existing completer function', () => {
  // GIVEN
  const stack = newStack();
  const completer = userFunction(stack, 'MyCompleter', { timeout: Duration.seconds(30) });
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, completerExistingLambdaObj: completer });
  const template = Template.fromStack(stack);
  const completerRoleId = findLogicalId(template, 'AWS::IAM::Role', 'MyCompleterServiceRole');
  const starterRoleId = findLogicalId(template, 'AWS::IAM::Role', 'RSTaskStarterRole');

  test('consumes the queue while the construct creates the starter', () => {
    // THEN
    expect(tasker.completerFunction).toBe(completer);
    expect(tasker.lambdaFunction).not.toBe(completer);
    expect(findResource(template, 'AWS::Lambda::EventSourceMapping', 'RSTask').props.FunctionName)
      .toEqual({ Ref: findLogicalId(template, 'AWS::Lambda::Function', 'MyCompleter') });
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180 });
  });

  test('gets the completion permissions and the environment; the starter keeps only its own', () => {
    // THEN
    expect(findResource(template, 'AWS::IAM::Policy', 'RSTaskCompleterPolicy').props.Roles).toEqual([{ Ref: completerRoleId }]);
    expect(findResource(template, 'AWS::IAM::Policy', 'RSTaskStarterPolicy').props.Roles).toEqual([{ Ref: starterRoleId }]);
    expect(policyStatements(template, 'RSTaskCompleterPolicy').map((s) => s.Action)).toEqual([
      ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
      ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
      // It asks the starter for a failure's error text (the Data API lets only the starter describe its statements).
      'lambda:InvokeFunction',
      'kms:Decrypt',
    ]);
    expect(policyStatements(template, 'RSTaskCompleterPolicy')[3].Resource)
      .toEqual(getAttArn(findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction')));
    // The starter calls back itself (the fast path, sweeps); it never touches the queue or its key.
    const starterActions = policyStatements(template, 'RSTaskStarterPolicy').flatMap((s) => [s.Action].flat());
    expect(starterActions.filter((a: string) => /^(states|sqs|kms):/.test(a))).toEqual(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']);
    expect(findResource(template, 'AWS::Lambda::Function', 'MyCompleter').props.Environment.Variables)
      .toEqual(expect.objectContaining({ OWN_SETTING: 'kept', CLUSTER_IDENTIFIER: 'my-cluster', DB_USER: 'admin' }));
  });
});

describe('completer function options', () => {
  // GIVEN
  const stack = newStack();
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', {
    redshiftTargetProps: TARGET,
    completerLambdaFunctionProps: { memorySize: 2048, timeout: Duration.seconds(20), tracing: lambda.Tracing.DISABLED },
    completerMaxConcurrency: 5,
  });
  const template = Template.fromStack(stack);
  const completerId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskCompleterFunction');
  const completerRoleId = findLogicalId(template, 'AWS::IAM::Role', 'RSTaskCompleterRole');

  test('create a second function from the same handler with its own role and log group', () => {
    // THEN
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    const completer = findResource(template, 'AWS::Lambda::Function', 'RSTaskCompleterFunction').props;
    const starter = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props;
    expect(completer).toEqual(expect.objectContaining({ MemorySize: 2048, Timeout: 20, Handler: 'index.handler', Runtime: 'nodejs24.x' }));
    expect(completer.Code).toEqual(starter.Code);
    // The same configuration, except the fast-path wait: only the starter starts statements.
    const { FAST_PATH_WAIT_SECONDS: wait, ...starterEnvironment } = starter.Environment.Variables;
    expect(wait).toBe('2');
    expect(completer.Environment.Variables).toEqual(starterEnvironment);
    expect(completer.TracingConfig).toBeUndefined();
    expect(completer.Role).toEqual(getAttArn(completerRoleId));
    expect(stack.resolve(tasker.completerFunction!.functionArn)).toEqual(getAttArn(completerId));
  });

  test('the separate completer gets everything completion needs (its log group, no tracing)', () => {
    // THEN
    expect(findResource(template, 'AWS::IAM::Policy', 'RSTaskCompleterPolicy').props.Roles).toEqual([{ Ref: completerRoleId }]);
    const statements = policyStatements(template, 'RSTaskCompleterPolicy');
    expect(statements).toContainEqual({
      Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAttArn(findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction')),
    });
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('redshift-data:'))).toEqual([]);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: getAttArn(findLogicalId(template, 'AWS::Logs::LogGroup', 'RSTaskCompleterLogGroup')),
    });
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('xray:PutTraceSegments');
  });

  test('size the queue for the completer\'s timeout and cap the event source\'s concurrency', () => {
    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 120 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: completerId }, ScalingConfig: { MaximumConcurrency: 5 },
    });
  });
});

describe('starter function options', () => {
  test('override the defaults one by one and add environment variables', () => {
    // GIVEN
    const stack = newStack();
    const logGroup = new logs.LogGroup(stack, 'MyLogs', { retention: logs.RetentionDays.ONE_YEAR });
    const role = new iam.Role(stack, 'MyRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET,
      starterLambdaFunctionProps: {
        memorySize: 512,
        reservedConcurrentExecutions: 1,
        architecture: lambda.Architecture.X86_64,
        tracing: lambda.Tracing.PASS_THROUGH,
        environment: { EXTRA: 'yes' },
        logGroup,
        role,
      },
    });
    // THEN
    const template = Template.fromStack(stack);
    const fn = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props;
    expect(fn).toEqual(expect.objectContaining({
      MemorySize: 512,
      Timeout: 60,
      ReservedConcurrentExecutions: 1,
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'PassThrough' },
      LoggingConfig: { LogGroup: { Ref: findLogicalId(template, 'AWS::Logs::LogGroup', 'MyLogs') } },
      Role: getAttArn(findLogicalId(template, 'AWS::IAM::Role', 'MyRole')),
    }));
    expect(fn.Environment.Variables).toEqual(expect.objectContaining({ EXTRA: 'yes', DATABASE: 'dev' }));
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    const statements = policyStatements(template, 'RSTaskStarterPolicy');
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: getAttArn(findLogicalId(template, 'AWS::Logs::LogGroup', 'MyLogs')),
    });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' });
  });
});

describe('a function in a VPC', () => {
  test('gets the network-interface permissions Lambda needs there', () => {
    // GIVEN
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, starterLambdaFunctionProps: { vpc } });
    // THEN
    const template = Template.fromStack(stack);
    const role = findResource(template, 'AWS::IAM::Role', 'RSTaskStarterRole');
    expect(role.props.ManagedPolicyArns).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']],
    }]);
    expect(role.raw.Metadata.cdk_nag.rules_to_suppress).toEqual([expect.objectContaining({ id: 'AwsSolutions-IAM4' })]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
  });
});

describe('tablePermissions', () => {
  test.each([
    [TablePermission.READ, 'dynamodb:Scan', 'dynamodb:PutItem'],
    [TablePermission.WRITE, 'dynamodb:BatchWriteItem', 'dynamodb:Scan'],
    [TablePermission.READ_WRITE, 'dynamodb:BatchWriteItem', 'dynamodb:CreateTable'],
    [TablePermission.of('ReadWrite'), 'dynamodb:BatchWriteItem', 'dynamodb:CreateTable'],
    [TablePermission.ALL, 'dynamodb:*', 'dynamodb:Scan'],
  ])('%s adds %s to the starter, and the handler\'s permissions stay', (permissions, added, absent) => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, tablePermissions: permissions });
    // THEN
    const template = Template.fromStack(stack);
    const defaultPolicy = findResource(template, 'AWS::IAM::Policy', 'RSTaskStarterRoleDefaultPolicy').props;
    const actions = defaultPolicy.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat());
    expect(actions).toContain(added);
    expect(actions).not.toContain(absent);
    expect(policyStatements(template, 'RSTaskStarterPolicy')[0].Action)
      .toEqual(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']);
  });

  test('none by default: the role has no default policy', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET });
    // THEN
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter((id) => id.includes('DefaultPolicy'))).toEqual([]);
  });
});

describe('tracking table settings', () => {
  test('dynamoTableProps override the defaults, keys stay fixed', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET,
      dynamoTableProps: {
        partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
        tableName: 'sql-state',
        billingMode: dynamodb.BillingMode.PROVISIONED,
        readCapacity: 3,
        writeCapacity: 4,
        pointInTimeRecovery: false,
        removalPolicy: RemovalPolicy.RETAIN,
        deletionProtection: true,
      },
    });
    // THEN
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', {
      Properties: {
        TableName: 'sql-state',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }, { AttributeName: 'invocationId', KeyType: 'RANGE' }],
        ProvisionedThroughput: { ReadCapacityUnits: 3, WriteCapacityUnits: 4 },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
        DeletionProtectionEnabled: true,
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('a table key alone means customer-managed encryption', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET, dynamoTableProps: { encryptionKey: new kms.Key(stack, 'TableKey') },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'TableKey')) },
    });
  });

  test('a customer-managed table key is granted to both roles', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET,
      dynamoTableProps: { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED },
      completerLambdaFunctionProps: {},
    });
    // THEN
    const template = Template.fromStack(stack);
    const keyArn = getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'RSTaskTrackingTableKey'));
    const keyStatement = {
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      Resource: keyArn,
    };
    expect(policyStatements(template, 'RSTaskStarterPolicy')).toContainEqual(keyStatement);
    expect(policyStatements(template, 'RSTaskCompleterPolicy')).toContainEqual(keyStatement);
  });
});
