/**
 * Encryption with the tasker's `customerManagedKey`: the key policy statement CloudWatch Logs needs to encrypt the
 * log groups the construct creates. (The table, the queues and the environment variables use the key through
 * aws-cdk-lib; EventBridge's statement is added with the callback infrastructure.)
 */
import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { WARNING_PREFIX } from './defaults';

/** What CloudWatch Logs does with the key of a log group (the AWS documentation's key policy for log groups). */
export const LOGS_KEY_ACTIONS = ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'];

/** Keys whose policy this construct already extended, per construct (a tasker has up to two log groups). */
const extended = new WeakMap<Construct, Set<kms.IKey>>();

/**
 * Lets CloudWatch Logs of the key's region use `key` for the log groups of the key's account and region (condition
 * `kms:EncryptionContext:aws:logs:arn`). The ARNs of the construct's log groups are not known when the key policy is
 * written (the log groups need the key first), hence `log-group:*`. For an imported key, warns with the statement to
 * add.
 */
export function allowLogsToUseKey(scope: Construct, key: kms.IKey): void {
  const done = extended.get(scope) ?? new Set<kms.IKey>();
  if (done.has(key)) return;
  done.add(key);
  extended.set(scope, done);

  const stack = Stack.of(key);
  const logGroups = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const { statementAdded } = key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsToUseTheKey',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: LOGS_KEY_ACTIONS,
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logGroups } },
  }));
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:logsKeyPolicy`, `The key ${key.node.path} is imported, so the `
      + 'construct cannot change its key policy; allow the principal logs.<region>.amazonaws.com '
      + `${LOGS_KEY_ACTIONS.join(', ')} on it with the condition ArnLike kms:EncryptionContext:aws:logs:arn = `
      + 'arn:<partition>:logs:<region>:<account>:log-group:*, or the log groups the construct creates with it cannot be created.');
  }
}
