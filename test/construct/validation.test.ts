import { CfnResource, Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { newStack } from './helpers';
import { LogLevel, SfnRedshiftTasker, SfnRedshiftTaskerProps, TablePermission } from '../../src';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };
type Stack = ReturnType<typeof newStack>;

/** Builds a tasker with props made for a fresh stack; returns a function for `expect(...).toThrow`. */
function create(props: (stack: Stack) => Partial<SfnRedshiftTaskerProps>): () => void {
  const stack = newStack();
  return () => new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, ...props(stack) } as SfnRedshiftTaskerProps);
}

function table(stack: Stack): dynamodb.ITable {
  return dynamodb.Table.fromTableName(stack, 'Shared', 'shared-state');
}

describe('redshiftTargetProps', () => {
  test('fails when neither a cluster nor a workgroup is given', () => {
    expect(create(() => ({ redshiftTargetProps: { dbName: 'dev' } })))
      .toThrow(/needs exactly one of clusterIdentifier \(provisioned cluster\) and workgroupName \(Redshift Serverless\); got neither/);
  });

  test('fails when both a cluster and a workgroup are given', () => {
    expect(create(() => ({ redshiftTargetProps: { clusterIdentifier: 'c', workgroupName: 'wg-1', dbName: 'dev' } })))
      .toThrow(/got both \(clusterIdentifier "c", workgroupName "wg-1"\)\. Remove one of them/);
  });

  test('fails when the cluster identifier has uppercase letters, and suggests the lowercase one', () => {
    expect(create(() => ({ redshiftTargetProps: { clusterIdentifier: 'MyCluster', dbName: 'dev' } })))
      .toThrow(/clusterIdentifier must be a Redshift cluster identifier .* got "MyCluster"\. Redshift stores identifiers in lowercase\. Use "mycluster"/);
  });

  test.each(['1cluster', 'my--cluster', 'my-cluster-', 'my_cluster', 'a'.repeat(64)])(
    'fails when the cluster identifier is %s', (clusterIdentifier) => {
      expect(create(() => ({ redshiftTargetProps: { clusterIdentifier, dbName: 'dev' } })))
        .toThrow(`got ${JSON.stringify(clusterIdentifier)}`);
    });

  test.each(['wg', 'My-Workgroup', 'wg_1'])('fails when the workgroup name is %s', (workgroupName) => {
    expect(create(() => ({ redshiftTargetProps: { workgroupName, dbName: 'dev' } })))
      .toThrow(`workgroupName must be a Redshift Serverless workgroup name (3-64 lowercase letters, digits or hyphens); got ${JSON.stringify(workgroupName)}`);
  });

  test.each(['', ' ', 'd'.repeat(128)])('fails when the database name is %j', (dbName) => {
    expect(create(() => ({ redshiftTargetProps: { clusterIdentifier: 'c', dbName } })))
      .toThrow(/dbName must name the database the statements run in \(1-127 characters\)/);
  });

  test('fails when the database user is empty', () => {
    expect(create(() => ({ redshiftTargetProps: { ...CLUSTER, dbUser: '' } })))
      .toThrow(/dbUser must be a database user name \(1-128 characters\); got ""\. Omit it to use IAM identity/);
  });

  test('fails when a database user is given for a workgroup', () => {
    expect(create(() => ({ redshiftTargetProps: { workgroupName: 'wg-1', dbName: 'dev', dbUser: 'admin' } })))
      .toThrow(/dbUser works only with a provisioned cluster; .*got dbUser "admin" with workgroupName "wg-1"\. Remove dbUser, or pass secret/);
  });

  test('fails when a database user and a secret are both given', () => {
    expect(create((s) => ({ redshiftTargetProps: { ...CLUSTER, dbUser: 'admin', secret: new secretsmanager.Secret(s, 'S') } })))
      .toThrow(/dbUser and redshiftTargetProps\.secret cannot both be set: .*; got both \(dbUser "admin"\)\. Remove one of them/);
  });

  test('fails when redshiftTargetProps is missing', () => {
    expect(create(() => ({ redshiftTargetProps: undefined }))).toThrow(/redshiftTargetProps is required; got undefined/);
  });
});

describe('createCallbackInfra: false', () => {
  test('fails when existingTableObj is missing', () => {
    expect(create(() => ({ createCallbackInfra: false })))
      .toThrow(/createCallbackInfra is false, .*; got no existingTableObj\. Pass existingTableObj: firstTasker\.trackingTable/);
  });

  test('fails when callback infrastructure props are given, naming each', () => {
    expect(create((s) => ({
      createCallbackInfra: false,
      existingTableObj: table(s),
      maxReceiveCount: 3,
      queueProps: {},
      completerLambdaFunctionProps: {},
      enableQueuePurging: true,
    }))).toThrow(/queueProps, enableQueuePurging, maxReceiveCount, completerLambdaFunctionProps would have no effect/);
  });
});

describe('functions', () => {
  test('fails when an existing starter and starter options are both given', () => {
    expect(create((s) => ({
      starterExistingLambdaObj: lambda.Function.fromFunctionName(s, 'F', 'f'),
      starterLambdaFunctionProps: { memorySize: 512 },
    }))).toThrow(/starterExistingLambdaObj and starterLambdaFunctionProps cannot both be set/);
  });

  test('fails when an existing completer and completer options are both given', () => {
    expect(create((s) => ({
      completerExistingLambdaObj: lambda.Function.fromFunctionName(s, 'F', 'f'),
      completerLambdaFunctionProps: { memorySize: 512 },
    }))).toThrow(/completerExistingLambdaObj and completerLambdaFunctionProps cannot both be set/);
  });

  test.each([
    ['DDB_TABLE_NAME', 'dynamoTableProps or existingTableObj'],
    ['DATABASE', 'redshiftTargetProps.dbName'],
    ['LOG_LEVEL', 'logLevel'],
    ['TTL', 'trackingTableTtl'],
  ])('fails when function options set the managed variable %s', (name, prop) => {
    expect(create(() => ({ starterLambdaFunctionProps: { environment: { [name]: 'x' } } })))
      .toThrow(`starterLambdaFunctionProps.environment must not set ${name}, which the construct manages for the handler; got ${name}: "x". Set it through ${prop} instead`);
  });

  test('fails when completer options set a managed variable', () => {
    expect(create(() => ({ completerLambdaFunctionProps: { environment: { SECRET_ARN: 'arn' } } })))
      .toThrow(/completerLambdaFunctionProps\.environment must not set SECRET_ARN.*got SECRET_ARN: "arn".*redshiftTargetProps\.secret/);
  });

  test('fails when function options use the deprecated logRetention', () => {
    expect(create(() => ({ starterLambdaFunctionProps: { logRetention: logs.RetentionDays.ONE_WEEK } })))
      .toThrow(/starterLambdaFunctionProps\.logRetention is deprecated .*; got logRetention 7 \(days\)\. Pass logGroup: new logs\.LogGroup/);
  });

  test.each([1, 1001, 2.5])('fails when completerMaxConcurrency is %s', (value) => {
    expect(create(() => ({ completerMaxConcurrency: value })))
      .toThrow(`completerMaxConcurrency must be a whole number from 2 to 1000; got ${value}`);
  });

  test('fails when the queue\'s visibility timeout is shorter than the completer\'s timeout', () => {
    expect(create(() => ({
      starterLambdaFunctionProps: { timeout: Duration.minutes(2) },
      queueProps: { visibilityTimeout: Duration.seconds(60) },
    }))).toThrow(/queueProps\.visibilityTimeout must be at least the completer's timeout \(2 minutes\): .*; got 1 minute\. Set it to at least 720 seconds/);
  });

  test.each(['readwrite', 'Admin'])('fails when tablePermissions is %s', (value) => {
    expect(create(() => ({ tablePermissions: TablePermission.of(value) })))
      .toThrow(`tablePermissions must be one of All, Read, ReadWrite, Write; got "${value}"`);
  });

  test('fails when the log level is unknown', () => {
    expect(create(() => ({ logLevel: LogLevel.of('VERBOSE') })))
      .toThrow('logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT (any case); got "VERBOSE"');
  });
});

describe('tracking table', () => {
  test('fails when dynamoTableProps and existingTableObj are both given', () => {
    expect(create((s) => ({ dynamoTableProps: {}, existingTableObj: table(s) })))
      .toThrow(/dynamoTableProps and existingTableObj cannot both be set/);
  });

  test('fails when dynamoTableProps change the partition key', () => {
    expect(create(() => ({ dynamoTableProps: { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } } })))
      .toThrow(/dynamoTableProps\.partitionKey is fixed by the handler to \{ name: 'id', type: STRING \}; got \{"name":"pk","type":"S"\}/);
  });

  test('fails when dynamoTableProps change the sort key type', () => {
    expect(create(() => ({ dynamoTableProps: { sortKey: { name: 'invocationId', type: dynamodb.AttributeType.NUMBER } } })))
      .toThrow(/dynamoTableProps\.sortKey is fixed by the handler to \{ name: 'invocationId', type: STRING \}; got \{"name":"invocationId","type":"N"\}/);
  });

  test('fails when dynamoTableProps change the TTL attribute', () => {
    expect(create(() => ({ dynamoTableProps: { timeToLiveAttribute: 'expires' } })))
      .toThrow(/timeToLiveAttribute is fixed by the handler to 'TTL'; got "expires"/);
  });

  test.each([Duration.hours(36), Duration.days(0), Duration.days(3651)])('fails when trackingTableTtl is %s', (ttl) => {
    expect(create(() => ({ trackingTableTtl: ttl })))
      .toThrow(`trackingTableTtl must be a whole number of days from 1 to 3650; got ${ttl.toHumanString()}`);
  });
});

describe('queue', () => {
  test('fails when existingQueueObj comes with props of the created queue', () => {
    expect(create((s) => ({
      existingQueueObj: new sqs.Queue(s, 'Q'), queueProps: {}, maxReceiveCount: 3, encryptionKey: new kms.Key(s, 'K'),
    }))).toThrow(/queueProps, maxReceiveCount, encryptionKey would have no effect/);
  });

  test('fails when existingQueueObj is a FIFO queue', () => {
    expect(create((s) => ({ existingQueueObj: new sqs.Queue(s, 'Q', { fifo: true }) })))
      .toThrow(/existingQueueObj must be a standard queue; got a FIFO queue/);
  });

  test('fails when queueProps make a FIFO queue', () => {
    expect(create(() => ({ queueProps: { fifo: true } }))).toThrow(/queueProps\.fifo must not be true/);
  });

  test.each([
    ['encryption', { encryption: sqs.QueueEncryption.KMS_MANAGED }, 'enableEncryptionWithCustomerManagedKey'],
    ['encryptionMasterKey', { encryptionMasterKey: kms.Alias.fromAliasName(newStack(), 'A', 'alias/x') }, 'encryptionKey'],
    ['deadLetterQueue', { deadLetterQueue: { queue: sqs.Queue.fromQueueArn(newStack(), 'D', 'arn:aws:sqs:eu-west-1:1:d'), maxReceiveCount: 2 } },
      'deployDeadLetterQueue, deadLetterQueueProps and maxReceiveCount'],
  ])('fails when queueProps set %s', (field, queueProps, instead) => {
    expect(create(() => ({ queueProps: queueProps as sqs.QueueProps })))
      .toThrow(`queueProps.${field} cannot be set: the construct configures it; got queueProps.${field} set. Remove queueProps.${field}, and use ${instead}.`);
  });

  test('fails when deadLetterQueueProps set the encryption', () => {
    expect(create(() => ({ deadLetterQueueProps: { encryption: sqs.QueueEncryption.SQS_MANAGED } })))
      .toThrow(/deadLetterQueueProps\.encryption cannot be set: the dead-letter queue uses the completion queue's encryption/);
  });

  test('fails when deployDeadLetterQueue is false but dead-letter settings are given', () => {
    expect(create(() => ({ deployDeadLetterQueue: false, maxReceiveCount: 3, deadLetterQueueProps: {} })))
      .toThrow(/deployDeadLetterQueue is false, so deadLetterQueueProps and maxReceiveCount would have no effect/);
  });

  test.each([0, 1001, 1.5])('fails when maxReceiveCount is %s', (value) => {
    expect(create(() => ({ maxReceiveCount: value })))
      .toThrow(`maxReceiveCount must be a whole number from 1 to 1000; got ${value}`);
  });

  test('fails when a key is given with the customer-managed key disabled', () => {
    expect(create((s) => ({ enableEncryptionWithCustomerManagedKey: false, encryptionKey: new kms.Key(s, 'K') })))
      .toThrow(/enableEncryptionWithCustomerManagedKey is false \(SQS-managed encryption\), so encryptionKey would have no effect/);
  });

  test('fails when encryptionKey and encryptionKeyProps are both given', () => {
    expect(create((s) => ({ encryptionKey: new kms.Key(s, 'K'), encryptionKeyProps: {} })))
      .toThrow(/encryptionKey and encryptionKeyProps cannot both be set/);
  });
});

describe('reporting', () => {
  test('fails with every problem at once, before creating any resource', () => {
    // GIVEN
    const stack = newStack();
    // WHEN
    const attempt = () => new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: { workgroupName: 'wg-1', dbName: 'dev', dbUser: 'admin' },
      logLevel: LogLevel.of('LOUD'),
      maxReceiveCount: 0,
    });
    // THEN
    expect(attempt).toThrow(/^Invalid SfnRedshiftTasker props:\n- redshiftTargetProps\.dbUser .*\n- maxReceiveCount .*\n- logLevel .*$/);
    expect(stack.node.findAll().filter((c) => c instanceof CfnResource)).toEqual([]);
  });
});
