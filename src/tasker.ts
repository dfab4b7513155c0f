import * as path from 'node:path';
import { Annotations, CfnResource, Duration, RemovalPolicy, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Defaults, Env, StatusChangeEvent, Table } from './contract';
import { NagSuppression, addNagSuppressions } from './private/nag';
import {
  STATEMENT_ACTIONS, XRAY_ACTIONS, completerStatements, starterStatements, xrayStatement,
} from './private/permissions';
import { TablePermission, validateProps, wholeDays } from './private/validate';
import { SfnRedshiftTaskerProps, TrackingTableProps } from './tasker-props';

/** The bundled handler (one asset for every tasker of an app). `__dirname` is `src/` in tests, `lib/` when published. */
const HANDLER_ASSET = path.join(__dirname, '..', 'assets', 'handler');

/** Defaults of the functions the construct creates. */
const DEFAULT_TIMEOUT = Duration.seconds(60);
const DEFAULT_MEMORY_MB = 256;
const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH;
/** AWS's advice for SQS event sources: a visibility timeout of at least six times the function's timeout. */
const VISIBILITY_TIMEOUT_FACTOR = 6;
/** Queue visibility when the completer's timeout is unknown: the longest Lambda timeout. */
const UNKNOWN_TIMEOUT_VISIBILITY = Duration.minutes(15);
/** Batch size of the completion event source. */
const COMPLETION_BATCH_SIZE = 10;
const DEFAULT_MAX_RECEIVE_COUNT = 15;
const DEAD_LETTER_RETENTION = Duration.days(14);
const FUNCTION_DESCRIPTION = 'SfnRedshiftTasker: runs SQL on Amazon Redshift with the Data API and calls back '
  + 'Step Functions tasks and CloudFormation custom resources when it completes';

const WARNING_PREFIX = 'cdk-stepfunctions-redshift';

/** A function the tasker uses, created or existing. */
interface ResolvedFunction {
  readonly fn: lambda.IFunction;
  /** The role to attach permissions to (`undefined`: unknown, the user grants them). */
  readonly role?: iam.IRole;
  /** Whether the construct created the function. */
  readonly created: boolean;
  /** Whether the construct configured X-Ray tracing (and must grant it). */
  readonly tracing: boolean;
  /** The log group of a function the construct created (and must grant writing to). */
  readonly logGroup?: logs.ILogGroup;
}

/**
 * Runs SQL statements on Amazon Redshift (provisioned cluster or Serverless) for AWS Step Functions and AWS
 * CloudFormation with a callback pattern.
 *
 * A Step Functions task (`lambda:invoke.waitForTaskToken`) or a custom resource hands SQL to `lambdaFunction`, which
 * records it in the tracking table and starts it with the Redshift Data API. When Redshift reports the statement's
 * end, the "Redshift Data Statement Status Change" event travels through an EventBridge rule to an encrypted SQS
 * queue, and the completer (by default the same function) calls the waiting task or custom resource back.
 *
 * Resources (defaults): the tracking table, one function with its role, policies and log group, the rule, the queue
 * and its dead-letter queue, the KMS key of both queues, and the event source mapping. With
 * `createCallbackInfra: false` only the function, its role, policies and log group.
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

  constructor(scope: Construct, id: string, props: SfnRedshiftTaskerProps) {
    super(scope, id);
    validateProps(props);
    const callbackInfra = props.createCallbackInfra !== false;
    const separateCompleter = props.completerExistingLambdaObj !== undefined || props.completerLambdaFunctionProps !== undefined;
    const visibilityTimeout = callbackInfra && props.existingQueueObj === undefined
      ? this.completionVisibilityTimeout(props, separateCompleter)
      : undefined;

    this.trackingTable = props.existingTableObj ?? this.createTable(props.dynamoTableProps ?? {});
    const environment = this.handlerEnvironment(props);

    // ---- Starter ----
    const starter = this.resolveFunction('Starter', props.starterExistingLambdaObj, props.starterLambdaFunctionProps, environment);
    this.lambdaFunction = starter.fn;
    const stack = Stack.of(this);
    this.attachPolicy('StarterPolicy', starter, starterStatements(stack, props.redshiftTargetProps, this.trackingTable),
      this.starterSuppressions(props, starter));
    props.redshiftTargetProps.secret?.grantRead(starter.fn);
    this.grantTablePermissions(starter.fn, props.tablePermissions as TablePermission | undefined);

    if (!callbackInfra) return;

    // ---- Completer ----
    const completer = separateCompleter
      ? this.resolveFunction('Completer', props.completerExistingLambdaObj, props.completerLambdaFunctionProps, environment)
      : { ...starter, tracing: false, logGroup: undefined }; // the starter's policy grants tracing and logging
    this.completerFunction = completer.fn;

    // ---- Queues and key ----
    let queue: sqs.IQueue;
    let deadLetterQueue: sqs.IQueue | undefined;
    if (props.existingQueueObj !== undefined) {
      queue = props.existingQueueObj;
      this.encryptionKey = queue.encryptionMasterKey;
      deadLetterQueue = queue instanceof sqs.Queue ? queue.deadLetterQueue?.queue : undefined;
    } else {
      const customerKey = props.enableEncryptionWithCustomerManagedKey !== false;
      this.encryptionKey = !customerKey ? undefined : props.encryptionKey ?? new kms.Key(this, 'CompletionQueueKey', {
        description: `Encrypts the completion queues of ${this.node.path} (SfnRedshiftTasker)`,
        enableKeyRotation: true,
        ...props.encryptionKeyProps,
      });
      const encryption = {
        encryption: customerKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
        encryptionMasterKey: this.encryptionKey,
      };
      deadLetterQueue = props.deployDeadLetterQueue === false ? undefined : new sqs.Queue(this, 'CompletionDeadLetterQueue', {
        retentionPeriod: DEAD_LETTER_RETENTION,
        enforceSSL: true,
        ...props.deadLetterQueueProps,
        ...encryption,
      });
      queue = new sqs.Queue(this, 'CompletionQueue', {
        visibilityTimeout,
        enforceSSL: true,
        ...props.queueProps,
        ...encryption,
        deadLetterQueue: deadLetterQueue === undefined ? undefined : {
          queue: deadLetterQueue,
          maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
        },
      });
    }
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
    if (props.enableQueuePurging !== undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:enableQueuePurging`, 'enableQueuePurging is deprecated and '
        + 'has no effect; to let an operator purge the completion queue, call tasker.queue.grantPurge(principal).');
    }

    // ---- Rule: every Data API status change of the account and region (see createCallbackInfra) ----
    const rule = new events.Rule(this, 'StatusChangeRule', {
      description: 'Redshift Data API statement status changes, queued for the SfnRedshiftTasker completer',
      eventPattern: { source: [StatusChangeEvent.SOURCE], detailType: [StatusChangeEvent.DETAIL_TYPE] },
    });
    this.rule = rule;
    // The target's permissions are added below (scoped to this rule), so the target grants nothing itself.
    rule.addTarget({
      bind: () => ({
        arn: queue.queueArn,
        targetResource: queue,
        // Events EventBridge could not deliver (after its retries) are kept instead of being dropped.
        deadLetterConfig: deadLetterQueue === undefined ? undefined : { arn: deadLetterQueue.queueArn },
      }),
    });
    this.allowRuleToSend(rule, queue, deadLetterQueue);

    // ---- Completer: permissions and event source ----
    const completerPolicy = this.attachPolicy('CompleterPolicy', completer,
      completerStatements(this.trackingTable, queue, this.encryptionKey), this.completerSuppressions(completer));
    const eventSource = new lambda.EventSourceMapping(this, 'CompletionEventSource', {
      target: completer.fn,
      eventSourceArn: queue.queueArn,
      batchSize: COMPLETION_BATCH_SIZE,
      reportBatchItemFailures: true,
      maxConcurrency: props.completerMaxConcurrency,
    });
    // Lambda checks the consumer's permissions when it creates the mapping.
    if (completerPolicy !== undefined) eventSource.node.addDependency(completerPolicy);
  }

  /** The visibility timeout of the queue the construct creates (validated against the completer's timeout). */
  private completionVisibilityTimeout(props: SfnRedshiftTaskerProps, separateCompleter: boolean): Duration {
    const completerTimeout = this.completerTimeout(props, separateCompleter);
    const requested = props.queueProps?.visibilityTimeout;
    if (requested !== undefined) {
      if (completerTimeout !== undefined && !requested.isUnresolved() && !completerTimeout.isUnresolved()) {
        if (requested.toSeconds() < completerTimeout.toSeconds()) {
          throw new Error('Invalid SfnRedshiftTasker props:\n- queueProps.visibilityTimeout '
            + `(${requested.toHumanString()}) is shorter than the completer's timeout (${completerTimeout.toHumanString()}); `
            + 'Lambda rejects such an event source. Set it to at least '
            + `${VISIBILITY_TIMEOUT_FACTOR * completerTimeout.toSeconds()} seconds (six times the timeout), or omit it.`);
        }
        if (requested.toSeconds() < VISIBILITY_TIMEOUT_FACTOR * completerTimeout.toSeconds()) {
          Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:visibilityTimeout`, 'queueProps.visibilityTimeout '
            + `(${requested.toHumanString()}) is less than six times the completer's timeout `
            + `(${completerTimeout.toHumanString()}); throttled deliveries may reach the dead-letter queue early.`);
        }
      }
      return requested;
    }
    if (completerTimeout === undefined) {
      Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:unknownCompleterTimeout`, 'The timeout of the existing '
        + 'completer function is unknown (it is not a lambda.Function of this app); the completion queue\'s visibility '
        + `timeout is ${UNKNOWN_TIMEOUT_VISIBILITY.toHumanString()}. Set queueProps.visibilityTimeout to six times the `
        + 'function\'s timeout.');
      return UNKNOWN_TIMEOUT_VISIBILITY;
    }
    if (completerTimeout.isUnresolved()) return UNKNOWN_TIMEOUT_VISIBILITY;
    return Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * completerTimeout.toSeconds());
  }

  /** The completer's timeout, when it can be known at synth time. */
  private completerTimeout(props: SfnRedshiftTaskerProps, separateCompleter: boolean): Duration | undefined {
    const existing = separateCompleter ? props.completerExistingLambdaObj : props.starterExistingLambdaObj;
    if (existing !== undefined) {
      // Lambda's own default is 3 seconds.
      return existing instanceof lambda.Function ? existing.timeout ?? Duration.seconds(3) : undefined;
    }
    const options = separateCompleter ? props.completerLambdaFunctionProps : props.starterLambdaFunctionProps;
    return options?.timeout ?? DEFAULT_TIMEOUT;
  }

  private createTable(tableProps: TrackingTableProps): dynamodb.ITable {
    return new dynamodb.Table(this, 'TrackingTable', {
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
  }

  /** The environment the handler reads (names from the contract). */
  private handlerEnvironment(props: SfnRedshiftTaskerProps): Record<string, string> {
    const { clusterIdentifier, workgroupName, dbName, dbUser, secret } = props.redshiftTargetProps;
    const ttlDays = props.trackingTableTtl === undefined ? Defaults.TTL_DAYS
      : props.trackingTableTtl.isUnresolved() ? props.trackingTableTtl.toDays() : wholeDays(props.trackingTableTtl)!;
    const logLevel = props.logLevel ?? Defaults.LOG_LEVEL;
    return {
      [Env.TABLE_NAME]: this.trackingTable.tableName,
      ...clusterIdentifier !== undefined ? { [Env.CLUSTER_IDENTIFIER]: clusterIdentifier } : { [Env.WORKGROUP_NAME]: workgroupName! },
      [Env.DATABASE]: dbName,
      ...dbUser !== undefined ? { [Env.DB_USER]: dbUser } : {},
      ...secret !== undefined ? { [Env.SECRET_ARN]: secret.secretArn } : {},
      [Env.TTL_DAYS]: Token.isUnresolved(ttlDays) ? Tokenization.stringifyNumber(ttlDays) : String(ttlDays),
      [Env.LOG_LEVEL]: Token.isUnresolved(logLevel) ? logLevel : logLevel.toUpperCase(),
    };
  }

  /** Creates a function from the bundled handler, or adopts an existing one (adding the environment if possible). */
  private resolveFunction(
    prefix: string, existing: lambda.IFunction | undefined, options: lambda.FunctionOptions | undefined,
    environment: Record<string, string>,
  ): ResolvedFunction {
    if (existing !== undefined) {
      if (existing instanceof lambda.Function) {
        for (const [key, value] of Object.entries(environment)) existing.addEnvironment(key, value);
      } else {
        Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:existingFunctionEnvironment`, `The existing ${prefix.toLowerCase()} `
          + `function ${existing.node.path} is not a lambda.Function of this app, so the construct cannot set its `
          + `environment; set these variables on it yourself: ${Object.keys(environment).join(', ')}.`);
      }
      if (existing.role === undefined) {
        Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:existingFunctionRole`, 'The role of the existing '
          + `${prefix.toLowerCase()} function ${existing.node.path} is unknown, so the construct cannot grant it the `
          + 'permissions the handler needs; grant them yourself (see the README, "Permissions").');
      }
      return { fn: existing, role: existing.role, created: false, tracing: false };
    }

    const { environment: extraEnvironment, tracing, role: userRole, logGroup: userLogGroup, ...rest } = options ?? {};
    const role = userRole ?? this.createRole(prefix, rest.vpc !== undefined);
    const logGroup = userLogGroup ?? new logs.LogGroup(this, `${prefix}LogGroup`, { retention: DEFAULT_LOG_RETENTION });
    const fn = new lambda.Function(this, `${prefix}Function`, {
      description: FUNCTION_DESCRIPTION,
      memorySize: DEFAULT_MEMORY_MB,
      timeout: DEFAULT_TIMEOUT,
      architecture: lambda.Architecture.ARM_64,
      ...rest,
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(HANDLER_ASSET),
      role,
      logGroup,
      environment: { ...extraEnvironment, ...environment },
    });
    // Tracing is configured here rather than through `tracing`, so that its permission goes to this construct's
    // policy (with a suppression that names it) instead of the role's default policy, where user grants go.
    const tracingMode = tracing ?? lambda.Tracing.ACTIVE;
    if (tracingMode !== lambda.Tracing.DISABLED) {
      (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: tracingMode };
    }
    return { fn, role, created: true, tracing: tracingMode !== lambda.Tracing.DISABLED, logGroup };
  }

  /**
   * The execution role of a function the construct creates: no managed policies (logging and tracing are granted by
   * the construct's policies), except the one Lambda needs to manage network interfaces in a VPC, as aws-cdk-lib adds.
   */
  private createRole(prefix: string, inVpc: boolean): iam.Role {
    const role = new iam.Role(this, `${prefix}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${prefix.toLowerCase()} function of ${this.node.path} (SfnRedshiftTasker)`,
    });
    if (inVpc) {
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      addNagSuppressions(role.node.defaultChild as CfnResource, [{
        id: 'AwsSolutions-IAM4',
        reason: 'A function in a VPC needs to create, describe and delete its network interfaces; this AWS-managed '
          + 'policy grants exactly those actions and is the one aws-cdk-lib attaches to functions in a VPC.',
        appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'],
      }]);
    }
    return role;
  }

  /**
   * Attaches a policy with `statements` (plus logging and tracing for created functions) to the function's role.
   * Returns `undefined` when the role is unknown.
   */
  private attachPolicy(id: string, target: ResolvedFunction, statements: iam.PolicyStatement[],
    suppressions: NagSuppression[]): iam.Policy | undefined {
    if (target.role === undefined) return undefined;
    const all = [...statements];
    if (target.logGroup !== undefined) {
      all.push(new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [target.logGroup.logGroupArn],
      }));
    }
    if (target.tracing) all.push(xrayStatement());
    const policy = new iam.Policy(this, id, { statements: all });
    policy.attachToRole(target.role);
    // A function the construct creates must not run (custom resources may invoke it during the deployment) before
    // its permissions exist.
    if (target.created) target.fn.node.addDependency(policy);
    if (suppressions.length > 0) addNagSuppressions(policy.node.defaultChild as CfnResource, suppressions);
    return policy;
  }

  private starterSuppressions(props: SfnRedshiftTaskerProps, starter: ResolvedFunction): NagSuppression[] {
    const reasons = [
      `${STATEMENT_ACTIONS.join(', ')} act on statement ids, which are not IAM resources; the statement is limited to `
      + 'statements this function started by the condition redshift-data:statement-owner-iam-userid = ${aws:userid}.',
    ];
    if (starter.tracing) reasons.push(`${XRAY_ACTIONS.join(', ')} (X-Ray tracing) support no resource-level permissions.`);
    const suppressions: NagSuppression[] = [{ id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: ['Resource::*'] }];
    if (props.redshiftTargetProps.workgroupName !== undefined) {
      suppressions.push({
        id: 'AwsSolutions-IAM5',
        reason: 'A Redshift Serverless workgroup ARN carries the workgroup id, which cannot be derived from the '
          + 'workgroup name at synth time, so redshift-data:ExecuteStatement/BatchExecuteStatement (and '
          + 'redshift-serverless:GetCredentials with IAM authentication) are scoped to the workgroups of this account '
          + 'and region; the database credentials bound what the SQL can do.',
        appliesTo: ['Resource::arn:<AWS::Partition>:redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup/*'],
      });
    }
    suppressions.push(...this.tableKeySuppressions());
    return suppressions;
  }

  private completerSuppressions(completer: ResolvedFunction): NagSuppression[] {
    const reasons = [
      'states:SendTaskSuccess and states:SendTaskFailure act on task tokens, which are not IAM resources.',
      'redshift-data:DescribeStatement acts on statement ids (not IAM resources) and reads the error text of failed '
      + 'statements that other identities started (a separate starter, taskers sharing this callback infrastructure).',
    ];
    if (completer.tracing) reasons.push(`${XRAY_ACTIONS.join(', ')} (X-Ray tracing) support no resource-level permissions.`);
    return [
      { id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: ['Resource::*'] },
      ...this.tableKeySuppressions(),
    ];
  }

  /** A customer-managed table key gets the actions aws-cdk-lib grants for table access, two of them with wildcards. */
  private tableKeySuppressions(): NagSuppression[] {
    if (this.trackingTable.encryptionKey === undefined) return [];
    return [{
      id: 'AwsSolutions-IAM5',
      reason: 'kms:ReEncrypt* and kms:GenerateDataKey* are the key actions aws-cdk-lib grants for reading and writing '
        + 'a table encrypted with a customer-managed key; they are limited to that key.',
      appliesTo: ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
    }];
  }

  /** Additional table grants for the starter (`tablePermissions`); they only add to the handler's permissions. */
  private grantTablePermissions(fn: lambda.IFunction, permissions: TablePermission | undefined): void {
    switch (permissions) {
      case 'All': this.trackingTable.grantFullAccess(fn); break;
      case 'Read': this.trackingTable.grantReadData(fn); break;
      case 'ReadWrite': this.trackingTable.grantReadWriteData(fn); break;
      case 'Write': this.trackingTable.grantWriteData(fn); break;
      default: break;
    }
  }

  /** Lets this rule (and only this rule) send to the queues; lets EventBridge use the queues' key. */
  private allowRuleToSend(rule: events.Rule, queue: sqs.IQueue, deadLetterQueue: sqs.IQueue | undefined): void {
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    for (const target of [queue, deadLetterQueue]) {
      if (target === undefined) continue;
      const { statementAdded } = target.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowStatusChangeRule',
        principals: [eventBridge],
        actions: ['sqs:SendMessage'],
        resources: [target.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleArn } },
      }));
      if (!statementAdded) {
        Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:queuePolicy`, `The queue ${target.node.path} is imported, so `
          + 'the construct cannot change its policy; allow events.amazonaws.com sqs:SendMessage on it with the condition '
          + `aws:SourceArn = the ARN of ${rule.node.path}.`);
      }
    }
    const key = this.encryptionKey;
    if (key !== undefined) {
      // EventBridge encrypts the messages it sends; KMS does not support aws:SourceArn/aws:SourceAccount conditions
      // for this service-to-service call, so the rule is pinned by the queue policies above.
      const { statementAdded } = key.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'AllowEventBridgeToUseTheKey',
        principals: [eventBridge],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }));
      if (!statementAdded) {
        Annotations.of(this).addWarningV2(`${WARNING_PREFIX}:keyPolicy`, `The key ${key.node.path} is imported, so the `
          + 'construct cannot change its key policy; allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt on it, '
          + 'or EventBridge cannot deliver to the encrypted queue.');
      }
    }
  }
}
