import { Annotations as CdkAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { findLogicalId, findResource, getAttArn, newStack, policyStatements, stackArn } from './helpers';
import { SfnRedshiftTasker } from '../../src';
import { testApp } from '../support/temp';

describe('a second tasker sharing the first one\'s callback infrastructure', () => {
  // GIVEN
  const stack = newStack();
  const first = new SfnRedshiftTasker(stack, 'First', {
    redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'etl' },
  });
  // WHEN
  const second = new SfnRedshiftTasker(stack, 'Second', {
    redshiftTargetProps: {
      workgroupName: 'analytics', dbName: 'reporting', secret: new secretsmanager.Secret(stack, 'ReportingCredentials'),
    },
    createCallbackInfra: false,
    existingTableObj: first.trackingTable,
  });
  const template = Template.fromStack(stack);
  const tableId = findLogicalId(template, 'AWS::DynamoDB::Table', 'FirstTrackingTable');
  const env = (prefix: string) => findResource(template, 'AWS::Lambda::Function', prefix).props.Environment.Variables;

  test('adds only a function, its role, policies, log group and reconciler schedule', () => {
    // THEN
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    // the first tasker's status-change rule and one reconciler schedule per starter
    template.resourceCountIs('AWS::Events::Rule', 3);
    expect(second.reconcileSchedule).toBeDefined();
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    // The construct's policy, and the role's default policy with the secret's read grant.
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => id.startsWith('Second')).sort()).toEqual([
      expect.stringMatching(/^SecondReconcilerPolicy/),
      expect.stringMatching(/^SecondStarterPolicy/),
      expect.stringMatching(/^SecondStarterRoleDefaultPolicy/),
    ]);
    expect(findResource(template, 'AWS::IAM::Policy', 'SecondStarterRoleDefaultPolicy').props.PolicyDocument.Statement
      .map((s: any) => s.Action)).toEqual([['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']]);
    expect(second.completerFunction).toBeUndefined();
    expect(second.queue).toBeUndefined();
    expect(second.deadLetterQueue).toBeUndefined();
    expect(second.rule).toBeUndefined();
    expect(second.encryptionKey).toBeUndefined();
  });

  test('records its statements in the first tasker\'s table, which the first completer reads', () => {
    // THEN
    expect(stack.resolve(second.trackingTable.tableName)).toEqual({ Ref: tableId });
    expect(env('SecondStarterFunction')).toEqual({
      DDB_TABLE_NAME: { Ref: tableId },
      WORKGROUP_NAME: 'analytics',
      DATABASE: 'reporting',
      SECRET_ARN: { Ref: findLogicalId(template, 'AWS::SecretsManager::Secret', 'ReportingCredentials') },
      TTL: '1',
      LOG_LEVEL: 'INFO',
      FAST_PATH_WAIT_SECONDS: '2',
    });
    expect(env('FirstStarterFunction').DDB_TABLE_NAME).toEqual({ Ref: tableId });
    expect(policyStatements(template, 'SecondStarterPolicy')[0]).toEqual({
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      Resource: getAttArn(tableId),
    });
  });

  test('its statements\' events reach the first tasker\'s completer: the rule admits every statement named as taskers name them', () => {
    // THEN
    const rule = findResource(template, 'AWS::Events::Rule', 'FirstStatusChangeRule').props;
    expect(rule.EventPattern).toEqual({
      'source': ['aws.redshift-data'],
      'detail-type': ['Redshift Data Statement Status Change'],
      'detail': { statementName: [{ wildcard: '*:*.*' }] },
    });
    const mapping = findResource(template, 'AWS::Lambda::EventSourceMapping', 'First').props;
    expect(mapping.FunctionName).toEqual({ Ref: findLogicalId(template, 'AWS::Lambda::Function', 'FirstStarterFunction') });
    expect(mapping.EventSourceArn).toEqual(getAttArn(findLogicalId(template, 'AWS::SQS::Queue', 'FirstCompletionQueue')));
  });

  test('the first completer may complete them: table claims and callbacks are not tied to its own statements', () => {
    // THEN
    const statements = policyStatements(template, 'FirstCompleterPolicy');
    expect(statements).toContainEqual({
      Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], Resource: getAttArn(tableId),
    });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'], Resource: '*' });
    // It reads no statement itself beyond its own starter's (owner-scoped in the starter policy) ...
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('redshift-data:'))).toEqual([]);
  });

  test('... and asks the second tasker\'s starter for the error text of its failures (a resource-based permission)', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: getAttArn(findLogicalId(template, 'AWS::Lambda::Function', 'SecondStarterFunction')),
      Principal: getAttArn(findLogicalId(template, 'AWS::IAM::Role', 'FirstStarterRole')),
    });
  });

  test('the second tasker gets no queue permissions, only its own target\'s (and callbacks: its fast path and sweeps)', () => {
    // THEN
    const actions = policyStatements(template, 'SecondStarterPolicy').flatMap((s) => [s.Action].flat());
    expect(actions.filter((a: string) => /^(states|sqs|kms):/.test(a))).toEqual(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat']);
    expect(policyStatements(template, 'SecondStarterPolicy')[1]).toEqual({
      Effect: 'Allow',
      Action: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
      Resource: stackArn('redshift-serverless', 'workgroup/*'),
    });
  });
});

describe('a second callback infrastructure for the same account and region', () => {
  const TARGET = { clusterIdentifier: 'my-cluster', dbName: 'dev', dbUser: 'etl' };
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('secondCallbackInfra'));

  test('warns on the second tasker, with the fix', () => {
    // GIVEN
    const stack = newStack();
    new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: TARGET });
    // WHEN
    new SfnRedshiftTasker(stack, 'Second', { redshiftTargetProps: { ...TARGET, dbUser: 'report' } });
    // THEN
    const warnings = warningsOf(stack);
    expect(warnings.map((warning) => warning.id)).toEqual(['/TestStack/Second']);
    expect(warnings[0].entry.data).toMatch(new RegExp('TestStack/Second creates a second callback infrastructure \\(rule, queues, '
      + 'key, alarms\\) for account the account of deployment and region the region of deployment, where TestStack/First '
      + 'already has one \\(got createCallbackInfra: true, the default\\)\\. .*Share the first one: pass createCallbackInfra: '
      + 'false and existingTableObj: <TestStack/First>\\.trackingTable\\.'));
  });

  test('across the stacks of one app: the same literal account and region warn, another region does not', () => {
    const app = testApp();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const one = new Stack(app, 'One', { env });
    const two = new Stack(app, 'Two', { env });
    const three = new Stack(app, 'Three', { env: { ...env, region: 'us-east-1' } });
    for (const stack of [one, two, three]) new SfnRedshiftTasker(stack, 'Tasker', { redshiftTargetProps: TARGET });
    expect(warningsOf(one)).toEqual([]);
    expect(warningsOf(two)).toHaveLength(1);
    expect(warningsOf(two)[0].entry.data).toMatch(/for account 123456789012 and region eu-west-1, where One\/Tasker already has one/);
    expect(warningsOf(three)).toEqual([]);
  });

  test('no warning when the second shares the first one\'s, or acknowledges it', () => {
    const stack = newStack();
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: TARGET });
    new SfnRedshiftTasker(stack, 'Shared', { redshiftTargetProps: TARGET, createCallbackInfra: false, existingTableObj: first.trackingTable });
    const apart = new SfnRedshiftTasker(stack, 'Apart', { redshiftTargetProps: TARGET, createCallbackInfra: true });
    CdkAnnotations.of(apart).acknowledgeWarning('cdk-stepfunctions-redshift:secondCallbackInfra', 'kept apart on purpose');
    expect(warningsOf(stack)).toEqual([]);
  });
});
