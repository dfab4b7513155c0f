/**
 * The example app, synthesized offline: network, cluster, taskers, custom resources and their dependencies, the
 * custom-resource functions and their permissions, state machine roles, and cdk-nag.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { logicalId, nag, synthesizeExample } from './support';
import { TASKER_FUNCTION_ENV } from '../../example/custom-resources/environment';
import { ChainedMachine, ExportResultMachine, SLOW_PROCEDURE_CREATE_SQL, SLOW_PROCEDURE_DROP_SQL, SingleSuccessMachine } from '../../example/machines';
import { ExampleCluster, ExampleResourceType, IntegTesting } from '../../example/stack';
import { testApp } from '../support/temp';

const { integ, template, resources } = synthesizeExample();
const stack = integ.stack;
const idOf = (construct: unknown) => logicalId(stack, construct);
const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

/** Statements of the policies attached to a role (inline `Policies` and `AWS::IAM::Policy` resources). */
function roleStatements(roleLogicalId: string): any[] {
  const attached = ofType('AWS::IAM::Policy')
    .filter(([, policy]) => (policy.Properties.Roles ?? []).some((role: any) => role.Ref === roleLogicalId))
    .flatMap(([, policy]) => policy.Properties.PolicyDocument.Statement);
  const inline = (resources[roleLogicalId].Properties.Policies ?? []).flatMap((policy: any) => policy.PolicyDocument.Statement);
  return [...attached, ...inline];
}
const actionsOf = (statement: any): string[] => [statement.Action].flat();
const roleOf = (fnLogicalId: string): string => resources[fnLogicalId].Properties.Role['Fn::GetAtt'][0];

describe('the example app', () => {
  test('has the expected resources', () => {
    const counts: Record<string, number> = {};
    for (const resource of Object.values(resources)) counts[resource.Type] = (counts[resource.Type] ?? 0) + 1;
    expect(counts).toEqual({
      'AWS::EC2::VPC': 1,
      'AWS::EC2::Subnet': 2,
      'AWS::EC2::RouteTable': 2,
      'AWS::EC2::SubnetRouteTableAssociation': 2,
      'AWS::EC2::FlowLog': 1,
      'AWS::EC2::SecurityGroup': 1,
      'AWS::S3::Bucket': 1,
      'AWS::S3::BucketPolicy': 1,
      'AWS::SecretsManager::Secret': 1,
      'AWS::SecretsManager::SecretTargetAttachment': 1,
      'AWS::Redshift::ClusterSubnetGroup': 1,
      'AWS::Redshift::ClusterParameterGroup': 1,
      'AWS::Redshift::Cluster': 1,
      // Two taskers (one function each), the manage_user custom-resource function.
      'AWS::Lambda::Function': 3,
      'AWS::Lambda::EventSourceMapping': 1,
      // each schedule may invoke its starter; the first tasker's completer may invoke the second one's starter
      'AWS::Lambda::Permission': 3,
      'AWS::DynamoDB::Table': 1,
      // the status-change rule, and a reconciler schedule for each tasker
      'AWS::Events::Rule': 3,
      'AWS::SQS::Queue': 2,
      'AWS::SQS::QueuePolicy': 2,
      'AWS::KMS::Key': 1,
      // the first tasker's dead-letter queue and failed callbacks alarms, the second one's failed callbacks alarm
      'AWS::CloudWatch::Alarm': 3,
      'AWS::StepFunctions::StateMachine': 11,
      'AWS::IAM::Role': 15,
      // a default policy per role, and the export machine's Distributed Map policy (its own child executions)
      'AWS::IAM::Policy': 20,
      'AWS::Logs::LogGroup': 5,
      [ExampleResourceType.SQL]: 7,
      [ExampleResourceType.MANAGE_USER]: 1,
    });
  });

  test('the VPC has isolated subnets only: no internet or NAT gateway, no public IPs', () => {
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Route', 0);
    for (const [, subnet] of ofType('AWS::EC2::Subnet')) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Properties.Tags).toEqual(expect.arrayContaining([{ Key: 'aws-cdk:subnet-type', Value: 'Isolated' }]));
    }
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
  });

  test('the cluster is encrypted, not public, in the isolated subnets, with the admin password from Secrets Manager', () => {
    const [[, cluster]] = ofType('AWS::Redshift::Cluster');
    expect(cluster.Properties).toEqual(expect.objectContaining({
      ClusterType: 'single-node',
      NodeType: 'ra3.large',
      DBName: ExampleCluster.DATABASE,
      MasterUsername: ExampleCluster.ADMIN_USER,
      Encrypted: true,
      PubliclyAccessible: false,
      AllowVersionUpgrade: true,
      AutomatedSnapshotRetentionPeriod: 1,
      LoggingProperties: { LogDestinationType: 'cloudwatch', LogExports: ['connectionlog', 'userlog', 'useractivitylog'] },
    }));
    expect(cluster.DeletionPolicy).toBe('Delete');
    // A dynamic reference: the password never appears in the template.
    const secretId = idOf(integ.adminSecret);
    expect(cluster.Properties.MasterUserPassword).toEqual({
      'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:password::}}']],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ username: ExampleCluster.ADMIN_USER }),
        GenerateStringKey: 'password',
        ExcludeCharacters: '"\'@/\\ ',
        RequireEachIncludedType: true,
      }),
    });
    const [[subnetGroupId, subnetGroup]] = ofType('AWS::Redshift::ClusterSubnetGroup');
    expect(cluster.Properties.ClusterSubnetGroupName).toEqual({ Ref: subnetGroupId });
    expect(subnetGroup.Properties.SubnetIds).toEqual(ofType('AWS::EC2::Subnet').map(([id]) => ({ Ref: id })));
    const [[parameterGroupId, parameterGroup]] = ofType('AWS::Redshift::ClusterParameterGroup');
    expect(cluster.Properties.ClusterParameterGroupName).toEqual({ Ref: parameterGroupId });
    expect(parameterGroup.Properties.Parameters).toEqual([
      { ParameterName: 'require_ssl', ParameterValue: 'true' },
      { ParameterName: 'enable_user_activity_logging', ParameterValue: 'true' },
    ]);
    // The security group admits nothing.
    const [[, securityGroup]] = ofType('AWS::EC2::SecurityGroup');
    expect(securityGroup.Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('RSTask runs as the admin user; RSTaskUser2 runs as user2 and shares the table and the callback infrastructure', () => {
    const clusterRef = { Ref: idOf(integ.cluster) };
    const env = (fn: unknown) => resources[idOf(fn)].Properties.Environment.Variables;
    expect(env(integ.rsTask.lambdaFunction)).toEqual(expect.objectContaining({
      CLUSTER_IDENTIFIER: clusterRef, DATABASE: 'dev', DB_USER: 'admin', LOG_LEVEL: 'DEBUG',
    }));
    expect(env(integ.rsTaskUser2.lambdaFunction)).toEqual(expect.objectContaining({
      CLUSTER_IDENTIFIER: clusterRef,
      DATABASE: 'dev',
      DB_USER: ExampleCluster.SECOND_USER,
      DDB_TABLE_NAME: { Ref: idOf(integ.rsTask.trackingTable) },
    }));
    expect(integ.rsTaskUser2.trackingTable).toBe(integ.rsTask.trackingTable);
    expect(integ.rsTaskUser2.queue).toBeUndefined();
    expect(integ.rsTaskUser2.rule).toBeUndefined();
  });

  test('the second user exists: the rs_user2 custom resource creates it (RedshiftSql: the tasker\'s own function runs it)', () => {
    const user2 = resources[idOf(integ.customResources.rs_user2)];
    expect(user2.Type).toBe(ExampleResourceType.SQL);
    expect(user2.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [idOf(integ.rsTask.lambdaFunction), 'Arn'] },
      ServiceTimeout: '600',
      OnCreate: `create user ${ExampleCluster.SECOND_USER} password disable`,
      OnDelete: `drop user if exists ${ExampleCluster.SECOND_USER}`,
    });
  });

  test('the custom resources: SQL, properties and service tokens; logical ids are the construct ids', () => {
    const taskerToken = { 'Fn::GetAtt': [idOf(integ.rsTask.lambdaFunction), 'Arn'] };
    const manageUserToken = { 'Fn::GetAtt': [idOf(integ.manageUserFunction), 'Arn'] };
    const props = (id: string) => resources[idOf(integ.customResources[id])].Properties;
    expect(Object.keys(integ.customResources).sort()).toEqual(
      ['rs_cfncreated_user', 'rs_daily_sales', 'rs_groups', 'rs_slow_procedure', 'rs_table', 'rs_user2', 'rs_view', 'rs_writes']);
    expect(Object.values(integ.customResources).map(idOf).sort())
      .toEqual(['rscfncreateduser', 'rsdailysales', 'rsgroups', 'rsslowprocedure', 'rstable', 'rsuser2', 'rsview', 'rswrites']);
    expect(props('rs_slow_procedure')).toEqual({
      ServiceToken: taskerToken, ServiceTimeout: '600', OnCreate: SLOW_PROCEDURE_CREATE_SQL, OnDelete: SLOW_PROCEDURE_DROP_SQL,
    });
    expect(props('rs_table')).toEqual(expect.objectContaining({
      ServiceToken: taskerToken,
      OnCreate: 'create table public.my_table(id int, value varchar(50))',
      OnDelete: 'drop table if exists public.my_table',
    }));
    expect(props('rs_view')).toEqual(expect.objectContaining({
      OnCreate: 'create or replace view public.my_view as select id from public.my_table',
      OnUpdate: 'create or replace view public.my_view as select id from public.my_table',
      OnDelete: 'drop view if exists public.my_view',
    }));
    expect(props('rs_groups')).toEqual(expect.objectContaining({
      OnCreate: ['create group group_a', 'create group group_b'], OnDelete: ['drop group group_a', 'drop group group_b'],
    }));
    expect(props('rs_cfncreated_user')).toEqual({
      ServiceToken: manageUserToken,
      ServiceTimeout: '600',
      username: 'cfncreated_user',
      password: 'md5e1c252bf4c426727db9c7bfc726760d8',
      create_db: true,
      create_user: false,
      unrestricted_syslog_access: true,
      groups: ['group_a', 'group_b'],
      valid_until: '2035-12-31 23:59:59',
      connection_limit: 3,
      session_timeout: 1728000,
    });
  });

  test('every custom resource depends on the callback infrastructure, so no completion event is missed', () => {
    const task = integ.rsTask;
    const infrastructure = [
      task.rule, task.queue, task.deadLetterQueue, task.encryptionKey, task.trackingTable,
    ].map(idOf);
    const eventSourceMapping = ofType('AWS::Lambda::EventSourceMapping').map(([id]) => id);
    const taskerPolicies = ofType('AWS::IAM::Policy').map(([id]) => id).filter((id) => id.startsWith('RSTask') && !id.startsWith('RSTaskUser2'));
    expect(taskerPolicies.length).toBeGreaterThanOrEqual(2);
    for (const resource of Object.values(integ.customResources)) {
      const dependsOn = resources[idOf(resource)].DependsOn;
      expect(dependsOn).toEqual(expect.arrayContaining([...infrastructure, ...eventSourceMapping, ...taskerPolicies]));
      // The starter function: referenced by the service token (RedshiftSql), or a dependency (manage_user).
      const serviceToken = JSON.stringify(resources[idOf(resource)].Properties.ServiceToken);
      expect(dependsOn.includes(idOf(task.lambdaFunction)) || serviceToken.includes(idOf(task.lambdaFunction))).toBe(true);
    }
  });

  test('custom resources that use others depend on them', () => {
    const dependsOn = (id: string) => resources[idOf(integ.customResources[id])].DependsOn;
    expect(dependsOn('rs_view')).toContain(idOf(integ.customResources.rs_table));
    expect(dependsOn('rs_cfncreated_user')).toContain(idOf(integ.customResources.rs_groups));
  });

  test('the manage_user function: bundled code, timeout, the tasker\'s name, and only its own permissions (grantInvoke)', () => {
    const fnId = idOf(integ.manageUserFunction);
    expect(resources[fnId].Properties).toEqual(expect.objectContaining({
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 120,
      Environment: { Variables: { [TASKER_FUNCTION_ENV]: { Ref: idOf(integ.rsTask.lambdaFunction) } } },
    }));
    const roleId = roleOf(fnId);
    expect(resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const logGroupId = resources[fnId].Properties.LoggingConfig.LogGroup.Ref;
    expect(roleStatements(roleId)).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [idOf(integ.rsTask.lambdaFunction), 'Arn'] } },
    ]);
  });

  test('each state machine role may invoke only the tasker it uses (plus log delivery and tracing)', () => {
    const expectedFunction: Record<string, unknown> = {};
    for (const id of Object.keys(integ.stateMachines)) expectedFunction[id] = integ.rsTask.lambdaFunction;
    expectedFunction.SimpleFailureRsTaskProcedureCallbackIntegration = integ.rsTaskUser2.lambdaFunction;
    delete expectedFunction[ChainedMachine.ID];
    // Its Distributed Map reads the exported object too (see below).
    delete expectedFunction[ExportResultMachine.ID];
    for (const [id, fn] of Object.entries(expectedFunction)) {
      const machine = resources[idOf(integ.stateMachines[id])];
      const statements = roleStatements(machine.Properties.RoleArn['Fn::GetAtt'][0]);
      const fnArn = { 'Fn::GetAtt': [idOf(fn), 'Arn'] };
      // RedshiftSqlTask and RedshiftStatementTask need the function itself; the hand-written LambdaInvoke adds `:*`.
      const resource = id === SingleSuccessMachine.ID ? [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }] : fnArn;
      expect(statements).toEqual([
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: resource },
        expect.objectContaining({ Action: expect.arrayContaining(['logs:CreateLogDelivery']), Resource: '*' }),
        { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Effect: 'Allow', Resource: '*' },
      ]);
      for (const statement of statements.filter((s) => s.Resource === '*')) {
        expect(actionsOf(statement).every((action) => action.startsWith('logs:') || action.startsWith('xray:'))).toBe(true);
      }
    }
  });

  test('the export machine may invoke its tasker, read the results bucket\'s objects, and run its Distributed Map\'s children only', () => {
    const machineId = idOf(integ.stateMachines[ExportResultMachine.ID]);
    const statements = roleStatements(resources[machineId].Properties.RoleArn['Fn::GetAtt'][0]);
    const bucketObjects = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: idOf(integ.resultsBucket) }, '/*']] };
    const executions = (suffix: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-1:123456789012:execution:', {
        'Fn::Select': [6, { 'Fn::Split': [':', { Ref: machineId }] }],
      }, suffix]],
    });
    expect(statements).toEqual(expect.arrayContaining([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [idOf(integ.rsTask.lambdaFunction), 'Arn'] } },
      { Action: 's3:GetObject', Effect: 'Allow', Resource: bucketObjects },
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } },
      { Action: ['states:DescribeExecution', 'states:StopExecution'], Effect: 'Allow', Resource: executions(':*') },
      { Action: 'states:RedriveExecution', Effect: 'Allow', Resource: executions('/*:*') },
    ]));
    expect(statements).toHaveLength(7);
  });

  test('the chained machine may start, describe and stop the ten example machines only', () => {
    const machine = resources[idOf(integ.stateMachines[ChainedMachine.ID])];
    const statements = roleStatements(machine.Properties.RoleArn['Fn::GetAtt'][0]);
    const started = statements.filter((s) => s.Action === 'states:StartExecution').map((s) => s.Resource);
    const children = Object.keys(integ.stateMachines).filter((id) => id !== ChainedMachine.ID);
    expect(started).toEqual(expect.arrayContaining(children.map((id) => ({ Ref: idOf(integ.stateMachines[id]) }))));
    expect(started).toHaveLength(10);
    const allowed = new Set(statements.flatMap(actionsOf));
    expect([...allowed].sort()).toEqual([
      'events:DescribeRule', 'events:PutRule', 'events:PutTargets', 'logs:CreateLogDelivery', 'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery', 'logs:ListLogDeliveries',
      'logs:PutResourcePolicy', 'logs:UpdateLogDelivery', 'states:DescribeExecution', 'states:StartExecution',
      'states:StopExecution', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  test('state machines log every event (without execution data) and trace with X-Ray', () => {
    for (const [, machine] of ofType('AWS::StepFunctions::StateMachine')) {
      expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
      expect(machine.Properties.LoggingConfiguration).toEqual(expect.objectContaining({ Level: 'ALL', IncludeExecutionData: false }));
    }
  });

  test('cdk-nag AwsSolutions: no unsuppressed errors or warnings', () => {
    expect(nag(stack)).toEqual({ errors: [], warnings: [] });
  });

  test('cdk-nag also passes when the stack is environment-agnostic', () => {
    const agnostic = new IntegTesting({ app: testApp(), env: {} });
    expect(nag(agnostic.stack)).toEqual({ errors: [], warnings: [] });
  });

  test('every suppression in the app names a rule and gives a specific reason', () => {
    const recorded: { resource: string; id: string; reason: string }[] = Object.entries(resources)
      .flatMap(([resource, body]) => (body.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s: any) => ({ resource, ...s })));
    for (const suppression of recorded) {
      expect(suppression.id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
      expect(suppression.reason.length).toBeGreaterThan(60);
    }
    // The app's own suppressions (the construct's are tested with the construct): which rule, on what.
    const own = recorded.filter((s) => !s.resource.startsWith('RSTask')).map((s) => `${s.id} ${s.resource}`);
    const machinePolicies = Object.values(integ.stateMachines)
      .map((machine) => `AwsSolutions-IAM5 ${idOf(machine.role.node.findChild('DefaultPolicy'))}`);
    expect(new Set(own)).toEqual(new Set([
      `AwsSolutions-SMG4 ${idOf(integ.adminSecret)}`,
      `AwsSolutions-RS4 ${idOf(integ.cluster)}`,
      `AwsSolutions-S1 ${idOf(integ.resultsBucket)}`,
      // The construct's own suppression of an export's grant sits on the task's policy (the objects under its prefix).
      ...Object.keys(resources).filter((id) => id.startsWith('ExportTheResultResultExportPolicy')).map((id) => `AwsSolutions-IAM5 ${id}`),
      ...machinePolicies,
      // The export machine's Distributed Map: its own executions.
      `AwsSolutions-IAM5 ${idOf(integ.stateMachines[ExportResultMachine.ID].node.findChild('DistributedMapPolicy'))}`,
    ]));
  });
});
