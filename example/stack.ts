/**
 * The example app's stack: a Redshift cluster, two taskers, the example state machines and the example CloudFormation
 * custom resources. `src/integ.default.ts` runs it; from the repository root, `npx cdk deploy` deploys it (it creates
 * a billed ra3.large cluster: destroy the stack when you are done). See README.md in this folder.
 */
import * as path from 'node:path';
import { App, CfnOutput, CustomResource, Duration, Environment, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as redshift from 'aws-cdk-lib/aws-redshift';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { NagSuppressions } from 'cdk-nag';
import { TASKER_FUNCTION_ENV } from './custom-resources/environment';
import {
  CancellingStatementMachine, ChainedMachine, ConcurrentWritersMachine, DAILY_SALES_CREATE_SQL, DAILY_SALES_DROP_SQL, DEFAULT_TIMING,
  ExampleTiming, ExportResultMachine, ParallelNoConcurrencyMachine, PollingMachine, RowsChoiceMachine, SLOW_PROCEDURE_CREATE_SQL,
  SLOW_PROCEDURE_DROP_SQL, SessionStagingMachine, SingleFailureMachine, SingleSuccessMachine, SuccessAndFailMachine, WRITES_CREATE_SQL,
  WRITES_DROP_SQL,
} from './machines';
import { LogLevel, RedshiftSql, RedshiftSqlProps, SfnRedshiftTasker } from '../src';

/** The example's own Lambda bundles (`npx projen bundle:example`; git-ignored, never published). */
const BUNDLES_DIR = path.join(__dirname, '.bundles');

/** Names the example app uses on the cluster. */
export const ExampleCluster = {
  /** Database the statements run in. */
  DATABASE: 'dev',
  /** The cluster's admin user (its password is generated in Secrets Manager); the first tasker runs as it. */
  ADMIN_USER: 'admin',
  /** The second tasker's database user, created by the `rs_user2` custom resource. */
  SECOND_USER: 'user2',
  /**
   * The smallest current RA3 node type that runs as a single node (`dc2.large`, the original's default, is a
   * previous-generation type). Change it to `ra3.xlplus` if your Region does not offer it.
   */
  NODE_TYPE: 'ra3.large',
} as const;

/** Resource types of the example custom resources. */
export const ExampleResourceType = {
  /** `RedshiftSql`: SQL on Create, Update and Delete, the tasker's function as service token. */
  SQL: 'Custom::RedshiftSql',
  /** `manage_user`: a function of its own computes the SQL. */
  MANAGE_USER: 'Custom::RedshiftUser',
} as const;

export interface IntegTestingProps {
  /** @default - a new App */
  readonly app?: App;
  /** @default 'integ-test-stack' */
  readonly stackName?: string;
  /** @default - the account and Region of the CLI (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION) */
  readonly env?: Environment;
  /** Durations of the machines' slow statements, budgets and waits. @default DEFAULT_TIMING */
  readonly timing?: ExampleTiming;
}

/** The example app's stack and its parts (state machines and custom resources by construct id). */
export class IntegTesting {
  public readonly app: App;
  public readonly stack: Stack;
  public readonly cluster: redshift.CfnCluster;
  public readonly adminSecret: secretsmanager.Secret;
  /** Where `ExportResultRsTask` writes its results. */
  public readonly resultsBucket: s3.Bucket;
  /** Runs SQL as the admin user; owns the tracking table and the callback infrastructure. */
  public readonly rsTask: SfnRedshiftTasker;
  /** Runs SQL as `user2`; shares the first tasker's table and callback infrastructure. */
  public readonly rsTaskUser2: SfnRedshiftTasker;
  /** The `manage_user` custom-resource function. */
  public readonly manageUserFunction: lambda.Function;
  /** The custom resources by construct id (of a `RedshiftSql`, its `customResource`). */
  public readonly customResources: Record<string, CustomResource> = {};
  public readonly stateMachines: Record<string, sfn.StateMachine> = {};

  constructor(props: IntegTestingProps = {}) {
    this.app = props.app ?? new App();
    this.stack = new Stack(this.app, 'integ-test-stack', {
      stackName: props.stackName,
      env: props.env ?? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
      description: 'cdk-stepfunctions-redshift example: Redshift cluster, SfnRedshiftTasker, example state machines and custom resources',
    });
    const stack = this.stack;

    // ---- Network: isolated subnets only (the Data API needs no network path to the cluster) ----
    const flowLogGroup = new logs.LogGroup(stack, 'vpcFlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const vpc = new ec2.Vpc(stack, 'vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 28 }],
      // Nothing uses the default security group; restricting it would add a custom resource and its function.
      restrictDefaultSecurityGroup: false,
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) } },
    });

    // ---- Cluster: encrypted, not public, admin password generated in Secrets Manager ----
    this.adminSecret = new secretsmanager.Secret(stack, 'rsClusterAdminSecret', {
      description: 'Admin user of the example Redshift cluster',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: ExampleCluster.ADMIN_USER }),
        generateStringKey: 'password',
        passwordLength: 30,
        // Redshift passwords exclude these; the others guarantee upper, lower case and digits.
        excludeCharacters: '"\'@/\\ ',
        requireEachIncludedType: true,
      },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    NagSuppressions.addResourceSuppressions(this.adminSecret, [{
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating the admin password needs a rotation function with a network path to the cluster; the example '
        + 'cluster has none (isolated subnets, no ingress) and the taskers sign in with temporary credentials '
        + '(GetClusterCredentials), never with this password.',
    }]);
    const securityGroup = new ec2.SecurityGroup(stack, 'rsClusterSecurityGroup', {
      vpc,
      description: 'Example Redshift cluster: no ingress (statements arrive through the Redshift Data API)',
      allowAllOutbound: false,
    });
    const subnetGroup = new redshift.CfnClusterSubnetGroup(stack, 'rsClusterSubnets', {
      description: 'Isolated subnets of the example Redshift cluster',
      subnetIds: vpc.isolatedSubnets.map((subnet) => subnet.subnetId),
    });
    const parameterGroup = new redshift.CfnClusterParameterGroup(stack, 'rsClusterParameters', {
      description: 'Example Redshift cluster: TLS required, user activity logged',
      parameterGroupFamily: 'redshift-1.0',
      parameters: [
        { parameterName: 'require_ssl', parameterValue: 'true' },
        { parameterName: 'enable_user_activity_logging', parameterValue: 'true' },
      ],
    });
    this.cluster = new redshift.CfnCluster(stack, 'rsCluster', {
      clusterType: 'single-node',
      nodeType: ExampleCluster.NODE_TYPE,
      dbName: ExampleCluster.DATABASE,
      masterUsername: ExampleCluster.ADMIN_USER,
      // A dynamic reference: CloudFormation reads the password from Secrets Manager; it never appears in the template.
      masterUserPassword: this.adminSecret.secretValueFromJson('password').unsafeUnwrap(),
      encrypted: true,
      publiclyAccessible: false,
      clusterSubnetGroupName: subnetGroup.ref,
      vpcSecurityGroupIds: [securityGroup.securityGroupId],
      clusterParameterGroupName: parameterGroup.ref,
      automatedSnapshotRetentionPeriod: 1,
      allowVersionUpgrade: true,
      loggingProperties: { logDestinationType: 'cloudwatch', logExports: ['connectionlog', 'userlog', 'useractivitylog'] },
    });
    this.cluster.applyRemovalPolicy(RemovalPolicy.DESTROY);
    NagSuppressions.addResourceSuppressions(this.cluster, [{
      id: 'AwsSolutions-RS4',
      reason: 'The cluster accepts no network connections at all (isolated subnets, a security group without ingress); '
        + 'statements reach it only through the Redshift Data API, so the endpoint port is not exposed.',
    }]);
    // Completes the secret with the cluster's endpoint, so it can also serve as a Secrets Manager target.
    new secretsmanager.CfnSecretTargetAttachment(stack, 'rsClusterAdminSecretAttachment', {
      secretId: this.adminSecret.secretArn,
      targetId: this.cluster.ref,
      targetType: 'AWS::Redshift::Cluster',
    });

    // ---- Taskers: the admin user, and a second user sharing the first's table and callback infrastructure ----
    this.rsTask = new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { dbName: ExampleCluster.DATABASE, clusterIdentifier: this.cluster.ref, dbUser: ExampleCluster.ADMIN_USER },
      logLevel: LogLevel.DEBUG,
    });
    this.rsTaskUser2 = new SfnRedshiftTasker(stack, 'RSTaskUser2', {
      redshiftTargetProps: { dbName: ExampleCluster.DATABASE, clusterIdentifier: this.cluster.ref, dbUser: ExampleCluster.SECOND_USER },
      existingTableObj: this.rsTask.trackingTable,
      createCallbackInfra: false,
    });

    // ---- CloudFormation custom resources (SQL through the first tasker) ----
    // A lost completion event fails the deployment after 10 minutes instead of CloudFormation's default hour.
    const serviceTimeout = Duration.minutes(10);
    const sql = (id: string, statements: Omit<RedshiftSqlProps, 'tasker' | 'serviceTimeout'>) => {
      const resource = new RedshiftSql(stack, id, { tasker: this.rsTask, serviceTimeout, ...statements });
      this.customResources[id] = resource.customResource;
      return resource;
    };
    // The slow statement of the polling, cancelling and parallel machines.
    sql('rs_slow_procedure', { onCreate: [SLOW_PROCEDURE_CREATE_SQL], onDelete: [SLOW_PROCEDURE_DROP_SQL] });
    // The table the session machine merges its staged rows into.
    sql('rs_daily_sales', { onCreate: [DAILY_SALES_CREATE_SQL], onDelete: [DAILY_SALES_DROP_SQL] });
    // The table the concurrent writers append to.
    sql('rs_writes', { onCreate: [WRITES_CREATE_SQL], onDelete: [WRITES_DROP_SQL] });
    const table = sql('rs_table', {
      onCreate: ['create table public.my_table(id int, value varchar(50))'],
      onDelete: ['drop table if exists public.my_table'],
    });
    // An Update runs onUpdate: the view follows a changed definition (and a failed update's rollback restores it).
    const view = 'create or replace view public.my_view as select id from public.my_table';
    sql('rs_view', { onCreate: [view], onUpdate: [view], onDelete: ['drop view if exists public.my_view'] })
      .node.addDependency(table);
    // Several statements run in one transaction (BatchExecuteStatement).
    const groups = sql('rs_groups', {
      onCreate: ['create group group_a', 'create group group_b'],
      onDelete: ['drop group group_a', 'drop group group_b'],
    });
    sql('rs_user2', {
      onCreate: [`create user ${ExampleCluster.SECOND_USER} password disable`],
      onDelete: [`drop user if exists ${ExampleCluster.SECOND_USER}`],
    });
    // A custom resource with logic of its own: a function computes the SQL from the old and the new properties.
    this.manageUserFunction = this.manageUserFunctionOf('RSUserManager');
    const user = new CustomResource(stack, 'rs_cfncreated_user', {
      serviceToken: this.manageUserFunction.functionArn,
      resourceType: ExampleResourceType.MANAGE_USER,
      serviceTimeout,
      properties: {
        username: 'cfncreated_user',
        password: 'md5e1c252bf4c426727db9c7bfc726760d8',
        create_db: true,
        create_user: false,
        unrestricted_syslog_access: true,
        groups: ['group_a', 'group_b'],
        valid_until: '2035-12-31 23:59:59',
        connection_limit: 3,
        session_timeout: 1728000,
      },
    });
    // Like a RedshiftSql resource, it depends on the tasker and its callback infrastructure.
    user.node.addDependency(this.rsTask, groups);
    this.customResources.rs_cfncreated_user = user;

    // ---- State machines ----
    const logGroup = new logs.LogGroup(stack, 'stateMachineLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const common = { tasker: this.rsTask, logGroup, timing: props.timing ?? DEFAULT_TIMING };
    const cancelling = new CancellingStatementMachine(stack, common);
    const polling = new PollingMachine(stack, common);
    const successAndFail = new SuccessAndFailMachine(stack, common);
    const parallel = new ParallelNoConcurrencyMachine(stack, common);
    const singleSuccess = new SingleSuccessMachine(stack, common);
    const singleFailure = new SingleFailureMachine(stack, { ...common, tasker: this.rsTaskUser2 });
    const sessionStaging = new SessionStagingMachine(stack, common);
    const writers = new ConcurrentWritersMachine(stack, common);
    const rowsChoice = new RowsChoiceMachine(stack, common);
    // Results written by the tasker (ExportResultRsTask): private, encrypted, TLS only, kept a week.
    this.resultsBucket = new s3.Bucket(stack, 'resultsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    NagSuppressions.addResourceSuppressions(this.resultsBucket, [{
      id: 'AwsSolutions-S1', reason: 'Example results bucket: its objects expire after a week; access logs would need a bucket of their own.',
    }]);
    const exportResult = new ExportResultMachine(stack, { ...common, bucket: this.resultsBucket });
    const machines = [
      { id: CancellingStatementMachine.ID, stateMachine: cancelling.stateMachine },
      { id: PollingMachine.ID, stateMachine: polling.stateMachine },
      { id: SuccessAndFailMachine.ID, stateMachine: successAndFail.stateMachine },
      { id: ParallelNoConcurrencyMachine.ID, stateMachine: parallel.stateMachine },
      { id: SingleSuccessMachine.ID, stateMachine: singleSuccess.stateMachine },
      { id: SingleFailureMachine.ID, stateMachine: singleFailure.stateMachine },
      { id: SessionStagingMachine.ID, stateMachine: sessionStaging.stateMachine },
      { id: ConcurrentWritersMachine.ID, stateMachine: writers.stateMachine },
      { id: RowsChoiceMachine.ID, stateMachine: rowsChoice.stateMachine },
      { id: ExportResultMachine.ID, stateMachine: exportResult.stateMachine },
    ];
    const chained = new ChainedMachine(stack, { machines, logGroup });
    for (const { id, stateMachine } of [...machines, { id: ChainedMachine.ID, stateMachine: chained.stateMachine }]) {
      this.stateMachines[id] = stateMachine;
    }

    new CfnOutput(stack, 'TaskerFunctionName', { value: this.rsTask.lambdaFunction.functionName });
    new CfnOutput(stack, 'ClusterIdentifier', { value: this.cluster.ref });
    new CfnOutput(stack, 'ChainedStateMachineArn', { value: chained.stateMachine.stateMachineArn });
  }

  /** The `manage_user` function from its bundle, with its own role: write its logs, invoke the first tasker. */
  private manageUserFunctionOf(id: string): lambda.Function {
    const logGroup = new logs.LogGroup(this.stack, `${id}LogGroup`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    // Its own role, without managed policies: writing its logs, and (below) invoking the tasker.
    const role = new iam.Role(this.stack, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }));
    this.rsTask.grantInvoke(role);
    return new lambda.Function(this.stack, id, {
      description: 'Example custom resource manage_user: a Redshift user described by its properties, through SfnRedshiftTasker',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(BUNDLES_DIR, 'manage-user')),
      // A synchronous call to the tasker (at most its 60-second timeout) plus the response to CloudFormation.
      timeout: Duration.minutes(2),
      memorySize: 256,
      role,
      logGroup,
      environment: { [TASKER_FUNCTION_ENV]: this.rsTask.lambdaFunction.functionName },
    });
  }
}

if (require.main === module) {
  new IntegTesting().app.synth();
}
