/**
 * The construct's variants, each in its own stack, for cfn-lint: every way of configuring the tasker that changes the
 * resources it creates (targets and authentication, functions, table, queue, key, shared infrastructure, VPC,
 * hardening). checkov scans the two `SecurityScan` stacks (checkov.ts).
 */
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { LogLevel, RedshiftSql, RedshiftSqlTask, SfnRedshiftTasker, SfnRedshiftTaskerProps, TablePermission } from '../../src';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf';
const HANDLER = path.join(__dirname, '..', '..', 'assets', 'handler');

/** A function of the app running the library's handler (for the existing-function props). */
function handlerFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(HANDLER),
    timeout: Duration.seconds(90),
  });
}

/** A tasker as the README uses it: a SQL task in a state machine and SQL in the stack (`RedshiftSql`). */
function taskerInUse(stack: Stack, props: Omit<SfnRedshiftTaskerProps, 'redshiftTargetProps'>): void {
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' }, ...props });
  const refresh = RedshiftSqlTask.jsonPath(stack, 'RefreshSales', {
    tasker, sql: 'call refresh_sales_summary()', taskTimeout: sfn.Timeout.duration(Duration.hours(2)),
  });
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(refresh) });
  new RedshiftSql(stack, 'SalesTable', {
    tasker,
    onCreate: ['create table if not exists sales (id int, region varchar(20))'],
    onDelete: ['drop table if exists sales'],
  });
}

/** Variant name (also its stack name) → what the stack holds. */
export const VARIANTS: Readonly<Record<string, (stack: Stack) => void>> = {
  /** The README's provisioned cluster with a database user. */
  TaskerDefault: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' } });
  },
  /** The README's Serverless workgroup with an imported secret. */
  TaskerServerlessSecret: (stack) => {
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Credentials', SECRET_ARN);
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev', secret } });
  },
  /** IAM identity on a cluster and on a workgroup (no user, no secret). */
  TaskerIamIdentity: (stack) => {
    const first = new SfnRedshiftTasker(stack, 'ClusterTask', { redshiftTargetProps: CLUSTER });
    new SfnRedshiftTasker(stack, 'WorkgroupTask', {
      redshiftTargetProps: { workgroupName: 'analytics', dbName: 'dev' },
      createCallbackInfra: false,
      existingTableObj: first.trackingTable,
    });
  },
  /** A cluster with a secret of the app, encrypted with its own key. */
  TaskerClusterSecret: (stack) => {
    const secret = new secretsmanager.Secret(stack, 'Credentials', { encryptionKey: new kms.Key(stack, 'SecretKey', { enableKeyRotation: true }) });
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { ...CLUSTER, secret } });
  },
  /** A separate completer function with a concurrency cap. */
  TaskerSeparateCompleter: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' },
      completerLambdaFunctionProps: { memorySize: 512 },
      completerMaxConcurrency: 5,
    });
  },
  /** Existing functions of the app as starter and completer. */
  TaskerExistingFunctions: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' },
      starterExistingLambdaObj: handlerFunction(stack, 'MyStarter'),
      completerExistingLambdaObj: handlerFunction(stack, 'MyCompleter'),
    });
  },
  /** The shared-infrastructure pair of the README. */
  TaskerSharedInfra: (stack) => {
    const etl = new SfnRedshiftTasker(stack, 'EtlTask', { redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' } });
    new SfnRedshiftTasker(stack, 'ReportingTask', {
      redshiftTargetProps: { workgroupName: 'reporting', dbName: 'dev' },
      createCallbackInfra: false,
      existingTableObj: etl.trackingTable,
    });
  },
  /** Both functions in a VPC. */
  TaskerVpc: (stack) => {
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER,
      starterLambdaFunctionProps: { vpc },
      completerLambdaFunctionProps: { vpc },
    });
  },
  /** A tracking table with a customer-managed key and provisioned capacity. */
  TaskerCmkTable: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER,
      dynamoTableProps: {
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        billingMode: dynamodb.BillingMode.PROVISIONED,
        readCapacity: 2,
        writeCapacity: 2,
      },
      completerLambdaFunctionProps: {},
    });
  },
  /** An existing queue of the app, with its own key and dead-letter queue. */
  TaskerExistingQueue: (stack) => {
    const key = new kms.Key(stack, 'MyKey', { enableKeyRotation: true });
    const queue = new sqs.Queue(stack, 'MyQueue', {
      encryptionMasterKey: key,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(10),
      deadLetterQueue: { queue: new sqs.Queue(stack, 'MyDlq', { encryptionMasterKey: key, enforceSSL: true }), maxReceiveCount: 3 },
    });
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, existingQueueObj: queue });
  },
  /** SQS-managed encryption and no dead-letter queue. */
  TaskerSqsManagedNoDlq: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER,
      enableEncryptionWithCustomerManagedKey: false,
      deployDeadLetterQueue: false,
    });
  },
  /** What checkov scans with the defaults: a default tasker, a SQL task in a state machine, SQL in the stack. */
  SecurityScanDefault: (stack) => taskerInUse(stack, {}),
  /** The same with every hardening prop (README: Hardening): checkov finds nothing. */
  SecurityScanHardened: (stack) => {
    const key = new kms.Key(stack, 'TaskerKey', { enableKeyRotation: true, description: 'Everything the tasker stores' });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
    });
    const failedInvocations = new sqs.Queue(stack, 'FailedInvocations', {
      encryptionMasterKey: key, enforceSSL: true, retentionPeriod: Duration.days(14),
    });
    taskerInUse(stack, {
      customerManagedKey: key,
      starterLambdaFunctionProps: { vpc, reservedConcurrentExecutions: 20, deadLetterQueue: failedInvocations },
      completerMaxConcurrency: 5,
    });
  },
  /** Every scalar setting away from its default. */
  TaskerCustomSettings: (stack) => {
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { ...CLUSTER, dbUser: 'etl_user' },
      logLevel: LogLevel.DEBUG,
      trackingTableTtl: Duration.days(7),
      tablePermissions: TablePermission.READ_WRITE,
      maxReceiveCount: 5,
      queueProps: { retentionPeriod: Duration.days(7) },
      deadLetterQueueProps: { retentionPeriod: Duration.days(10) },
      encryptionKeyProps: { description: 'Completion queues of the custom-settings variant' },
      starterLambdaFunctionProps: {
        memorySize: 512,
        timeout: Duration.seconds(120),
        reservedConcurrentExecutions: 10,
        environment: { APP_SETTING: 'kept' },
      },
    });
  },
};

/** Synthesizes every variant into `outdir`; returns the template path of each, by variant name. */
export function synthesizeVariants(outdir: string): Record<string, string> {
  const app = new App({ outdir });
  for (const [name, build] of Object.entries(VARIANTS)) {
    build(new Stack(app, name));
  }
  const assembly = app.synth();
  return Object.fromEntries(Object.keys(VARIANTS).map((name) => [name, path.join(outdir, assembly.getStackByName(name).templateFile)]));
}
