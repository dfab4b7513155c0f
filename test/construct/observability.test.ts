import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { findLogicalId, findResource, newStack } from './helpers';
import { SfnRedshiftTasker, SfnRedshiftTaskerProps } from '../../src';
import { Metric } from '../../src/contract';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };

function synth(props: Partial<SfnRedshiftTaskerProps> = {}, stack = newStack()) {
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, ...props });
  return { stack, tasker, template: Template.fromStack(stack) };
}

/** A metric as CloudFormation and CloudWatch see it (tokens resolved). */
function rendered(stack: Stack, metric: cloudwatch.Metric) {
  return stack.resolve({
    namespace: metric.namespace,
    metricName: metric.metricName,
    dimensions: metric.dimensions,
    statistic: metric.statistic,
    period: metric.period.toSeconds(),
  });
}

describe('metric methods', () => {
  const { stack, tasker, template } = synth();
  const starterId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction');
  const dimensions = { service: 'cdk-stepfunctions-redshift', Tasker: { Ref: starterId } };

  test.each([
    ['metricStatementsFinished', 'StatementsFinished', 'Sum'],
    ['metricStatementsFailed', 'StatementsFailed', 'Sum'],
    ['metricStatementDuration', 'StatementDuration', 'Average'],
    ['metricCallbackLatency', 'CallbackLatency', 'p90'],
    ['metricRows', 'Rows', 'Sum'],
    ['metricFastPathCompletions', 'FastPathCompletions', 'Sum'],
    ['metricEventCompletions', 'EventCompletions', 'Sum'],
    ['metricReconciledStatements', 'ReconciledStatements', 'Sum'],
    ['metricOrphansCancelled', 'OrphansCancelled', 'Sum'],
    ['metricCallbackFailures', 'CallbackFailures', 'Sum'],
    ['metricStalledSweeps', 'StalledSweeps', 'Sum'],
  ] as const)('%s: %s of the starter function, %s over 5 minutes', (method, metricName, statistic) => {
    expect(rendered(stack, tasker[method]())).toEqual({
      namespace: 'CdkStepFunctionsRedshift', metricName, dimensions, statistic, period: 300,
    });
  });

  test('the names are the contract\'s, which the handler emits', () => {
    expect(tasker.metricStatementsFinished().metricName).toBe(Metric.STATEMENTS_FINISHED);
    expect(tasker.metricIgnoredEvents().metricName).toBe(Metric.IGNORED_EVENTS);
    expect(tasker.metricDuplicateEvents().namespace).toBe(Metric.NAMESPACE);
  });

  test('options override the defaults one by one', () => {
    expect(rendered(stack, tasker.metricStatementDuration({ statistic: 'p99', period: Duration.minutes(1) }))).toEqual({
      namespace: 'CdkStepFunctionsRedshift', metricName: 'StatementDuration', dimensions, statistic: 'p99', period: 60,
    });
    expect(tasker.metricRows({ label: 'rows' }).label).toBe('rows');
  });

  test('metric(name) is any metric of the namespace for this tasker, Sum by default', () => {
    expect(rendered(stack, tasker.metric('SomethingNew'))).toEqual({
      namespace: 'CdkStepFunctionsRedshift', metricName: 'SomethingNew', dimensions, statistic: 'Sum', period: 300,
    });
  });

  test('IgnoredEvents, DuplicateEvents and MismatchedEvents are counted by the completer (here the starter)', () => {
    expect(rendered(stack, tasker.metricIgnoredEvents()).dimensions).toEqual(dimensions);
    expect(rendered(stack, tasker.metricDuplicateEvents()).statistic).toBe('Sum');
    expect(rendered(stack, tasker.metricMismatchedEvents())).toEqual({
      namespace: 'CdkStepFunctionsRedshift', metricName: Metric.MISMATCHED_EVENTS, dimensions, statistic: 'Sum', period: 300,
    });
  });

  test('the queue metrics: dead-letter depth (Maximum) and the oldest message\'s age (Maximum)', () => {
    const dlqId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionDeadLetterQueue');
    const queueId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionQueue');
    expect(rendered(stack, tasker.metricDeadLetterMessages())).toEqual({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: { 'Fn::GetAtt': [dlqId, 'QueueName'] } },
      statistic: 'Maximum',
      period: 300,
    });
    expect(rendered(stack, tasker.metricQueueOldestMessageAge())).toEqual({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateAgeOfOldestMessage',
      dimensions: { QueueName: { 'Fn::GetAtt': [queueId, 'QueueName'] } },
      statistic: 'Maximum',
      period: 300,
    });
  });
});

describe('a separate completer', () => {
  const { stack, tasker, template } = synth({ completerLambdaFunctionProps: { memorySize: 512 } });
  test('counts the events it processes; the statements stay the starter\'s', () => {
    const completerId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskCompleterFunction');
    const starterId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction');
    expect(rendered(stack, tasker.metricIgnoredEvents()).dimensions.Tasker).toEqual({ Ref: completerId });
    expect(rendered(stack, tasker.metricDuplicateEvents()).dimensions.Tasker).toEqual({ Ref: completerId });
    expect(rendered(stack, tasker.metricCallbackFailures()).dimensions.Tasker).toEqual({ Ref: starterId });
  });
});

describe('a tasker sharing another tasker\'s callback infrastructure', () => {
  const stack = newStack();
  const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: CLUSTER });
  const second = new SfnRedshiftTasker(stack, 'Second', {
    redshiftTargetProps: { workgroupName: 'reporting', dbName: 'dev' }, createCallbackInfra: false, existingTableObj: first.trackingTable,
  });
  const template = Template.fromStack(stack);

  test('measures its statements by its own starter', () => {
    const secondId = findLogicalId(template, 'AWS::Lambda::Function', 'SecondStarterFunction');
    expect(rendered(stack, second.metricStatementsFinished()).dimensions.Tasker).toEqual({ Ref: secondId });
  });

  test('reads the events, the queue and the dead-letter queue of the shared infrastructure', () => {
    expect(rendered(stack, second.metricIgnoredEvents())).toEqual(rendered(stack, first.metricIgnoredEvents()));
    expect(rendered(stack, second.metricDuplicateEvents())).toEqual(rendered(stack, first.metricDuplicateEvents()));
    expect(rendered(stack, second.metricDeadLetterMessages())).toEqual(rendered(stack, first.metricDeadLetterMessages()));
    expect(rendered(stack, second.metricQueueOldestMessageAge())).toEqual(rendered(stack, first.metricQueueOldestMessageAge()));
  });

  test('gets a callback failures alarm of its own, and no dead-letter queue alarm (the owner has it)', () => {
    expect(second.deadLetterQueueAlarm).toBeUndefined();
    expect(second.callbackFailuresAlarm).toBeDefined();
    expect(first.deadLetterQueueAlarm).toBeDefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });
});

describe('metrics that cannot be known', () => {
  test('an imported shared table: the events and queues belong to a tasker of another app', () => {
    const stack = newStack();
    const tasker = new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER, createCallbackInfra: false, existingTableObj: dynamodb.Table.fromTableName(stack, 'T', 'shared'),
    });
    expect(() => tasker.metricIgnoredEvents())
      .toThrow(/IgnoredEvents of TestStack\/RSTask cannot be measured: the tasker shares the callback infrastructure of another tasker.*got TestStack\/T\).*Ask the tasker that owns the queue/s);
    expect(() => tasker.metricDeadLetterMessages()).toThrow(/The dead-letter queue of TestStack\/RSTask cannot be measured/);
    expect(() => tasker.metricQueueOldestMessageAge()).toThrow(/The completion queue of TestStack\/RSTask cannot be measured/);
    expect(() => tasker.metricStatementsFinished()).not.toThrow();
  });

  test('no dead-letter queue: its metric says so, and there is no dead-letter queue alarm', () => {
    const { tasker, template } = synth({ deployDeadLetterQueue: false });
    expect(() => tasker.metricDeadLetterMessages())
      .toThrow(/its completion queue has no dead-letter queue the construct knows \(got deployDeadLetterQueue: false/);
    expect(tasker.deadLetterQueueAlarm).toBeUndefined();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
  });

  test('an existing queue with a dead-letter queue of the app: its metric and alarm use it', () => {
    const stack = newStack();
    const dlq = new sqs.Queue(stack, 'MyDlq');
    const queue = new sqs.Queue(stack, 'MyQueue', { deadLetterQueue: { queue: dlq, maxReceiveCount: 5 } });
    const { tasker } = synth({ existingQueueObj: queue }, stack);
    expect(tasker.deadLetterQueueAlarm).toBeDefined();
    expect(stack.resolve(tasker.metricDeadLetterMessages().dimensions)).toEqual({ QueueName: { 'Fn::GetAtt': [expect.stringMatching(/^MyDlq/), 'QueueName'] } });
  });
});

describe('alarms', () => {
  const { tasker, template } = synth();

  test('a message in the dead-letter queue alarms, without actions', () => {
    const dlqId = findLogicalId(template, 'AWS::SQS::Queue', 'RSTaskCompletionDeadLetterQueue');
    const alarm = findResource(template, 'AWS::CloudWatch::Alarm', 'RSTaskDeadLetterQueueAlarm').props;
    expect(alarm).toEqual(expect.objectContaining({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Statistic: 'Maximum',
      Period: 300,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringMatching(/TestStack\/RSTask .*dead-letter queue: its callback never happened/),
    }));
    expect(alarm.AlarmActions).toBeUndefined();
  });

  test('a failed callback alarms', () => {
    const starterId = findLogicalId(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkStepFunctionsRedshift',
      MetricName: 'CallbackFailures',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: Match.arrayWith([{ Name: 'Tasker', Value: { Ref: starterId } }, { Name: 'service', Value: 'cdk-stepfunctions-redshift' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('are exposed for actions', () => {
    expect(tasker.deadLetterQueueAlarm).toBeInstanceOf(cloudwatch.Alarm);
    expect(tasker.callbackFailuresAlarm).toBeInstanceOf(cloudwatch.Alarm);
  });

  test('createAlarms: false creates none', () => {
    const off = synth({ createAlarms: false });
    off.template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(off.tasker.deadLetterQueueAlarm).toBeUndefined();
    expect(off.tasker.callbackFailuresAlarm).toBeUndefined();
  });
});

describe('dashboard', () => {
  test('none by default', () => {
    const { tasker, template } = synth();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(tasker.dashboard).toBeUndefined();
  });

  test('createDashboard: true graphs the tasker\'s metrics and queues', () => {
    const { tasker, template } = synth({ createDashboard: true });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(tasker.dashboard).toBeDefined();
    const body = JSON.stringify(findResource(template, 'AWS::CloudWatch::Dashboard', 'RSTaskDashboard').props.DashboardBody);
    for (const name of [
      'StatementsFinished', 'StatementsFailed', 'StatementDuration', 'CallbackLatency', 'FastPathCompletions', 'EventCompletions',
      'ReconciledStatements', 'CallbackFailures', 'OrphansCancelled', 'IgnoredEvents', 'DuplicateEvents',
      'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible',
    ]) expect(body).toContain(`\\"${name}\\"`);
  });

  test('a tasker of an imported shared table graphs what it can know', () => {
    const stack = newStack();
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER,
      createCallbackInfra: false,
      existingTableObj: dynamodb.Table.fromTableName(stack, 'T', 'shared'),
      createDashboard: true,
    });
    const body = JSON.stringify(findResource(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard', 'RSTaskDashboard').props.DashboardBody);
    expect(body).toContain('\\"StatementsFinished\\"');
    expect(body).not.toContain('Completion queues');
    expect(body).not.toContain('IgnoredEvents');
    expect(body).not.toContain('ApproximateAgeOfOldestMessage');
  });
});
