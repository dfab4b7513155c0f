/**
 * The IAM statements the handler needs, per role (starter and completer), scoped as narrowly as each service allows.
 * What the handler calls is described in the lambda/ sources; keep both sides in step.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppression, nagArn } from './nag';
import { RedshiftTargetProps } from '../tasker-props';

/** Table actions of the API path: register (conditional put), record, unregister, lock, `LATEST` (query). */
export const STARTER_TABLE_ACTIONS = [
  'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query',
];
/** Table actions of the completion path: claim and give back a completion, release a singleton lock. */
export const COMPLETER_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
/** What aws-cdk-lib grants for read/write use of a table's customer-managed key. */
export const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];
/** Consuming the completion queue through a Lambda event source mapping. */
export const QUEUE_CONSUME_ACTIONS = [
  'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
];
/** Data API actions on statement ids (not IAM resources). */
export const STATEMENT_ACTIONS = [
  'redshift-data:DescribeStatement', 'redshift-data:CancelStatement', 'redshift-data:GetStatementResult',
  'redshift-data:ListStatements',
];
/**
 * Asking the Data API what became of a session that refused a statement (busy or closed). Session ids are not IAM
 * resources, and the statement-owner condition is not documented for this action: `*`. It reads metadata only.
 */
export const SESSION_ACTIONS = ['redshift-data:ListSessions'];
export const STATEMENT_OWNER_CONDITION = { StringEquals: { 'redshift-data:statement-owner-iam-userid': '${aws:userid}' } };
/**
 * Calling a waiting task back, and asking whether it still waits (a heartbeat: before taking over a completion whose
 * attempt died, and for a sweep's orphan check).
 */
export const CALLBACK_ACTIONS = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];
export const XRAY_ACTIONS = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];

function tableStatements(table: dynamodb.ITable, actions: string[]): iam.PolicyStatement[] {
  const statements = [new iam.PolicyStatement({ actions, resources: [table.tableArn] })];
  if (table.encryptionKey !== undefined) {
    statements.push(new iam.PolicyStatement({ actions: TABLE_KEY_ACTIONS, resources: [table.encryptionKey.keyArn] }));
  }
  return statements;
}

/** ARN of the target `ExecuteStatement` and `BatchExecuteStatement` are scoped to. */
export function targetArn(stack: Stack, target: RedshiftTargetProps): string {
  if (target.clusterIdentifier !== undefined) {
    return stack.formatArn({
      service: 'redshift', resource: 'cluster', resourceName: target.clusterIdentifier, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
  // A workgroup's ARN carries its generated id (workgroup/<uuid>), not its name, and the id cannot be derived from
  // the name at synth time; the Data API addresses workgroups by name. So the scope is every workgroup of this
  // account and region. The database credentials (secret, or the role's own IAM identity) still bound what SQL can do.
  return stack.formatArn({
    service: 'redshift-serverless', resource: 'workgroup', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Statements for the starter (`lambdaFunction`). The secret's read grant is added with `secret.grantRead`.
 * `callsBack`: the starter completes statements itself (the fast path, reconciler sweeps), whatever the topology.
 */
export function starterStatements(stack: Stack, target: RedshiftTargetProps, table: dynamodb.ITable, callsBack: boolean): iam.PolicyStatement[] {
  const statements = [
    ...tableStatements(table, STARTER_TABLE_ACTIONS),
    new iam.PolicyStatement({
      actions: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
      resources: [targetArn(stack, target)],
    }),
    // Statement ids are not IAM resources: the resource is `*`, narrowed to the statements this function started.
    // All four actions support the statement-owner condition key (Service Authorization Reference, redshift-data).
    new iam.PolicyStatement({ actions: STATEMENT_ACTIONS, resources: ['*'], conditions: STATEMENT_OWNER_CONDITION }),
    new iam.PolicyStatement({ actions: SESSION_ACTIONS, resources: ['*'] }),
    // Task tokens are not IAM resources: SendTaskSuccess/SendTaskFailure accept no narrower resource than `*`.
    ...callsBack ? [new iam.PolicyStatement({ actions: CALLBACK_ACTIONS, resources: ['*'] })] : [],
  ];
  const { clusterIdentifier, workgroupName, dbName, dbUser, secret } = target;
  const dbArn = (resource: string, name: string): string => stack.formatArn({
    service: 'redshift', resource, resourceName: `${clusterIdentifier}/${name}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  if (clusterIdentifier !== undefined && dbUser !== undefined) {
    statements.push(new iam.PolicyStatement({
      actions: ['redshift:GetClusterCredentials'],
      resources: [dbArn('dbuser', dbUser), dbArn('dbname', dbName)],
    }));
  } else if (clusterIdentifier !== undefined && secret === undefined) {
    statements.push(new iam.PolicyStatement({
      actions: ['redshift:GetClusterCredentialsWithIAM'],
      resources: [dbArn('dbname', dbName)],
    }));
  } else if (workgroupName !== undefined && secret === undefined) {
    statements.push(new iam.PolicyStatement({
      actions: ['redshift-serverless:GetCredentials'],
      resources: [targetArn(stack, target)],
    }));
  }
  return statements;
}

/**
 * Statements for the completer (the SQS consumer); `queueKey` is the completion queue's key, if any. The completer
 * reads a failure's error text as the statement's starter: itself (the starter's policy lets it describe the
 * statements it started), or — `separateStarter` — by invoking the starter function; it gets no Data API permission.
 */
export function completerStatements(
  table: dynamodb.ITable, queue: sqs.IQueue, queueKey: kms.IKey | undefined, separateStarter?: lambda.IFunction,
): iam.PolicyStatement[] {
  const statements = [
    ...tableStatements(table, COMPLETER_TABLE_ACTIONS),
    new iam.PolicyStatement({ actions: QUEUE_CONSUME_ACTIONS, resources: [queue.queueArn] }),
    // Task tokens are not IAM resources: SendTaskSuccess/SendTaskFailure accept no narrower resource than `*`.
    new iam.PolicyStatement({ actions: CALLBACK_ACTIONS, resources: ['*'] }),
  ];
  if (separateStarter !== undefined) {
    statements.push(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [separateStarter.functionArn] }));
  }
  if (queueKey !== undefined) {
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [queueKey.keyArn] }));
  }
  return statements;
}

/** X-Ray tracing for a function the construct creates (X-Ray actions support no resource-level permissions). */
export function xrayStatement(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: XRAY_ACTIONS, resources: ['*'] });
}

/** The cdk-nag findings inherent to the starter's policy, each with its reason. */
export function starterSuppressions(
  stack: Stack, target: RedshiftTargetProps, tracing: boolean, table: dynamodb.ITable, callsBack: boolean,
): NagSuppression[] {
  const reasons = [
    `${STATEMENT_ACTIONS.join(', ')} act on statement ids, which are not IAM resources; the statement is limited to `
    + 'statements this function started by the condition redshift-data:statement-owner-iam-userid = ${aws:userid}.',
    `${SESSION_ACTIONS.join(', ')} reads the metadata of Data API sessions, which are not IAM resources.`,
  ];
  if (callsBack) reasons.push(`${CALLBACK_ACTIONS.join(' and ')} act on task tokens, which are not IAM resources.`);
  if (tracing) reasons.push(`${XRAY_ACTIONS.join(', ')} (X-Ray tracing) support no resource-level permissions.`);
  const suppressions: NagSuppression[] = [{ id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: ['Resource::*'] }];
  if (target.workgroupName !== undefined) {
    suppressions.push({
      id: 'AwsSolutions-IAM5',
      reason: 'A Redshift Serverless workgroup ARN carries the workgroup id, which cannot be derived from the '
        + 'workgroup name at synth time, so redshift-data:ExecuteStatement/BatchExecuteStatement (and '
        + 'redshift-serverless:GetCredentials with IAM authentication) are scoped to the workgroups of this account '
        + 'and region; the database credentials bound what the SQL can do.',
      appliesTo: [`Resource::${nagArn(stack, 'redshift-serverless', 'workgroup/*')}`],
    });
  }
  return [...suppressions, ...tableKeySuppressions(table)];
}

/** The cdk-nag findings inherent to the completer's policy, each with its reason. */
export function completerSuppressions(tracing: boolean, table: dynamodb.ITable): NagSuppression[] {
  const reasons = [`${CALLBACK_ACTIONS.join(', ')} act on task tokens, which are not IAM resources.`];
  if (tracing) reasons.push(`${XRAY_ACTIONS.join(', ')} (X-Ray tracing) support no resource-level permissions.`);
  return [
    { id: 'AwsSolutions-IAM5', reason: reasons.join(' '), appliesTo: ['Resource::*'] },
    ...tableKeySuppressions(table),
  ];
}

/** A customer-managed table key gets the actions aws-cdk-lib grants for table access, two of them with wildcards. */
function tableKeySuppressions(table: dynamodb.ITable): NagSuppression[] {
  if (table.encryptionKey === undefined) return [];
  return [{
    id: 'AwsSolutions-IAM5',
    reason: 'kms:ReEncrypt* and kms:GenerateDataKey* are the key actions aws-cdk-lib grants for reading and writing '
      + 'a table encrypted with a customer-managed key; they are limited to that key.',
    appliesTo: ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
  }];
}
