import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { findLogicalId, findResource, getAttArn, newStack, policyStatements } from './helpers';
import { SfnRedshiftTasker } from '../../src';

const TARGET = { clusterIdentifier: 'my-cluster', dbName: 'dev' };

describe('an existing queue', () => {
  // GIVEN
  const stack = newStack();
  const key = new kms.Key(stack, 'MyKey');
  const existing = new sqs.Queue(stack, 'MyQueue', {
    encryptionMasterKey: key,
    visibilityTimeout: Duration.minutes(10),
    deadLetterQueue: { queue: new sqs.Queue(stack, 'MyDlq'), maxReceiveCount: 3 },
  });
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, existingQueueObj: existing });
  const template = Template.fromStack(stack);
  const queueId = findLogicalId(template, 'AWS::SQS::Queue', 'MyQueue');
  const keyId = findLogicalId(template, 'AWS::KMS::Key', 'MyKey');

  test('replaces the queue, dead-letter queue and key', () => {
    // THEN
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(tasker.queue).toBe(existing);
    expect(tasker.encryptionKey).toBe(key);
    expect(stack.resolve(tasker.deadLetterQueue!.queueArn)).toEqual(getAttArn(findLogicalId(template, 'AWS::SQS::Queue', 'MyDlq')));
  });

  test('is the rule\'s target, allowed for this rule only, and consumed by the completer', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ Arn: getAttArn(queueId) })] });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: [{
          Sid: 'AllowStatusChangeRule',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: getAttArn(queueId),
          Condition: { ArnEquals: { 'aws:SourceArn': getAttArn(findLogicalId(template, 'AWS::Events::Rule', 'RSTaskStatusChangeRule')) } },
        }, {
          Sid: 'DenyOtherSenders',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: getAttArn(queueId),
          Condition: { ArnNotEquals: { 'aws:SourceArn': getAttArn(findLogicalId(template, 'AWS::Events::Rule', 'RSTaskStatusChangeRule')) } },
        }],
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: getAttArn(queueId) });
    const statements = policyStatements(template, 'RSTaskCompleterPolicy');
    expect(statements).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:ReceiveMessage']), Resource: getAttArn(queueId) }));
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAttArn(keyId) });
  });

  test('gets EventBridge allowed on its key', () => {
    // THEN
    expect(findResource(template, 'AWS::KMS::Key', 'MyKey').props.KeyPolicy.Statement).toContainEqual(expect.objectContaining({
      Sid: 'AllowEventBridgeToUseTheKey', Principal: { Service: 'events.amazonaws.com' },
    }));
  });
});

describe('an imported queue', () => {
  test('warns that EventBridge must be allowed on it and its key', () => {
    // GIVEN
    const stack = newStack();
    const imported = sqs.Queue.fromQueueAttributes(stack, 'Imported', {
      queueArn: 'arn:aws:sqs:eu-west-1:123456789012:completions',
      keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, existingQueueObj: imported });
    // THEN
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/queue .*Imported is imported.*allow events.amazonaws.com sqs:SendMessage/),
      expect.stringMatching(/key .* is imported.*kms:GenerateDataKey and kms:Decrypt/),
    ]));
    Template.fromStack(stack).resourceCountIs('AWS::SQS::QueuePolicy', 0);
  });
});

describe('customer-managed key off', () => {
  // GIVEN
  const stack = newStack();
  // WHEN
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', {
    redshiftTargetProps: TARGET, enableEncryptionWithCustomerManagedKey: false,
  });
  const template = Template.fromStack(stack);

  test('encrypts both queues with SQS-managed keys and creates no key', () => {
    // THEN
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(tasker.encryptionKey).toBeUndefined();
    for (const prefix of ['RSTaskCompletionQueue', 'RSTaskCompletionDeadLetterQueue']) {
      const queue = findResource(template, 'AWS::SQS::Queue', prefix).props;
      expect(queue.SqsManagedSseEnabled).toBe(true);
      expect(queue.KmsMasterKeyId).toBeUndefined();
    }
  });

  test('the completer needs no kms:Decrypt', () => {
    // THEN
    const actions = policyStatements(template, 'RSTaskCompleterPolicy').flatMap((s) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('kms:'))).toEqual([]);
  });
});

describe('key options', () => {
  test('encryptionKey replaces the created key and gets the EventBridge statement', () => {
    // GIVEN
    const stack = newStack();
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    // WHEN
    const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, encryptionKey: key });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(tasker.encryptionKey).toBe(key);
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: getAttArn(findLogicalId(template, 'AWS::KMS::Key', 'MyKey')) });
  });

  test('encryptionKeyProps configure the created key', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET, encryptionKeyProps: { alias: 'alias/sql-completions', pendingWindow: Duration.days(7) },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, PendingWindowInDays: 7 });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/sql-completions' });
  });
});

describe('queue and dead-letter queue options', () => {
  test('queueProps, deadLetterQueueProps and maxReceiveCount configure the queues', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET,
      queueProps: { retentionPeriod: Duration.days(1), visibilityTimeout: Duration.minutes(10) },
      deadLetterQueueProps: { queueName: 'sql-completions-dlq' },
      maxReceiveCount: 5,
    });
    // THEN
    const template = Template.fromStack(stack);
    const dlqId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionDeadLetterQueue');
    expect(findResource(template, 'AWS::SQS::Queue', 'RSTaskCompletionQueue').props).toEqual(expect.objectContaining({
      MessageRetentionPeriod: 86400,
      VisibilityTimeout: 600,
      RedrivePolicy: { deadLetterTargetArn: getAttArn(dlqId), maxReceiveCount: 5 },
    }));
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'sql-completions-dlq', MessageRetentionPeriod: 1209600 });
  });

  test('deployDeadLetterQueue false: one queue, no redrive, no target dead-letter config', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, deployDeadLetterQueue: false });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    expect(tasker.deadLetterQueue).toBeUndefined();
    expect(findResource(template, 'AWS::SQS::Queue', 'RSTaskCompletionQueue').props.RedrivePolicy).toBeUndefined();
    expect(findResource(template, 'AWS::Events::Rule', 'RSTaskStatusChangeRule').props.Targets[0].DeadLetterConfig).toBeUndefined();
  });

  test('a visibility timeout under six times the completer\'s timeout is kept with a warning', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: TARGET, queueProps: { visibilityTimeout: Duration.seconds(90) },
    });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 90 });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('less than six times the completer\'s timeout')))
      .toHaveLength(1);
  });

  test('enableQueuePurging is deprecated: it grants nothing and warns', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: TARGET, enableQueuePurging: true });
    // THEN
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('sqs:PurgeQueue');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('enableQueuePurging is deprecated')))
      .toHaveLength(1);
  });
});
