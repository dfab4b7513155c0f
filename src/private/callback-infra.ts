/**
 * The callback infrastructure of a tasker: the completion queue with its dead-letter queue and KMS key, and the
 * EventBridge rule that sends the Data API's status-change events to it.
 */
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { DEAD_LETTER_RETENTION, DEFAULT_MAX_RECEIVE_COUNT, WARNING_PREFIX } from './defaults';
import { completionVisibilityTimeout } from './validate';
import { StatusChangeEvent } from '../contract';
import { SfnRedshiftTaskerProps } from '../tasker-props';

export interface CompletionQueues {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue?: sqs.IQueue;
  readonly encryptionKey?: kms.IKey;
}

/** The completion queues: `existingQueueObj` (and its dead-letter queue and key, where known), or new ones. */
export function completionQueues(scope: Construct, props: SfnRedshiftTaskerProps): CompletionQueues {
  if (props.existingQueueObj !== undefined) {
    const queue = props.existingQueueObj;
    return {
      queue,
      encryptionKey: queue.encryptionMasterKey,
      deadLetterQueue: queue instanceof sqs.Queue ? queue.deadLetterQueue?.queue : undefined,
    };
  }
  const customerKey = props.enableEncryptionWithCustomerManagedKey !== false;
  const encryptionKey = !customerKey ? undefined : props.customerManagedKey ?? props.encryptionKey ?? new kms.Key(scope, 'CompletionQueueKey', {
    description: `Encrypts the completion queues of ${scope.node.path} (SfnRedshiftTasker)`,
    enableKeyRotation: true,
    ...props.encryptionKeyProps,
  });
  const encryption = {
    encryption: customerKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: encryptionKey,
  };
  const deadLetterQueue = props.deployDeadLetterQueue === false ? undefined : new sqs.Queue(scope, 'CompletionDeadLetterQueue', {
    retentionPeriod: DEAD_LETTER_RETENTION,
    enforceSSL: true,
    ...props.deadLetterQueueProps,
    ...encryption,
  });
  const queue = new sqs.Queue(scope, 'CompletionQueue', {
    enforceSSL: true,
    ...props.queueProps,
    visibilityTimeout: completionVisibilityTimeout(props),
    ...encryption,
    deadLetterQueue: deadLetterQueue === undefined ? undefined : {
      queue: deadLetterQueue,
      maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
    },
  });
  return { queue, deadLetterQueue, encryptionKey };
}

/**
 * The rule for the Data API status changes of the statements taskers start, targeting the queue; only this rule may
 * send to the queues (the queue policies deny every other sender), and EventBridge may use their key.
 *
 * Taskers name statements `<caller id>:<digits>.<digits>`, so the rule admits only names of that shape
 * (`detail.statementName`, a field the tasker sets and the event echoes). It does not filter on `detail.principal`:
 * the documentation gives its format only for an IAM user, not for an assumed role such as a function's, and a wrong
 * guess would drop every completion. The completer is what ties an event to a statement: it calls back only for the
 * statement id its starter recorded under that name, so another principal's statement of the same name (or a forged
 * event) is acknowledged, counted (`MismatchedEvents`) and never called back.
 */
export function statusChangeRule(scope: Construct, queues: CompletionQueues): events.Rule {
  const { queue, deadLetterQueue } = queues;
  const rule = new events.Rule(scope, 'StatusChangeRule', {
    description: 'Redshift Data API statement status changes, queued for the SfnRedshiftTasker completer',
    eventPattern: {
      source: [StatusChangeEvent.SOURCE],
      detailType: [StatusChangeEvent.DETAIL_TYPE],
      detail: { statementName: events.Match.wildcard(StatusChangeEvent.STATEMENT_NAME_WILDCARD) },
    },
  });
  // The target's permissions are added below (scoped to this rule), so the target grants nothing itself.
  rule.addTarget({
    bind: () => ({
      arn: queue.queueArn,
      targetResource: queue,
      // Events EventBridge could not deliver (after its retries) are kept instead of being dropped.
      deadLetterConfig: deadLetterQueue === undefined ? undefined : { arn: deadLetterQueue.queueArn },
    }),
  });
  allowRuleToSend(scope, rule, queues);
  return rule;
}

function allowRuleToSend(scope: Construct, rule: events.Rule, { queue, deadLetterQueue, encryptionKey }: CompletionQueues): void {
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
    // Nobody else may send: a principal of the account whose own IAM policy allows sqs:SendMessage on the queue is
    // refused too (the completer ignores events whose statement id it did not start anyway).
    target.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyOtherSenders',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sqs:SendMessage'],
      resources: [target.queueArn],
      conditions: { ArnNotEquals: { 'aws:SourceArn': rule.ruleArn } },
    }));
    if (!statementAdded) {
      Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:queuePolicy`, `The queue ${target.node.path} is imported, so `
        + 'the construct cannot change its policy; allow events.amazonaws.com sqs:SendMessage on it with the condition '
        + `aws:SourceArn = the ARN of ${rule.node.path}.`);
    }
  }
  if (encryptionKey === undefined) return;
  // EventBridge encrypts the messages it sends; KMS does not support aws:SourceArn/aws:SourceAccount conditions for
  // this service-to-service call, so the rule is pinned by the queue policies above.
  const { statementAdded } = encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowEventBridgeToUseTheKey',
    principals: [eventBridge],
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: ['*'],
  }));
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2(`${WARNING_PREFIX}:keyPolicy`, `The key ${encryptionKey.node.path} is imported, so the `
      + 'construct cannot change its key policy; allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt on it, '
      + 'or EventBridge cannot deliver to the encrypted queue.');
  }
}

/** A tasker that created callback infrastructure, and where it deploys. */
interface InfraOwner {
  readonly path: string;
  readonly account: string;
  readonly region: string;
}

/** The taskers of each app (the construct tree's root) that created callback infrastructure, in creation order. */
const owners = new WeakMap<IConstruct, InfraOwner[]>();

/** An account or region as the warning shows it. */
const where = (value: string, what: string): string => (Token.isUnresolved(value) ? `the ${what} of deployment` : value);

/**
 * Records that `tasker` created callback infrastructure, and warns when another tasker of the app already created one
 * for the same account and region (both literal and equal, or both environment-agnostic): both rules match every
 * statement, so each event would reach both queues.
 */
export function checkSecondCallbackInfra(tasker: Construct, createCallbackInfra: boolean | undefined): void {
  const stack = Stack.of(tasker);
  const root = tasker.node.root;
  const list = owners.get(root) ?? [];
  const first = list.find((owner) => owner.account === stack.account && owner.region === stack.region);
  if (first !== undefined) {
    Annotations.of(tasker).addWarningV2(`${WARNING_PREFIX}:secondCallbackInfra`, `${tasker.node.path} creates a second `
      + `callback infrastructure (rule, queues, key, alarms) for account ${where(stack.account, 'account')} and region `
      + `${where(stack.region, 'region')}, where ${first.path} already has one (got createCallbackInfra: `
      + `${createCallbackInfra === undefined ? 'true, the default' : String(createCallbackInfra)}). Both `
      + 'rules match the status changes of every statement the taskers start, so every completion event reaches both '
      + 'queues and is processed twice. Share the first one: pass createCallbackInfra: false and existingTableObj: '
      + `<${first.path}>.trackingTable. If the two stacks deploy to different accounts or regions, acknowledge this warning.`);
  }
  list.push({ path: tasker.node.path, account: stack.account, region: stack.region });
  owners.set(root, list);
}
