import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { LogLevel, TablePermission } from './options';
import { TrackingTableProps } from './tracking-table-props';

/**
 * Where the tasker runs SQL and how it authenticates.
 *
 * Give exactly one of `clusterIdentifier` (provisioned cluster) and `workgroupName` (Redshift Serverless).
 * Authentication:
 * - `dbUser` (clusters only): temporary credentials for that database user (`redshift:GetClusterCredentials`);
 * - `secret`: the user name and password stored in AWS Secrets Manager;
 * - neither: IAM identity. The database user is derived from the function's role (`IAMR:<role name>`), through
 *   `redshift:GetClusterCredentialsWithIAM` (cluster) or `redshift-serverless:GetCredentials` (Serverless).
 */
export interface RedshiftTargetProps {
  /**
   * Database in which the statements run.
   */
  readonly dbName: string;

  /**
   * Identifier of a provisioned cluster (the part of its endpoint before the first `.`; lowercase).
   *
   * @default - none: `workgroupName` must be given
   */
  readonly clusterIdentifier?: string;

  /**
   * Name of a Redshift Serverless workgroup.
   *
   * @default - none: `clusterIdentifier` must be given
   */
  readonly workgroupName?: string;

  /**
   * Database user the statements run as, with temporary credentials from `redshift:GetClusterCredentials`.
   * Provisioned clusters only; not together with `secret`.
   *
   * @default - no database user: `secret` if given, else IAM identity authentication
   */
  readonly dbUser?: string;

  /**
   * Secrets Manager secret with the database credentials (`username` and `password`). The functions get read
   * access to it (and decrypt access to its KMS key, if any). Not together with `dbUser`.
   *
   * @default - no secret: `dbUser` if given, else IAM identity authentication
   */
  readonly secret?: secretsmanager.ISecret;
}

/**
 * Properties of `SfnRedshiftTasker`.
 */
export interface SfnRedshiftTaskerProps {
  /**
   * The Redshift target (cluster or Serverless workgroup), database and authentication.
   */
  readonly redshiftTargetProps: RedshiftTargetProps;

  /**
   * Whether this tasker creates the callback infrastructure: the EventBridge rule, the SQS queue with its
   * dead-letter queue and KMS key, and the completer wiring.
   *
   * The rule receives every Data API status-change event of the account and region, and every completer ignores
   * statements it does not track, so one callback infrastructure per account and region is enough. Further taskers
   * (another database, user or target) pass `createCallbackInfra: false` and the first tasker's `trackingTable` as
   * `existingTableObj`; their statements are then completed by the first tasker's completer. A second tasker of the
   * app that creates its own for the same account and region (or where both stacks are environment-agnostic) gets a
   * synth warning, `cdk-stepfunctions-redshift:secondCallbackInfra`: acknowledge it when the stacks deploy to
   * different accounts or regions.
   *
   * @default true
   */
  readonly createCallbackInfra?: boolean;

  // ---------------------------------------------------------------------------------------------------------------
  // Functions
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * An existing function to use as the starter (the function state machines and custom resources invoke) instead of
   * creating one. It must run the handler of this library (`assets/handler`, `index.handler`).
   *
   * If it is a `lambda.Function`, the construct adds the environment variables the handler needs; otherwise set them
   * yourself (the construct emits a warning listing them). If it has a role, the construct attaches the permissions
   * the handler needs to that role; otherwise grant them yourself. Not together with `starterLambdaFunctionProps`.
   *
   * @default - a new function
   */
  readonly starterExistingLambdaObj?: lambda.IFunction;

  /**
   * Options for the starter function the construct creates (memory, timeout, VPC, reserved concurrency, role ...).
   * They override the defaults one by one. `environment` entries are added to the handler's environment; they cannot
   * replace the variables the construct manages (`DDB_TABLE_NAME`, `CLUSTER_IDENTIFIER`, `WORKGROUP_NAME`, `DATABASE`,
   * `DB_USER`, `SECRET_ARN`, `TTL`, `LOG_LEVEL`, `CANCEL_ORPHANS`, `FAST_PATH_WAIT_SECONDS`).
   *
   * Defaults: Node.js 24 on arm64, 256 MB, 60-second timeout, X-Ray tracing active, a log group with one month of
   * retention, a role with only the permissions the handler needs, no reserved concurrency.
   *
   * Hardening options pass through unchanged:
   * - `vpc` (with `vpcSubnets`, `securityGroups`): the function runs in your subnets, which must reach the Data API,
   *   DynamoDB, Step Functions and KMS (when encrypted with `customerManagedKey`), and Amazon S3 for CloudFormation
   *   responses, through VPC endpoints or a NAT gateway; the role then also gets `AWSLambdaVPCAccessExecutionRole`;
   * - `reservedConcurrentExecutions`: a start beyond it is throttled (`Lambda.TooManyRequestsException`), which fails
   *   the Step Functions task unless you retry it (`addRetry`); keep it above your peak of concurrent starts. When this
   *   function also consumes the completion queue (no separate completer), set `completerMaxConcurrency` below it, or
   *   throttled completion events count towards `maxReceiveCount` (the construct warns);
   * - `deadLetterQueue` (or `deadLetterQueueEnabled`, `deadLetterTopic`) and `onFailure`: where asynchronous
   *   invocations that failed every retry go — the reconciler's sweeps and CloudFormation's requests of `RedshiftSql`
   *   (Step Functions invokes the function synchronously and sees the error itself);
   * - `environmentEncryption`: the key of the environment variables (over `customerManagedKey`).
   *
   * @default - the defaults above
   */
  readonly starterLambdaFunctionProps?: lambda.FunctionOptions;

  /**
   * An existing function to process completion events (the SQS queue's consumer) instead of the starter. It must run
   * the handler of this library. The construct adds the environment and permissions as for
   * `starterExistingLambdaObj`. Not together with `completerLambdaFunctionProps`.
   *
   * @default - the starter function also processes completions, unless `completerLambdaFunctionProps` is given
   */
  readonly completerExistingLambdaObj?: lambda.IFunction;

  /**
   * Options for a separate completer function. When given, the construct creates a second function from the same
   * handler with these options over the defaults (see `starterLambdaFunctionProps`), with its own role and only the
   * permissions completion needs.
   *
   * The hardening options of `starterLambdaFunctionProps` apply alike, but only the SQS event source invokes the
   * completer, synchronously: its `deadLetterQueue` or `onFailure` never receives anything (failed completion events
   * go to the completion queue's dead-letter queue). With `reservedConcurrentExecutions`, set
   * `completerMaxConcurrency` at most that (the construct warns).
   *
   * @default - the starter function also processes completions
   */
  readonly completerLambdaFunctionProps?: lambda.FunctionOptions;

  /**
   * Maximum number of concurrent completer invocations the SQS event source starts (2 to 1000).
   *
   * @default - no limit beyond the function's own concurrency
   */
  readonly completerMaxConcurrency?: number;

  /**
   * Log level of the handler.
   *
   * @default LogLevel.INFO
   */
  readonly logLevel?: LogLevel;

  // ---------------------------------------------------------------------------------------------------------------
  // Fast path, metrics and alarms
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * How long a start waits for its statement to end (the Data API's `WaitTimeSeconds`) before it returns and leaves
   * the completion to the status-change event. A statement that ends within this time is called back at once by the
   * starter itself, without the EventBridge and SQS hop (the `FastPathCompletions` metric counts them); the event
   * that follows is acknowledged as a duplicate. Whole seconds from 0 to 30; `Duration.seconds(0)` turns the fast
   * path off.
   *
   * The trade-off: every start is billed for up to this much more function duration (a statement that runs longer
   * costs the whole wait), in exchange for the latency of the event path (typically a few seconds) on short
   * statements. The starter function's timeout must exceed the wait by at least 5 seconds (the construct checks it).
   *
   * @default Duration.seconds(2)
   */
  readonly fastPathWaitTime?: Duration;

  /**
   * Whether the tasker creates its default CloudWatch alarms (`deadLetterQueueAlarm`: a message in its dead-letter
   * queue, i.e. a callback that never happened; `callbackFailuresAlarm`: a callback that failed). They have no actions:
   * add yours (`alarm.addAlarmAction(...)`). A tasker that shares another tasker's callback infrastructure
   * (`createCallbackInfra: false`), or has no dead-letter queue, gets no dead-letter queue alarm: the owner of the
   * queue has it.
   *
   * @default true
   */
  readonly createAlarms?: boolean;

  /**
   * Whether the tasker creates a CloudWatch dashboard (`dashboard`) with its statements, durations, callback
   * latency, completion paths, failures and queue depths.
   *
   * @default false
   */
  readonly createDashboard?: boolean;

  // ---------------------------------------------------------------------------------------------------------------
  // Tracking table
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Settings of the tracking table the construct creates. Not together with `existingTableObj`.
   *
   * @default - partition key `id`, sort key `invocationId`, TTL attribute `TTL`, on-demand billing, point-in-time
   * recovery, AWS-managed encryption (`customerManagedKey` if given), removal policy DESTROY
   */
  readonly dynamoTableProps?: TrackingTableProps;

  /**
   * An existing tracking table, usually another tasker's `trackingTable`. Required with `createCallbackInfra: false`.
   * It must have the key schema `id` (string) / `invocationId` (string) and the TTL attribute `TTL`. Its encryption is
   * its owner's (`customerManagedKey` does not change it); the functions get access to its key, if it has one.
   *
   * @default - a new table
   */
  readonly existingTableObj?: dynamodb.ITable;

  /**
   * Additional tracking-table permissions for the starter function. The permissions the handler needs are always
   * granted; this only adds to them (for example for your own code in an existing function).
   *
   * @default - only the permissions the handler needs
   */
  readonly tablePermissions?: TablePermission;

  // ---------------------------------------------------------------------------------------------------------------
  // Reconciler
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Whether a schedule sends the starter function reconciler sweeps (`{"action": "reconcile"}`). EventBridge
   * delivers the Data API's status-change events on a best-effort basis; a sweep completes the statements whose event
   * was lost (with the callback the event would have produced, exactly once), fails the callers of statements the
   * Data API no longer knows (`StatementNotFound`) and, with `cancelOrphans`, cancels running statements whose caller
   * no longer waits. It reads only the statements in flight (the tracking table's sparse `inFlight` index), so it adds
   * nothing to a statement whose event arrives.
   *
   * An `existingTableObj` must have the `inFlight` index (the table of a tasker has it).
   *
   * @default true
   */
  readonly enableReconciler?: boolean;

  /**
   * How often the reconciler sweeps (whole minutes, 1 to 1440). A statement whose event was lost is called back
   * within about one interval after it ended.
   *
   * @default Duration.minutes(5)
   */
  readonly reconcileInterval?: Duration;

  /**
   * Whether sweeps cancel (`CancelStatement`) running statements whose caller no longer waits: a Step Functions
   * task that timed out or was closed, an execution that stopped, failed or timed out, or a CloudFormation request
   * past its service timeout. Statements started without a callback are never cancelled. To tell whether a task still
   * waits, a sweep sends `SendTaskHeartbeat` on its token, which resets the task's `HeartbeatSeconds` clock: bound the
   * wait with `TimeoutSeconds`.
   *
   * @default true
   */
  readonly cancelOrphans?: boolean;

  /**
   * How long a handled item stays in the tracking table (whole days, 1 to 3650). Completed statements get the value of
   * the tasker whose completer handled them (with shared callback infrastructure, the first tasker's).
   *
   * @default Duration.days(1)
   */
  readonly trackingTableTtl?: Duration;

  // ---------------------------------------------------------------------------------------------------------------
  // Completion queue
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * An existing standard queue for completion events. The construct creates no queue, dead-letter queue or key then;
   * it adds the rule's send permission to the queue policy and the consume permissions to the completer. If the queue
   * is imported, or encrypted with an imported key, allow EventBridge on it yourself (the construct warns).
   * Not together with the other queue, dead-letter queue and key props.
   *
   * @default - a new queue
   */
  readonly existingQueueObj?: sqs.IQueue;

  /**
   * Options for the completion queue the construct creates, over its defaults (standard queue, TLS enforced,
   * visibility timeout six times the completer's timeout). Encryption and the dead-letter queue have their own
   * props (`enableEncryptionWithCustomerManagedKey`, `encryptionKey`, `encryptionKeyProps`, `deployDeadLetterQueue`,
   * `deadLetterQueueProps`, `maxReceiveCount`) and cannot be set here.
   *
   * @default - the defaults above
   */
  readonly queueProps?: sqs.QueueProps;

  /**
   * Has no effect and is deprecated (the original granted `sqs:PurgeQueue` to the EventBridge service, which never
   * purges). To let an operator purge the queue, call `tasker.queue.grantPurge(principal)`.
   *
   * @deprecated grant purging explicitly with `tasker.queue.grantPurge(principal)`
   * @default false
   */
  readonly enableQueuePurging?: boolean;

  /**
   * Whether a dead-letter queue receives the completion events that failed `maxReceiveCount` times.
   *
   * @default true
   */
  readonly deployDeadLetterQueue?: boolean;

  /**
   * Options for the dead-letter queue, over its defaults (14 days retention, TLS enforced, the completion queue's
   * encryption). `encryption` and `encryptionMasterKey` cannot be set here.
   *
   * @default - the defaults above
   */
  readonly deadLetterQueueProps?: sqs.QueueProps;

  /**
   * How many times a completion event is received before it moves to the dead-letter queue (1 to 1000).
   *
   * @default 15
   */
  readonly maxReceiveCount?: number;

  /**
   * Whether the queues are encrypted with a customer-managed KMS key (needed for an encrypted queue that
   * EventBridge delivers to). When `false`, the queues use SQS-managed encryption (SSE-SQS).
   *
   * @default true
   */
  readonly enableEncryptionWithCustomerManagedKey?: boolean;

  /**
   * The customer-managed key for the queues only. If it is a `kms.Key` of this app, the construct allows EventBridge
   * to use it in its key policy; for an imported key, do that yourself (the construct warns). To encrypt the table,
   * the log groups and the environment variables too, pass the key as `customerManagedKey` instead.
   *
   * @default - `customerManagedKey` if given, else a new key (see `encryptionKeyProps`)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Options for the key the construct creates, over its defaults (key rotation enabled, removal policy RETAIN).
   *
   * @default - the defaults above
   */
  readonly encryptionKeyProps?: kms.KeyProps;

  // ---------------------------------------------------------------------------------------------------------------
  // Encryption at rest
  // ---------------------------------------------------------------------------------------------------------------

  /**
   * One customer-managed KMS key for everything the tasker stores: the tracking table it creates
   * (`TableEncryption.CUSTOMER_MANAGED`), the completion queue and its dead-letter queue (instead of a key of their
   * own; it is then the `encryptionKey` attribute), the log groups of the functions it creates, and their environment
   * variables (unless `environmentEncryption` is given).
   *
   * What it leaves alone: an `existingTableObj`, an `existingQueueObj`, an existing function and a `logGroup` or
   * `environmentEncryption` you pass in the function options keep their own encryption.
   *
   * The key policy must let the services use the key: CloudWatch Logs (`logs.<region>.amazonaws.com`, for the log
   * groups of this account and region, with the condition `kms:EncryptionContext:aws:logs:arn`) and EventBridge
   * (`events.amazonaws.com`, to deliver to the encrypted queue). For a `kms.Key` of this app the construct adds both
   * statements; for an imported key, add them yourself (the construct warns): without them the log groups cannot be
   * created and no completion event arrives. DynamoDB, SQS and Lambda use the key through grants and the functions'
   * roles, which the construct gives the key actions they need.
   *
   * Not together with `encryptionKey`, `encryptionKeyProps`, `enableEncryptionWithCustomerManagedKey: false`, or
   * `dynamoTableProps.encryption` / `dynamoTableProps.encryptionKey`.
   *
   * @default - each resource keeps its default encryption: the table and the environment variables with AWS-managed
   * keys, the log groups with CloudWatch Logs' own encryption, the queues with their own key (see `encryptionKey`)
   */
  readonly customerManagedKey?: kms.IKey;
}
