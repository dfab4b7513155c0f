/**
 * Result exports of the task states: their checks, the grant that lets the tasker's function write them, their
 * invocation fields.
 */
import { CfnResource, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { addNagSuppressions } from './nag';
import { EXPORT_FORMATS, Field, Limits, show } from '../contract';
import { ExportFormat } from '../options';
import type { ResultExport } from '../task-options';
import type { SfnRedshiftTasker } from '../tasker';

/** The default key prefix of an export. */
export const DEFAULT_EXPORT_PREFIX = 'redshift-results/';

/** Checks an export's props (with the prop's name). */
export function checkResultExport(name: string, value: ResultExport | undefined, errors: string[]): void {
  if (value === undefined) return;
  if (value.bucket === undefined) {
    errors.push(`${name}.bucket is required; got undefined. Pass the bucket to write the result to (bucket: myBucket).`);
  }
  const prefix = value.keyPrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix) && !prefix.startsWith('$') && !prefix.startsWith('{%')
    && (prefix.startsWith('/') || prefix.length > Limits.MAX_EXPORT_KEY_PREFIX_LENGTH)) {
    errors.push(`${name}.keyPrefix must not start with "/" and may have at most ${Limits.MAX_EXPORT_KEY_PREFIX_LENGTH} `
      + `characters; got ${show(prefix)}. Use a relative prefix such as 'exports/daily/'.`);
  }
  if (value.format !== undefined && !(EXPORT_FORMATS as readonly unknown[]).includes(value.format?.value)) {
    errors.push(`${name}.format must be ExportFormat.JSON_LINES or ExportFormat.CSV; got ${show(value.format?.value ?? value.format)}. `
      + 'Pass one of them.');
  }
}

/** The fixed start of a prefix that may be an expression: what the grant can be limited to. */
function grantedPrefix(prefix: string): string {
  if (Token.isUnresolved(prefix) || prefix.startsWith('$') || prefix.startsWith('{%')) return '';
  return prefix;
}

/**
 * Lets the tasker's starter function (the identity that reads the result from the Data API) write the export: objects
 * under the prefix only, and the bucket's KMS key when it has one. The write is a policy of its own (in `scope`, the
 * task), so its one wildcard — the objects under the prefix — carries a cdk-nag suppression that names it; a function
 * without a role of the app (an imported one) gets the statement through `addToRolePolicy`.
 */
export function grantResultExport(scope: Construct, tasker: SfnRedshiftTasker, value: ResultExport): void {
  const fn = tasker.lambdaFunction;
  const prefix = grantedPrefix(value.keyPrefix ?? DEFAULT_EXPORT_PREFIX);
  const statement = new iam.PolicyStatement({
    actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
    resources: [value.bucket.arnForObjects(`${prefix}*`)],
  });
  if (fn.role !== undefined) {
    const policy = new iam.Policy(scope, 'ResultExportPolicy', { statements: [statement] });
    policy.attachToRole(fn.role);
    addNagSuppressions(policy.node.defaultChild as CfnResource, [{
      id: 'AwsSolutions-IAM5',
      reason: 'Result exports write one object per statement, named by its statement id, under the export\'s key prefix: the '
        + 'objects under the prefix (no read, no other key).',
    }]);
  } else {
    fn.addToRolePolicy(statement);
  }
  value.bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
}

/** The invocation fields of an export. */
export function exportFields(value: ResultExport): Record<string, string> {
  return {
    [Field.EXPORT_BUCKET]: value.bucket.bucketName,
    [Field.EXPORT_KEY_PREFIX]: value.keyPrefix ?? DEFAULT_EXPORT_PREFIX,
    [Field.EXPORT_FORMAT]: (value.format ?? ExportFormat.JSON_LINES).value,
  };
}
