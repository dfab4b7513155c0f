import { Annotations, RemovalPolicy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Defaults, Env, Metric, Table } from './contract';
import { TablePermission } from './options';
import { checkSecondCallbackInfra, completionQueues, statusChangeRule } from './private/callback-infra';
import { COMPLETION_BATCH_SIZE, WARNING_PREFIX } from './private/defaults';
import { attachPolicy, resolveFunction } from './private/functions';
import {
  CallbackInfraView, METRIC_PERIOD, completionQueue, createAlarms, createDashboard, deadLetterQueue, eventProcessor, taskerMetric,
} from './private/observability';
import { completerStatements, completerSuppressions, starterStatements, starterSuppressions } from './private/permissions';
import {
  IN_FLIGHT_INDEX_PROPS, cancelsOrphans, reconcileInterval, reconcileSchedule, reconcilerEnabled, reconcilerStatements,
} from './private/reconciler';
import { allowSharedCompleter, registerCompleter } from './private/shared-completers';
import { invokeStatement } from './private/task-support';
import { fastPathWaitSeconds, hasSeparateCompleter, validateProps, wholeDays } from './private/validate';
import { SfnRedshiftTaskerProps } from './tasker-props';
import { TrackingTableProps } from './tracking-table-props';

/**
 * Runs SQL statements on Amazon Redshift (provisioned cluster or Serverless) for AWS Step Functions and AWS
 * CloudFormation with a callback pattern.
 *
 * A Step Functions task (`lambda:invoke.waitForTaskToken`) or a custom resource hands SQL to `lambdaFunction`, which
 * records it in the tracking table and starts it with the Redshift Data API. When Redshift reports the statement's
 * end, the "Redshift Data Statement Status Change" event travels through an EventBridge rule to an encrypted SQS
 * queue, and the completer (by default the same function) calls the waiting task or custom resource back.
 *
 * A schedule sends the starter a reconciler sweep every few minutes: it completes statements whose event was lost
 * (EventBridge delivers them on a best-effort basis), fails the callers of statements the Data API no longer knows,
 * and cancels running statements whose caller no longer waits.
 *
 * The handler emits CloudWatch metrics (Embedded Metric Format) that the `metric...()` methods read; two alarms
 * watch for lost and failed callbacks.
 *
 * Resources (defaults): the tracking table, one function with its role, policies and log group, the rule, the queue
 * and its dead-letter queue, the KMS key of both queues, the event source mapping, the reconciler's schedule and two
 * alarms. With `createCallbackInfra: false` only the function, its role, policies, log group, schedule and the failed
 * callbacks alarm.
 */
export class SfnRedshiftTasker extends Construct {
  /**
   * The starter function: state machines and custom resources invoke it to run SQL, describe, cancel and fetch
   * results. With default props it also processes the completion events.
   */
  public readonly lambdaFunction: lambda.IFunction;

  /** The tracking table (created, or `existingTableObj`). Pass it as `existingTableObj` to further taskers. */
  public readonly trackingTable: dynamodb.ITable;

  /**
   * The function that processes completion events: `lambdaFunction` unless a separate completer was configured;
   * `undefined` with `createCallbackInfra: false`.
   */
  public readonly completerFunction?: lambda.IFunction;

  /** The completion queue (created, or `existingQueueObj`); `undefined` with `createCallbackInfra: false`. */
  public readonly queue?: sqs.IQueue;

  /**
   * The dead-letter queue of the completion queue (each message is a callback that never happened; `deadLetterQueueAlarm`
   * watches its depth); `undefined` with `createCallbackInfra: false`, `existingQueueObj` or `deployDeadLetterQueue: false`.
   */
  public readonly deadLetterQueue?: sqs.IQueue;

  /** The EventBridge rule for Data API status-change events; `undefined` with `createCallbackInfra: false`. */
  public readonly rule?: events.IRule;

  /**
   * The KMS key of the queues (created, `customerManagedKey`, `encryptionKey`, or the existing queue's key); `undefined` with
   * `createCallbackInfra: false`, with SQS-managed encryption, or when an existing queue has no known key.
   */
  public readonly encryptionKey?: kms.IKey;

  /** The schedule that sends reconciler sweeps to `lambdaFunction`; `undefined` with `enableReconciler: false`. */
  public readonly reconcileSchedule?: events.IRule;

  /**
   * Alarm (no actions: add yours) when the dead-letter queue holds a message (`metricDeadLetterMessages()` at least 1):
   * a callback that never happened. `undefined` with `createAlarms: false` or without `deadLetterQueue` (a tasker that
   * shares another tasker's callback infrastructure: that tasker has the alarm).
   */
  public readonly deadLetterQueueAlarm?: cloudwatch.Alarm;

  /**
   * Alarm (no actions: add yours) when a callback of this tasker's statements failed (`metricCallbackFailures()` at
   * least 1 in 5 minutes; SQS retries it). `undefined` with `createAlarms: false`.
   */
  public readonly callbackFailuresAlarm?: cloudwatch.Alarm;

  /** The dashboard of the tasker's metrics; `undefined` unless `createDashboard: true`. */
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: SfnRedshiftTaskerProps) {
    super(scope, id);
    for (const warning of validateProps(props)) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:${warning.id}`, warning.message);
    }

    this.trackingTable = props.existingTableObj ?? this.createTable(props.dynamoTableProps ?? {}, props.customerManagedKey);
    const environment = this.handlerEnvironment(props);

    // ---- Starter (the fast-path wait is a setting of the function that starts statements) ----
    const starter = resolveFunction(this, 'Starter', props.starterExistingLambdaObj, props.starterLambdaFunctionProps,
      { ...environment, [Env.FAST_PATH_WAIT_SECONDS]: fastPathSetting(props) }, props.customerManagedKey);
    this.lambdaFunction = starter.fn;
    // The starter calls back itself with the fast path on or the reconciler on, in every topology.
    const callsBack = fastPathWaitSeconds(props) !== 0 || reconcilerEnabled(props);
    attachPolicy(this, 'StarterPolicy', starter,
      starterStatements(Stack.of(this), props.redshiftTargetProps, this.trackingTable, callsBack),
      starterSuppressions(Stack.of(this), props.redshiftTargetProps, starter.tracing, this.trackingTable, callsBack));
    props.redshiftTargetProps.secret?.grantRead(starter.fn);
    this.grantTablePermissions(starter.fn, props.tablePermissions);

    // ---- Reconciler (sweeps the statements the starter started) ----
    if (reconcilerEnabled(props)) {
      attachPolicy(this, 'ReconcilerPolicy', { ...starter, tracing: false, logGroup: undefined }, reconcilerStatements(this.trackingTable), []);
      this.reconcileSchedule = reconcileSchedule(this, starter.fn, reconcileInterval(props));
    }

    if (props.createCallbackInfra === false) {
      allowSharedCompleter(this, this.trackingTable, starter);
    } else {
      checkSecondCallbackInfra(this, props.createCallbackInfra);
      // ---- Completer ----
      const completer = hasSeparateCompleter(props)
        ? resolveFunction(this, 'Completer', props.completerExistingLambdaObj, props.completerLambdaFunctionProps, environment,
          props.customerManagedKey)
        : { ...starter, tracing: false, logGroup: undefined }; // the starter's policy grants tracing and logging
      this.completerFunction = completer.fn;

      // ---- Queues, key and rule ----
      const queues = completionQueues(this, props);
      this.queue = queues.queue;
      this.deadLetterQueue = queues.deadLetterQueue;
      this.encryptionKey = queues.encryptionKey;
      this.rule = statusChangeRule(this, queues);
      registerCompleter(this.trackingTable, { completer, queue: queues.queue, deadLetterQueue: queues.deadLetterQueue });

      // ---- Completer: permissions and event source ----
      const completerPolicy = attachPolicy(this, 'CompleterPolicy', completer,
        completerStatements(this.trackingTable, queues.queue, queues.encryptionKey, completer.fn !== starter.fn ? starter.fn : undefined),
        completerSuppressions(completer.tracing, this.trackingTable));
      const eventSource = new lambda.EventSourceMapping(this, 'CompletionEventSource', {
        target: completer.fn,
        eventSourceArn: queues.queue.queueArn,
        batchSize: COMPLETION_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: props.completerMaxConcurrency,
      });
      // Lambda checks the consumer's permissions when it creates the mapping.
      if (completerPolicy !== undefined) eventSource.node.addDependency(completerPolicy);
    }

    // ---- Alarms and dashboard ----
    if (props.createAlarms !== false) {
      const alarms = createAlarms(this, this);
      this.deadLetterQueueAlarm = alarms.deadLetterQueueAlarm;
      this.callbackFailuresAlarm = alarms.callbackFailuresAlarm;
    }
    if (props.createDashboard === true) this.dashboard = createDashboard(this, this);
  }

  /**
   * Grants `grantee` permission to invoke the starter function: `lambda:InvokeFunction` on its ARN, not on its
   * versions and aliases (`<ARN>:*`), which nothing of the tasker uses. For a principal with an identity policy (a
   * role, a user, a group); the state machines of `RedshiftSqlTask` and `RedshiftStatementTask` get it by themselves.
   *
   * Whoever may invoke the function can run SQL as the tasker's database user.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    const statement = invokeStatement(this.lambdaFunction);
    return iam.Grant.addToPrincipal({ grantee, actions: statement.actions, resourceArns: statement.resources });
  }

  /** The tracking table; `key` (`customerManagedKey`) encrypts it unless `tableProps` chose its encryption. */
  private createTable(tableProps: TrackingTableProps, key: kms.IKey | undefined): dynamodb.ITable {
    const encryptionKey = tableProps.encryptionKey ?? key;
    const table = new dynamodb.Table(this, 'TrackingTable', {
      partitionKey: { name: Table.PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      sortKey: { name: Table.SORT_KEY, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: Table.TTL_ATTRIBUTE,
      tableName: tableProps.tableName,
      billingMode: tableProps.billingMode ?? dynamodb.BillingMode.PAY_PER_REQUEST,
      readCapacity: tableProps.readCapacity,
      writeCapacity: tableProps.writeCapacity,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: tableProps.pointInTimeRecovery ?? true },
      encryption: tableProps.encryption
        ?? (encryptionKey !== undefined ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED),
      encryptionKey,
      tableClass: tableProps.tableClass,
      stream: tableProps.stream,
      removalPolicy: tableProps.removalPolicy ?? RemovalPolicy.DESTROY,
      deletionProtection: tableProps.deletionProtection,
    });
    // Sparse: only statements in flight carry its partition key (the reconciler's query; further taskers share it).
    table.addGlobalSecondaryIndex(IN_FLIGHT_INDEX_PROPS);
    return table;
  }

  /** The environment the handler reads (names from the contract). */
  private handlerEnvironment(props: SfnRedshiftTaskerProps): Record<string, string> {
    const { clusterIdentifier, workgroupName, dbName, dbUser, secret } = props.redshiftTargetProps;
    const ttlDays = props.trackingTableTtl === undefined ? Defaults.TTL_DAYS
      : props.trackingTableTtl.isUnresolved() ? props.trackingTableTtl.toDays() : wholeDays(props.trackingTableTtl)!;
    const logLevel = props.logLevel?.value ?? Defaults.LOG_LEVEL;
    return {
      [Env.TABLE_NAME]: this.trackingTable.tableName,
      ...clusterIdentifier !== undefined ? { [Env.CLUSTER_IDENTIFIER]: clusterIdentifier } : { [Env.WORKGROUP_NAME]: workgroupName! },
      [Env.DATABASE]: dbName,
      ...dbUser !== undefined ? { [Env.DB_USER]: dbUser } : {},
      ...secret !== undefined ? { [Env.SECRET_ARN]: secret.secretArn } : {},
      [Env.TTL_DAYS]: Token.isUnresolved(ttlDays) ? Tokenization.stringifyNumber(ttlDays) : String(ttlDays),
      [Env.LOG_LEVEL]: Token.isUnresolved(logLevel) ? logLevel : logLevel.toUpperCase(),
      ...reconcilerEnabled(props) && !cancelsOrphans(props) ? { [Env.CANCEL_ORPHANS]: 'false' } : {},
    };
  }

  /**
   * A metric the handler emits for this tasker's statements: `metricName` in the namespace `CdkStepFunctionsRedshift`,
   * dimensions `service` = `cdk-stepfunctions-redshift` and `Tasker` = the starter function's name.
   *
   * @default - statistic Sum, period 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return taskerMetric(this.lambdaFunction, metricName, cloudwatch.Stats.SUM, props);
  }

  /**
   * Statements that ended FINISHED and were called back.
   * @default - Sum over 5 minutes
   */
  public metricStatementsFinished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.STATEMENTS_FINISHED, props);
  }

  /**
   * Statements that ended FAILED or ABORTED, or that the Data API no longer knew.
   * @default - Sum over 5 minutes
   */
  public metricStatementsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.STATEMENTS_FAILED, props);
  }

  /**
   * Milliseconds from a statement's registration to its end: how long the SQL queued and ran in Redshift (whole
   * seconds when an event completed it: the event's time). Add `metricCallbackLatency()` for what the caller waited.
   * @default - Average over 5 minutes (pass `statistic: 'p90'` for the slow ones)
   */
  public metricStatementDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.STATEMENT_DURATION, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /**
   * Milliseconds from a statement's end to its callback: the time the tasker adds. p90, because the slow callbacks
   * (a late event, a reconciler sweep) are the ones to watch.
   * @default - p90 over 5 minutes
   */
  public metricCallbackLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.CALLBACK_LATENCY, { statistic: cloudwatch.Stats.p(90), ...props });
  }

  /**
   * Rows the finished statements returned or changed (where the Data API reports them).
   * @default - Sum over 5 minutes
   */
  public metricRows(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.ROWS, props);
  }

  /**
   * Completions from the start's own wait (`fastPathWaitTime`), without the event.
   * @default - Sum over 5 minutes
   */
  public metricFastPathCompletions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.FAST_PATH_COMPLETIONS, props);
  }

  /**
   * Completions from a status-change event.
   * @default - Sum over 5 minutes
   */
  public metricEventCompletions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.EVENT_COMPLETIONS, props);
  }

  /**
   * Completions by a reconciler sweep (the event was lost or late).
   * @default - Sum over 5 minutes
   */
  public metricReconciledStatements(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.RECONCILED_STATEMENTS, props);
  }

  /**
   * Running statements a sweep cancelled because their caller no longer waited.
   * @default - Sum over 5 minutes
   */
  public metricOrphansCancelled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.ORPHANS_CANCELLED, props);
  }

  /**
   * Callbacks that failed (SQS retries them, finally into the dead-letter queue).
   * @default - Sum over 5 minutes
   */
  public metricCallbackFailures(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.CALLBACK_FAILURES, props);
  }

  /**
   * Queue messages that were no tasker's statements (other tools' Data API events), counted by the function that
   * processed them: `completerFunction`, or the completer of the callback infrastructure this tasker shares (the
   * count then covers every tasker that shares it).
   * @default - Sum over 5 minutes
   */
  public metricIgnoredEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return taskerMetric(eventProcessor(this.infraView(), 'IgnoredEvents'), Metric.IGNORED_EVENTS, cloudwatch.Stats.SUM, props);
  }

  /**
   * Events of statements whose completion was already handled (the event after a fast-path completion, a
   * redelivery), counted by the function that processed them, as `metricIgnoredEvents`.
   * @default - Sum over 5 minutes
   */
  public metricDuplicateEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return taskerMetric(eventProcessor(this.infraView(), 'DuplicateEvents'), Metric.DUPLICATE_EVENTS, cloudwatch.Stats.SUM, props);
  }

  /**
   * Events that named a statement a tasker started but carried another statement id (forged, or another principal's
   * statement under the same name): acknowledged and never called back, counted by the function that processed them,
   * as `metricIgnoredEvents`. Any value above 0 deserves an alarm.
   * @default - Sum over 5 minutes
   */
  public metricMismatchedEvents(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return taskerMetric(eventProcessor(this.infraView(), 'MismatchedEvents'), Metric.MISMATCHED_EVENTS, cloudwatch.Stats.SUM, props);
  }

  /**
   * Reconciler sweeps of the starter function that stopped before examining any statement (its timeout is too short).
   * @default - Sum over 5 minutes
   */
  public metricStalledSweeps(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(Metric.STALLED_SWEEPS, props);
  }

  /**
   * Messages in the dead-letter queue of the completion queue (its own, or the one this tasker shares): each one is a
   * callback that never happened. Throws when there is no dead-letter queue the construct knows.
   * @default - Maximum of ApproximateNumberOfMessagesVisible over 5 minutes
   */
  public metricDeadLetterMessages(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return deadLetterQueue(this.infraView(), 'The dead-letter queue')
      .metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: METRIC_PERIOD, ...props });
  }

  /**
   * Age in seconds of the oldest message in the completion queue (its own, or the one this tasker shares): grows when
   * the completer falls behind or fails.
   * @default - Maximum of ApproximateAgeOfOldestMessage over 5 minutes
   */
  public metricQueueOldestMessageAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return completionQueue(this.infraView(), 'The completion queue')
      .metricApproximateAgeOfOldestMessage({ statistic: cloudwatch.Stats.MAXIMUM, period: METRIC_PERIOD, ...props });
  }

  /** The callback infrastructure as the metric helpers see it. */
  private infraView(): CallbackInfraView {
    return {
      path: this.node.path,
      trackingTable: this.trackingTable,
      completerFunction: this.completerFunction,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
    };
  }

  /** Additional table grants for the starter (`tablePermissions`); they only add to the handler's permissions. */
  private grantTablePermissions(fn: lambda.IFunction, permission: TablePermission | undefined): void {
    switch (permission?.value) {
      case 'All': this.trackingTable.grantFullAccess(fn); break;
      case 'Read': this.trackingTable.grantReadData(fn); break;
      case 'ReadWrite': this.trackingTable.grantReadWriteData(fn); break;
      case 'Write': this.trackingTable.grantWriteData(fn); break;
      default: break;
    }
  }
}

/** The value of `FAST_PATH_WAIT_SECONDS`: whole seconds (validated), or the token of `fastPathWaitTime`. */
function fastPathSetting(props: SfnRedshiftTaskerProps): string {
  const seconds = fastPathWaitSeconds(props);
  return seconds !== undefined ? String(seconds) : Tokenization.stringifyNumber(props.fastPathWaitTime!.toSeconds());
}
