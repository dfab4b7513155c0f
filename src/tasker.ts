import { Annotations, RemovalPolicy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Defaults, Env, Table } from './contract';
import { TablePermission } from './options';
import { completionQueues, statusChangeRule } from './private/callback-infra';
import { COMPLETION_BATCH_SIZE, WARNING_PREFIX } from './private/defaults';
import { attachPolicy, resolveFunction } from './private/functions';
import { completerStatements, completerSuppressions, starterStatements, starterSuppressions } from './private/permissions';
import {
  IN_FLIGHT_INDEX_PROPS, cancelsOrphans, reconcileInterval, reconcileSchedule, reconcilerEnabled, reconcilerStatements,
  reconcilerSuppressions,
} from './private/reconciler';
import { allowSharedCompleter, registerCompleter } from './private/shared-completers';
import { invokeStatement } from './private/task-support';
import { hasSeparateCompleter, validateProps, wholeDays } from './private/validate';
import { SfnRedshiftTaskerProps, TrackingTableProps } from './tasker-props';

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
 * Resources (defaults): the tracking table, one function with its role, policies and log group, the rule, the queue
 * and its dead-letter queue, the KMS key of both queues, the event source mapping and the reconciler's schedule. With
 * `createCallbackInfra: false` only the function, its role, policies, log group and schedule.
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
   * The dead-letter queue of the completion queue (alarm on its depth: each message is a callback that never
   * happened); `undefined` with `createCallbackInfra: false`, `existingQueueObj` or `deployDeadLetterQueue: false`.
   */
  public readonly deadLetterQueue?: sqs.IQueue;

  /** The EventBridge rule for Data API status-change events; `undefined` with `createCallbackInfra: false`. */
  public readonly rule?: events.IRule;

  /**
   * The KMS key of the queues (created, `encryptionKey`, or the existing queue's key); `undefined` with
   * `createCallbackInfra: false`, with SQS-managed encryption, or when an existing queue has no known key.
   */
  public readonly encryptionKey?: kms.IKey;

  /** The schedule that sends reconciler sweeps to `lambdaFunction`; `undefined` with `enableReconciler: false`. */
  public readonly reconcileSchedule?: events.IRule;

  constructor(scope: Construct, id: string, props: SfnRedshiftTaskerProps) {
    super(scope, id);
    for (const warning of validateProps(props)) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:${warning.id}`, warning.message);
    }

    this.trackingTable = props.existingTableObj ?? this.createTable(props.dynamoTableProps ?? {});
    const environment = this.handlerEnvironment(props);

    // ---- Starter ----
    const starter = resolveFunction(this, 'Starter', props.starterExistingLambdaObj, props.starterLambdaFunctionProps, environment);
    this.lambdaFunction = starter.fn;
    attachPolicy(this, 'StarterPolicy', starter,
      starterStatements(Stack.of(this), props.redshiftTargetProps, this.trackingTable),
      starterSuppressions(Stack.of(this), props.redshiftTargetProps, starter.tracing, this.trackingTable));
    props.redshiftTargetProps.secret?.grantRead(starter.fn);
    this.grantTablePermissions(starter.fn, props.tablePermissions);

    // ---- Reconciler (sweeps the statements the starter started) ----
    if (reconcilerEnabled(props)) {
      const cancelOrphans = cancelsOrphans(props);
      attachPolicy(this, 'ReconcilerPolicy', { ...starter, tracing: false, logGroup: undefined },
        reconcilerStatements(Stack.of(this), this.trackingTable, cancelOrphans), reconcilerSuppressions(Stack.of(this), cancelOrphans));
      this.reconcileSchedule = reconcileSchedule(this, starter.fn, reconcileInterval(props));
    }

    if (props.createCallbackInfra === false) {
      allowSharedCompleter(this, this.trackingTable, starter);
      return;
    }

    // ---- Completer ----
    const completer = hasSeparateCompleter(props)
      ? resolveFunction(this, 'Completer', props.completerExistingLambdaObj, props.completerLambdaFunctionProps, environment)
      : { ...starter, tracing: false, logGroup: undefined }; // the starter's policy grants tracing and logging
    this.completerFunction = completer.fn;
    registerCompleter(this.trackingTable, completer);

    // ---- Queues, key and rule ----
    const queues = completionQueues(this, props);
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    this.encryptionKey = queues.encryptionKey;
    this.rule = statusChangeRule(this, queues);

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

  private createTable(tableProps: TrackingTableProps): dynamodb.ITable {
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
        ?? (tableProps.encryptionKey !== undefined ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED),
      encryptionKey: tableProps.encryptionKey,
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
