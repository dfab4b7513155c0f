/**
 * What makes a tasker observable: the CloudWatch metrics the handler emits (Embedded Metric Format, names from the
 * contract) and the queue metrics, the default alarms and the optional dashboard.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, Node } from 'constructs';
import { SharedCallbackInfra, sharedCallbackInfra } from './shared-completers';
import { Metric } from '../contract';

/** Period of every metric unless the caller gives one. */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * A metric of the tasker's namespace for the handler function `fn` (its name is the `Tasker` dimension), with the
 * given default statistic; `props` override the defaults one by one.
 */
export function taskerMetric(
  fn: lambda.IFunction, metricName: string, statistic: string, props: cloudwatch.MetricOptions | undefined,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: Metric.NAMESPACE,
    metricName,
    dimensionsMap: { [Metric.SERVICE_DIMENSION]: Metric.SERVICE_NAME, [Metric.TASKER_DIMENSION]: fn.functionName },
    period: METRIC_PERIOD,
    statistic,
    ...props,
  });
}

/** What the tasker knows of its callback infrastructure, own or shared. */
export interface CallbackInfraView {
  /** The tasker's path, for messages. */
  readonly path: string;
  readonly trackingTable: dynamodb.ITable;
  readonly completerFunction?: lambda.IFunction;
  readonly queue?: sqs.IQueue;
  readonly deadLetterQueue?: sqs.IQueue;
}

function sharedOrThrow(tasker: CallbackInfraView, what: string): SharedCallbackInfra {
  const shared = sharedCallbackInfra(tasker.trackingTable);
  if (shared === undefined) {
    throw new Error(`${what} of ${tasker.path} cannot be measured: the tasker shares the callback infrastructure of `
      + 'another tasker (createCallbackInfra: false), and no tasker of this app reads its table (got '
      + `${tasker.trackingTable.node.path}). Ask the tasker that owns the queue for this metric.`);
  }
  return shared;
}

/** The function that processes the tasker's queue messages: its completer, or the completer it shares. */
export function eventProcessor(tasker: CallbackInfraView, what: string): lambda.IFunction {
  return tasker.completerFunction ?? sharedOrThrow(tasker, what).completer.fn;
}

/** The completion queue the tasker's events arrive on: its own, or the one it shares. */
export function completionQueue(tasker: CallbackInfraView, what: string): sqs.IQueue {
  return tasker.queue ?? sharedOrThrow(tasker, what).queue;
}

/** The dead-letter queue of the tasker's completion queue: its own, or the one it shares. */
export function deadLetterQueue(tasker: CallbackInfraView, what: string): sqs.IQueue {
  const dlq = tasker.queue !== undefined ? tasker.deadLetterQueue : sharedOrThrow(tasker, what).deadLetterQueue;
  if (dlq === undefined) {
    throw new Error(`${what} of ${tasker.path} cannot be measured: its completion queue has no dead-letter queue the `
      + 'construct knows (got deployDeadLetterQueue: false, or an existingQueueObj whose dead-letter queue is not a '
      + 'sqs.Queue of this app). Deploy the dead-letter queue, or use the metrics of your own queue.');
  }
  return dlq;
}

/** The tasker's metrics that the alarms and the dashboard use. */
export interface TaskerMetrics {
  readonly node: Node;
  readonly deadLetterQueue?: sqs.IQueue;
  metricStatementsFinished(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricStatementsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricStatementDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricCallbackLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricFastPathCompletions(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricEventCompletions(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricReconciledStatements(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricOrphansCancelled(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricCallbackFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricIgnoredEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDuplicateEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricMismatchedEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricStalledSweeps(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricQueueOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

export interface TaskerAlarms {
  readonly deadLetterQueueAlarm?: cloudwatch.Alarm;
  readonly callbackFailuresAlarm?: cloudwatch.Alarm;
}

/**
 * The default alarms, without actions: a message in the tasker's own dead-letter queue (a tasker that shares the
 * callback infrastructure has none: the owner's alarm covers it), and a failed callback of its statements.
 */
export function createAlarms(scope: Construct, tasker: TaskerMetrics): TaskerAlarms {
  const atLeastOnce = {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  const deadLetterQueueAlarm = tasker.deadLetterQueue === undefined ? undefined
    : new cloudwatch.Alarm(scope, 'DeadLetterQueueAlarm', {
      ...atLeastOnce,
      metric: tasker.metricDeadLetterMessages(),
      alarmDescription: `A completion event of ${tasker.node.path} (SfnRedshiftTasker) is in the dead-letter queue: its `
        + 'callback never happened, and the task or custom resource waits until its timeout. Read the message, '
        + 'call the caller back if it still waits, then delete it.',
    });
  const callbackFailuresAlarm = new cloudwatch.Alarm(scope, 'CallbackFailuresAlarm', {
    ...atLeastOnce,
    metric: tasker.metricCallbackFailures(),
    alarmDescription: `A callback of a statement of ${tasker.node.path} (SfnRedshiftTasker) failed; SQS retries it, then `
      + 'moves it to the dead-letter queue. See the completer\'s logs.',
  });
  return { deadLetterQueueAlarm, callbackFailuresAlarm };
}

/** A metric for the dashboard, or `undefined` where the tasker cannot know it (shared infrastructure of another app). */
function optional(metric: () => cloudwatch.Metric): cloudwatch.Metric[] {
  try {
    return [metric()];
  } catch {
    return [];
  }
}

/** A dashboard of the tasker's metrics: statements, durations, completion paths, problems and queues. */
export function createDashboard(scope: Construct, tasker: TaskerMetrics): cloudwatch.Dashboard {
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) => ({
    shows: left.length + right.length > 0, widget: new cloudwatch.GraphWidget({ title, left, right, width: 8 }),
  });
  const rows = [
    [
      graph('Statements (sum)', [tasker.metricStatementsFinished(), tasker.metricStatementsFailed()]),
      graph('Statement duration (average, ms)', [tasker.metricStatementDuration()]),
      graph('Callback latency (p90, ms)', [tasker.metricCallbackLatency()]),
    ],
    [
      graph('Completions by path (sum)', [
        tasker.metricFastPathCompletions(), tasker.metricEventCompletions(), tasker.metricReconciledStatements(),
      ]),
      graph('Failures, orphans and skipped events (sum)', [
        tasker.metricCallbackFailures(), tasker.metricOrphansCancelled(), tasker.metricStalledSweeps(),
        ...optional(() => tasker.metricIgnoredEvents()), ...optional(() => tasker.metricDuplicateEvents()),
        ...optional(() => tasker.metricMismatchedEvents()),
      ]),
      graph('Completion queues: oldest message (s, left), dead letters (right)',
        optional(() => tasker.metricQueueOldestMessageAge()), optional(() => tasker.metricDeadLetterMessages())),
    ],
  ];
  // A graph with nothing to show (the queues of another app's tasker) is left out.
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    widgets: rows.map((row) => row.filter((g) => g.shows).map((g) => g.widget)),
  });
}
