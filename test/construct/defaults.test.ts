import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { findLogicalId, findResource, getAttArn, newStack, policyStatements, stackArn } from './helpers';
import { SfnRedshiftTasker } from '../../src';

describe('a tasker with default props', () => {
  // GIVEN
  const stack = newStack();
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', {
    redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'admin' },
  });
  const template = Template.fromStack(stack);
  const tableId = findLogicalId(template, 'AWS::DynamoDB::Table', 'RSTaskTrackingTable');
  const functionId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction');
  const roleId = findLogicalId(template, 'AWS::IAM::Role', 'RSTaskStarterRole');
  const queueId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionQueue');
  const dlqId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionDeadLetterQueue');
  const keyId = findLogicalId(template, 'AWS::KMS::Key', 'RSTaskCompletionQueueKey');
  const ruleId = findLogicalId(template, 'AWS::Events::Rule', 'RSTaskStatusChangeRule');
  const logGroupId = findLogicalId(template, 'AWS::Logs::LogGroup', 'RSTaskStarterLogGroup');

  test('creates exactly the resources of the callback pattern', () => {
    // THEN
    const counts = Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
      .reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.Type]: (acc[r.Type] ?? 0) + 1 }), {});
    expect(counts).toEqual({
      'AWS::DynamoDB::Table': 1,
      'AWS::IAM::Role': 1,
      'AWS::IAM::Policy': 3,
      'AWS::Logs::LogGroup': 1,
      'AWS::Lambda::Function': 1,
      'AWS::KMS::Key': 1,
      'AWS::SQS::Queue': 2,
      'AWS::SQS::QueuePolicy': 2,
      // the status-change rule and the reconciler's schedule, which may invoke the function
      'AWS::Events::Rule': 2,
      'AWS::Lambda::Permission': 1,
      'AWS::Lambda::EventSourceMapping': 1,
      // the dead-letter queue's and the failed callbacks' alarms
      'AWS::CloudWatch::Alarm': 2,
    });
  });

  test('the tracking table has the handler\'s keys, TTL, on-demand billing, PITR, encryption and DESTROY', () => {
    // THEN
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }, { AttributeName: 'invocationId', KeyType: 'RANGE' }],
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 'invocationId', AttributeType: 'S' },
          { AttributeName: 'inFlightOf', AttributeType: 'S' },
          { AttributeName: 'registeredAt', AttributeType: 'N' },
        ],
        // Sparse: statements in flight, per starter function, by registration time (the reconciler's query).
        GlobalSecondaryIndexes: [{
          IndexName: 'inFlight',
          KeySchema: [{ AttributeName: 'inFlightOf', KeyType: 'HASH' }, { AttributeName: 'registeredAt', KeyType: 'RANGE' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['callback_details', 'statementId'] },
        }],
        TimeToLiveSpecification: { AttributeName: 'TTL', Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      },
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  test('the function runs the bundled handler on Node.js 24 with tracing, its log group and no reserved concurrency', () => {
    // THEN
    const fn = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props;
    expect(fn).toEqual(expect.objectContaining({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 60,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
      Role: getAttArn(roleId),
    }));
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('the function\'s environment is the handler\'s configuration', () => {
    // THEN
    const fn = findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props;
    expect(fn.Environment.Variables).toEqual({
      DDB_TABLE_NAME: { Ref: tableId },
      CLUSTER_IDENTIFIER: 'my-cluster',
      DATABASE: 'dev',
      DB_USER: 'admin',
      TTL: '1',
      LOG_LEVEL: 'INFO',
      FAST_PATH_WAIT_SECONDS: '2',
    });
  });

  test('the role has no managed policies: only the construct\'s three policies', () => {
    // THEN
    const role = findResource(template, 'AWS::IAM::Role', 'RSTaskStarterRole').props;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    for (const prefix of ['RSTaskStarterPolicy', 'RSTaskCompleterPolicy', 'RSTaskReconcilerPolicy']) {
      expect(findResource(template, 'AWS::IAM::Policy', prefix).props.Roles).toEqual([{ Ref: roleId }]);
    }
  });

  test('the starter policy grants exactly what the API path needs', () => {
    // THEN
    expect(policyStatements(template, 'RSTaskStarterPolicy')).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
        Resource: getAttArn(tableId),
      },
      {
        Effect: 'Allow',
        Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
        Resource: stackArn('redshift', 'cluster:my-cluster'),
      },
      {
        Effect: 'Allow',
        Action: ['redshift-data:DescribeStatement', 'redshift-data:CancelStatement', 'redshift-data:GetStatementResult',
          'redshift-data:ListStatements'],
        Resource: '*',
        Condition: { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } },
      },
      // What became of a session that refused a statement (busy or closed).
      { Effect: 'Allow', Action: 'redshift-data:ListSessions', Resource: '*' },
      // The starter calls back itself (the fast path, sweeps), whatever function consumes the queue.
      { Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: 'redshift:GetClusterCredentials',
        Resource: [stackArn('redshift', 'dbuser:my-cluster/admin'), stackArn('redshift', 'dbname:my-cluster/dev')],
      },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAttArn(logGroupId) },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
  });

  test('the completer policy grants exactly what completion needs', () => {
    // THEN
    expect(policyStatements(template, 'RSTaskCompleterPolicy')).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], Resource: getAttArn(tableId) },
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: getAttArn(queueId),
      },
      { Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], Resource: '*' },
      // No Data API permission: the function reads error texts with the starter policy's owner-scoped DescribeStatement.
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAttArn(keyId) },
    ]);
  });

  test('the reconciler policy: the index (callbacks and heartbeats are the starter policy\'s)', () => {
    // THEN
    expect(policyStatements(template, 'RSTaskReconcilerPolicy')).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [getAttArn(tableId), '/index/inFlight']] } },
    ]);
  });

  test('a schedule sends {"action": "reconcile"} to the function every 5 minutes, which only that rule may invoke this way', () => {
    // THEN
    const scheduleId = findLogicalId(template, 'AWS::Events::Rule', 'RSTaskReconcileSchedule');
    expect(findResource(template, 'AWS::Events::Rule', 'RSTaskReconcileSchedule').props).toEqual(expect.objectContaining({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [{
        Arn: getAttArn(functionId), Id: 'Target0', Input: '{"action":"reconcile"}', RetryPolicy: { MaximumRetryAttempts: 0 },
      }],
    }));
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', FunctionName: getAttArn(functionId), Principal: 'events.amazonaws.com', SourceArn: getAttArn(scheduleId),
    });
    expect(tasker.reconcileSchedule).toBeDefined();
  });

  test('the function depends on its policies, the event source mapping on the completer policy', () => {
    // THEN
    const starterPolicyId = findLogicalId(template, 'AWS::IAM::Policy', 'RSTaskStarterPolicy');
    const completerPolicyId = findLogicalId(template, 'AWS::IAM::Policy', 'RSTaskCompleterPolicy');
    const reconcilerPolicyId = findLogicalId(template, 'AWS::IAM::Policy', 'RSTaskReconcilerPolicy');
    expect(findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').raw.DependsOn)
      .toEqual(expect.arrayContaining([starterPolicyId, completerPolicyId, reconcilerPolicyId]));
    expect(findResource(template, 'AWS::Lambda::EventSourceMapping', 'RSTask').raw.DependsOn).toEqual([completerPolicyId]);
  });

  test('the rule takes the status changes of statements named as taskers name them to the queue, failed deliveries to the DLQ', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.redshift-data'],
        'detail-type': ['Redshift Data Statement Status Change'],
        'detail': { statementName: [{ wildcard: '*:*.*' }] },
      },
      State: 'ENABLED',
      Targets: [{ Arn: getAttArn(queueId), Id: 'Target0', DeadLetterConfig: { Arn: getAttArn(dlqId) } }],
    });
    const rule = findResource(template, 'AWS::Events::Rule', 'RSTaskStatusChangeRule').props;
    expect(rule.EventBusName).toBeUndefined();
  });

  test('the queue uses the customer-managed key, a DLQ after 15 receives, and 6x the function timeout', () => {
    // THEN
    expect(findResource(template, 'AWS::SQS::Queue', 'RSTaskCompletionQueue').props).toEqual({
      KmsMasterKeyId: getAttArn(keyId),
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: getAttArn(dlqId), maxReceiveCount: 15 },
    });
    expect(findResource(template, 'AWS::SQS::Queue', 'RSTaskCompletionDeadLetterQueue').props).toEqual({
      KmsMasterKeyId: getAttArn(keyId),
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test.each([
    ['queue', 'RSTaskCompletionQueue'],
    ['dead-letter queue', 'RSTaskCompletionDeadLetterQueue'],
  ])('the %s policy enforces TLS, lets only this rule send and denies every other sender', (_name, prefix) => {
    // THEN
    const target = findLogicalId(template, 'AWS::SQS::Queue', prefix);
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy'))
      .find((p: any) => p.Properties.Queues[0].Ref === target) as any;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:*',
        Resource: getAttArn(target),
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Sid: 'AllowStatusChangeRule',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAttArn(target),
        Condition: { ArnEquals: { 'aws:SourceArn': getAttArn(ruleId) } },
      },
      {
        Sid: 'DenyOtherSenders',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Resource: getAttArn(target),
        Condition: { ArnNotEquals: { 'aws:SourceArn': getAttArn(ruleId) } },
      },
    ]);
  });

  test('the key policy lets EventBridge encrypt for the queue', () => {
    // THEN
    const key = findResource(template, 'AWS::KMS::Key', 'RSTaskCompletionQueueKey').props;
    expect(key.KeyPolicy.Statement).toContainEqual({
      Sid: 'AllowEventBridgeToUseTheKey',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
    });
  });

  test('the event source mapping reports partial batch failures, batch size 10', () => {
    // THEN
    expect(findResource(template, 'AWS::Lambda::EventSourceMapping', 'RSTask').props).toEqual({
      BatchSize: 10,
      EventSourceArn: getAttArn(queueId),
      FunctionName: { Ref: functionId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('exposes the resources it created', () => {
    // THEN
    const resolve = (x: unknown) => stack.resolve(x);
    expect(resolve(tasker.lambdaFunction.functionArn)).toEqual(getAttArn(functionId));
    expect(tasker.completerFunction).toBe(tasker.lambdaFunction);
    expect(resolve(tasker.trackingTable.tableName)).toEqual({ Ref: tableId });
    expect(resolve(tasker.queue!.queueArn)).toEqual(getAttArn(queueId));
    expect(resolve(tasker.deadLetterQueue!.queueArn)).toEqual(getAttArn(dlqId));
    expect(resolve(tasker.rule!.ruleArn)).toEqual(getAttArn(ruleId));
    expect(resolve(tasker.encryptionKey!.keyArn)).toEqual(getAttArn(keyId));
  });

  test('emits no warnings', () => {
    // THEN
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });
});

describe('shared asset', () => {
  test('taskers of one app share one handler asset', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: { clusterIdentifier: 'a', dbName: 'dev' } });
    new SfnRedshiftTasker(stack, 'Second', {
      redshiftTargetProps: { workgroupName: 'wg-1', dbName: 'dev' },
      createCallbackInfra: false,
      existingTableObj: first.trackingTable,
    });
    // THEN
    const keys = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((fn: any) => fn.Properties.Code.S3Key);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(1);
    const assets = stack.node.root.node.findAll().filter((c) => c.constructor.name === 'AssetStaging') as any[];
    expect(new Set(assets.map((a) => a.assetHash)).size).toBe(1);
  });
});
