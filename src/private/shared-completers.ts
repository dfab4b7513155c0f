/**
 * Completers of other functions' statements. A completer reads the error text of a failed statement with
 * `DescribeStatement`, which the Data API allows only to the role that started the statement, so it invokes the
 * starting function (its `describeStatement` action). This module grants that: to a separate completer of the same
 * tasker on its starter (identity policy, in `permissions.ts`), and to the completer of the callback infrastructure
 * a tasker shares (found here by the shared tracking table) through the starter's resource-based policy, which keeps
 * the reference pointing from the sharing tasker to the first one (no cycle between stacks).
 */
import { Annotations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WARNING_PREFIX } from './defaults';
import { ResolvedFunction } from './functions';

/** The callback infrastructure a tracking table is shared through: its completer and queues. */
export interface SharedCallbackInfra {
  readonly completer: ResolvedFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue?: sqs.IQueue;
}

/** The callback infrastructure that uses a tracking table. */
const infrastructures = new WeakMap<dynamodb.ITable, SharedCallbackInfra>();

/** Records the callback infrastructure that reads `table` (a tasker with callback infrastructure). */
export function registerCompleter(table: dynamodb.ITable, infra: SharedCallbackInfra): void {
  infrastructures.set(table, infra);
}

/** The callback infrastructure of the tasker of this app that reads `table`, if any. */
export function sharedCallbackInfra(table: dynamodb.ITable): SharedCallbackInfra | undefined {
  return infrastructures.get(table);
}

/** Lets the completer of the callback infrastructure that shares `table` invoke `starter` to describe its statements. */
export function allowSharedCompleter(scope: Construct, table: dynamodb.ITable, starter: ResolvedFunction): void {
  const completer = infrastructures.get(table)?.completer;
  if (completer?.role === undefined) {
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:sharedCompleter`, 'The completer of the callback infrastructure '
      + `this tasker shares (through ${table.node.path}) is not ${completer ? 'known to have a role' : 'a tasker of this app'}, `
      + `so the construct cannot let it invoke ${starter.fn.node.path}; allow its role lambda:InvokeFunction on this function, `
      + 'or failures of this tasker\'s statements are called back without Redshift\'s error text.');
    return;
  }
  if (completer.fn === starter.fn) return;
  starter.fn.addPermission('AllowSharedCompleterToDescribe', {
    principal: new iam.ArnPrincipal(completer.role.roleArn),
    action: 'lambda:InvokeFunction',
  });
}
