/**
 * Synth-time validation of `SfnRedshiftTaskerProps`. Every check runs before any resource is created, skips values
 * that are unresolved tokens, and produces a message that says what is wrong, the value received and the fix.
 * All problems are reported together; soft problems come back as warnings for the construct to annotate.
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  DEFAULT_TIMEOUT, FAST_PATH_TIMEOUT_MARGIN, LAMBDA_DEFAULT_TIMEOUT, UNKNOWN_TIMEOUT_VISIBILITY, VISIBILITY_TIMEOUT_FACTOR,
} from './defaults';
import { checkReconciler } from './reconciler';
import { checkHardening } from './validate-hardening';
import { Defaults, Env, LOG_LEVELS, Table, show } from '../contract';
import { SfnRedshiftTaskerProps } from '../tasker-props';

/** Values of `tablePermissions` (`TablePermission`). */
export const TABLE_PERMISSIONS: readonly string[] = ['All', 'Read', 'ReadWrite', 'Write'];

/** A soft problem: the construct adds it as a warning annotation (`id` lets users acknowledge it). */
export interface ValidationWarning {
  readonly id: string;
  readonly message: string;
}

/** Environment variables the construct sets; user options may not set them. The value says which prop to use. */
export const MANAGED_ENVIRONMENT: Readonly<Record<string, string>> = {
  [Env.TABLE_NAME]: 'dynamoTableProps or existingTableObj',
  [Env.CLUSTER_IDENTIFIER]: 'redshiftTargetProps.clusterIdentifier',
  [Env.WORKGROUP_NAME]: 'redshiftTargetProps.workgroupName',
  [Env.DATABASE]: 'redshiftTargetProps.dbName',
  [Env.DB_USER]: 'redshiftTargetProps.dbUser',
  [Env.SECRET_ARN]: 'redshiftTargetProps.secret',
  [Env.TTL_DAYS]: 'trackingTableTtl',
  [Env.LOG_LEVEL]: 'logLevel',
  [Env.CANCEL_ORPHANS]: 'cancelOrphans',
  [Env.FAST_PATH_WAIT_SECONDS]: 'fastPathWaitTime',
};

/** Props of the callback infrastructure (not allowed with `createCallbackInfra: false`). */
const CALLBACK_INFRA_PROPS = [
  'existingQueueObj', 'queueProps', 'enableQueuePurging', 'deadLetterQueueProps', 'deployDeadLetterQueue',
  'maxReceiveCount', 'enableEncryptionWithCustomerManagedKey', 'encryptionKey', 'encryptionKeyProps',
  'completerExistingLambdaObj', 'completerLambdaFunctionProps', 'completerMaxConcurrency',
] as const;

/** Props that shape the queue the construct creates (not allowed with `existingQueueObj`). */
const CREATED_QUEUE_PROPS = [
  'queueProps', 'deadLetterQueueProps', 'deployDeadLetterQueue', 'maxReceiveCount',
  'enableEncryptionWithCustomerManagedKey', 'encryptionKey', 'encryptionKeyProps',
] as const;

const given = (props: SfnRedshiftTaskerProps, names: readonly (keyof SfnRedshiftTaskerProps)[]): string[] =>
  names.filter((name) => props[name] !== undefined);

const literal = (value: string | undefined): value is string => value !== undefined && !Token.isUnresolved(value);

/** A Redshift cluster identifier: 1-63 lowercase letters, digits or hyphens, starting with a letter, no `--`. */
const CLUSTER_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}$/;
/** A Redshift Serverless workgroup name: 3-64 lowercase letters, digits or hyphens. */
const WORKGROUP_NAME = /^[a-z0-9-]{3,64}$/;

function checkTarget(props: SfnRedshiftTaskerProps, errors: string[]): void {
  const target = props.redshiftTargetProps;
  if (target === undefined || target === null) {
    errors.push('redshiftTargetProps is required; got undefined. Pass { dbName, clusterIdentifier } or { dbName, workgroupName }.');
    return;
  }
  const { clusterIdentifier, workgroupName, dbName, dbUser, secret } = target;
  if (clusterIdentifier === undefined && workgroupName === undefined) {
    errors.push('redshiftTargetProps needs exactly one of clusterIdentifier (provisioned cluster) and workgroupName '
      + '(Redshift Serverless); got neither. Set clusterIdentifier: \'my-cluster\' or workgroupName: \'my-workgroup\'.');
  } else if (clusterIdentifier !== undefined && workgroupName !== undefined) {
    errors.push('redshiftTargetProps needs exactly one of clusterIdentifier and workgroupName; got both '
      + `(clusterIdentifier ${show(clusterIdentifier)}, workgroupName ${show(workgroupName)}). Remove one of them.`);
  }
  if (literal(clusterIdentifier) && !(CLUSTER_IDENTIFIER.test(clusterIdentifier) && !clusterIdentifier.endsWith('-'))) {
    const lower = clusterIdentifier.toLowerCase();
    errors.push('redshiftTargetProps.clusterIdentifier must be a Redshift cluster identifier (1-63 lowercase letters, '
      + 'digits or hyphens, starting with a letter, no two consecutive hyphens, not ending with a hyphen); got '
      + `${show(clusterIdentifier)}.${lower !== clusterIdentifier ? ` Redshift stores identifiers in lowercase. Use ${show(lower)}.`
        : ' Use the identifier the Redshift console shows for the cluster.'}`);
  }
  if (literal(workgroupName) && !WORKGROUP_NAME.test(workgroupName)) {
    errors.push('redshiftTargetProps.workgroupName must be a Redshift Serverless workgroup name (3-64 lowercase '
      + `letters, digits or hyphens); got ${show(workgroupName)}. Use the name the Redshift Serverless console shows for `
      + 'the workgroup.');
  }
  if (dbName === undefined || (literal(dbName) && (dbName.trim() === '' || dbName.length > 127))) {
    errors.push('redshiftTargetProps.dbName must name the database the statements run in (1-127 characters); got '
      + `${show(dbName)}. Set it to the database's name (dev, say).`);
  }
  if (dbUser !== undefined) {
    if (literal(dbUser) && (dbUser.trim() === '' || dbUser.length > 128)) {
      errors.push(`redshiftTargetProps.dbUser must be a database user name (1-128 characters); got ${show(dbUser)}. `
        + 'Omit it to use IAM identity authentication.');
    }
    if (workgroupName !== undefined) {
      errors.push('redshiftTargetProps.dbUser works only with a provisioned cluster; Redshift Serverless authenticates '
        + `with the function's IAM identity or a secret; got dbUser ${show(dbUser)} with workgroupName `
        + `${show(workgroupName)}. Remove dbUser, or pass secret.`);
    }
    if (secret !== undefined) {
      errors.push('redshiftTargetProps.dbUser and redshiftTargetProps.secret cannot both be set: the Data API uses either '
        + `temporary credentials for a database user or the credentials in a secret; got both (dbUser ${show(dbUser)}). `
        + 'Remove one of them.');
    }
  }
}

function checkFunctionOptions(name: string, options: lambda.FunctionOptions | undefined, errors: string[]): void {
  if (options === undefined) return;
  const managed = Object.keys(options.environment ?? {}).filter((key) => key in MANAGED_ENVIRONMENT);
  for (const key of managed) {
    errors.push(`${name}.environment must not set ${key}, which the construct manages for the handler; got ${key}: `
      + `${show(options.environment![key])}. Set it through ${MANAGED_ENVIRONMENT[key]} instead, and remove it from `
      + `${name}.environment.`);
  }
  if (options.logRetention !== undefined) {
    errors.push(`${name}.logRetention is deprecated in aws-cdk-lib and conflicts with the log group the construct `
      + `creates; got logRetention ${show(options.logRetention)} (days). Pass logGroup: new logs.LogGroup(scope, id, `
      + '{ retention }) instead, or omit it to get a log group with one month of retention.');
  }
}

function checkWholeNumber(name: string, value: number | undefined, min: number, max: number, errors: string[]): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    errors.push(`${name} must be a whole number from ${min} to ${max}; got ${show(value)}. Use a whole number in that `
      + `range, or omit ${name}.`);
  }
}

function checkTableProps(props: SfnRedshiftTaskerProps, errors: string[]): void {
  const table = props.dynamoTableProps;
  if (table === undefined) return;
  if (props.existingTableObj !== undefined) {
    errors.push('dynamoTableProps and existingTableObj cannot both be set: dynamoTableProps configures the table the '
      + 'construct creates, existingTableObj replaces it; got both. Remove one of them.');
  }
  const keyChecks: [string, dynamodb.Attribute | undefined, string][] = [
    ['partitionKey', table.partitionKey, Table.PARTITION_KEY],
    ['sortKey', table.sortKey, Table.SORT_KEY],
  ];
  for (const [field, attribute, expected] of keyChecks) {
    if (attribute !== undefined && (attribute.name !== expected || attribute.type !== dynamodb.AttributeType.STRING)) {
      errors.push(`dynamoTableProps.${field} is fixed by the handler to { name: '${expected}', type: STRING }; got `
        + `${show({ name: attribute.name, type: attribute.type })}. Remove ${field} from dynamoTableProps.`);
    }
  }
  if (table.timeToLiveAttribute !== undefined && table.timeToLiveAttribute !== Table.TTL_ATTRIBUTE) {
    errors.push(`dynamoTableProps.timeToLiveAttribute is fixed by the handler to '${Table.TTL_ATTRIBUTE}'; got `
      + `${show(table.timeToLiveAttribute)}. Remove timeToLiveAttribute from dynamoTableProps.`);
  }
}

function checkQueueProps(props: SfnRedshiftTaskerProps, errors: string[]): void {
  if (props.existingQueueObj !== undefined) {
    const conflicting = given(props, CREATED_QUEUE_PROPS);
    if (conflicting.length > 0) {
      errors.push('existingQueueObj replaces the queue, dead-letter queue and key the construct would create, so '
        + `${conflicting.join(', ')} would have no effect; got both. Remove ${conflicting.join(', ')}, and configure the `
        + 'existing queue directly.');
    }
    if (props.existingQueueObj.fifo) {
      errors.push('existingQueueObj must be a standard queue; got a FIFO queue. EventBridge rules send the completion '
        + 'events without a message group id. Pass a standard queue.');
    }
    return;
  }
  const queue = props.queueProps ?? {};
  const ownProp: [keyof sqs.QueueProps, string][] = [
    ['encryption', 'enableEncryptionWithCustomerManagedKey'],
    ['encryptionMasterKey', 'encryptionKey'],
    ['deadLetterQueue', 'deployDeadLetterQueue, deadLetterQueueProps and maxReceiveCount'],
  ];
  for (const [field, instead] of ownProp) {
    if (queue[field] !== undefined) {
      errors.push(`queueProps.${field} cannot be set: the construct configures it; got queueProps.${field} set. `
        + `Remove queueProps.${field}, and use ${instead}.`);
    }
  }
  if (queue.fifo) {
    errors.push('queueProps.fifo must not be true: EventBridge sends the completion events to a standard queue; got '
      + 'fifo: true. Remove fifo from queueProps.');
  }
  for (const field of ['encryption', 'encryptionMasterKey'] as const) {
    if (props.deadLetterQueueProps?.[field] !== undefined) {
      errors.push(`deadLetterQueueProps.${field} cannot be set: the dead-letter queue uses the completion queue's `
        + `encryption; got deadLetterQueueProps.${field} set. Remove it.`);
    }
  }
  if (props.deployDeadLetterQueue === false) {
    const conflicting = given(props, ['deadLetterQueueProps', 'maxReceiveCount']);
    if (conflicting.length > 0) {
      errors.push(`deployDeadLetterQueue is false, so ${conflicting.join(' and ')} would have no effect; got `
        + `${conflicting.join(' and ')} set. Remove ${conflicting.join(' and ')}, or set deployDeadLetterQueue to true.`);
    }
  }
  checkWholeNumber('maxReceiveCount', props.maxReceiveCount, 1, 1000, errors);
  if (props.enableEncryptionWithCustomerManagedKey === false) {
    const conflicting = given(props, ['encryptionKey', 'encryptionKeyProps']);
    if (conflicting.length > 0) {
      errors.push(`enableEncryptionWithCustomerManagedKey is false (SQS-managed encryption), so ${conflicting.join(' and ')} `
        + `would have no effect; got ${conflicting.join(' and ')} set. Remove ${conflicting.join(' and ')}, or enable the `
        + 'customer-managed key.');
    }
  }
  if (props.encryptionKey !== undefined && props.encryptionKeyProps !== undefined) {
    errors.push('encryptionKey and encryptionKeyProps cannot both be set: encryptionKeyProps configures the key the '
      + 'construct creates, encryptionKey replaces it; got both. Remove one of them.');
  }
}

/** Number of days of a whole-day duration, or `undefined` when it is not a whole number of days. */
export function wholeDays(duration: Duration): number | undefined {
  const seconds = duration.toSeconds();
  return seconds % 86_400 === 0 ? seconds / 86_400 : undefined;
}

/** Whether a separate completer function is configured. */
export function hasSeparateCompleter(props: SfnRedshiftTaskerProps): boolean {
  return props.completerExistingLambdaObj !== undefined || props.completerLambdaFunctionProps !== undefined;
}

/** The completer's timeout, when it can be known at synth time. */
export function completerTimeout(props: SfnRedshiftTaskerProps): Duration | undefined {
  const separate = hasSeparateCompleter(props);
  const existing = separate ? props.completerExistingLambdaObj : props.starterExistingLambdaObj;
  if (existing !== undefined) {
    return existing instanceof lambda.Function ? existing.timeout ?? LAMBDA_DEFAULT_TIMEOUT : undefined;
  }
  const options = separate ? props.completerLambdaFunctionProps : props.starterLambdaFunctionProps;
  return options?.timeout ?? DEFAULT_TIMEOUT;
}

/**
 * The visibility timeout of the completion queue the construct creates: `queueProps.visibilityTimeout`, else six
 * times the completer's timeout, else (unknown timeout) the longest Lambda timeout.
 */
export function completionVisibilityTimeout(props: SfnRedshiftTaskerProps): Duration {
  const requested = props.queueProps?.visibilityTimeout;
  if (requested !== undefined) return requested;
  const timeout = completerTimeout(props);
  if (timeout === undefined || timeout.isUnresolved()) return UNKNOWN_TIMEOUT_VISIBILITY;
  return Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds());
}

/** The completion queue's visibility timeout against the completer's timeout (Lambda rejects a shorter one). */
function checkVisibilityTimeout(props: SfnRedshiftTaskerProps, errors: string[], warnings: ValidationWarning[]): void {
  if (props.createCallbackInfra === false || props.existingQueueObj !== undefined) return;
  const timeout = completerTimeout(props);
  const requested = props.queueProps?.visibilityTimeout;
  if (timeout === undefined) {
    if (requested === undefined) {
      warnings.push({
        id: 'unknownCompleterTimeout',
        message: 'The timeout of the existing completer function is unknown (it is not a lambda.Function of this app); '
          + `the completion queue's visibility timeout is ${UNKNOWN_TIMEOUT_VISIBILITY.toHumanString()}. Set `
          + 'queueProps.visibilityTimeout to six times the function\'s timeout.',
      });
    }
    return;
  }
  if (requested === undefined || requested.isUnresolved() || timeout.isUnresolved()) return;
  if (requested.toSeconds() < timeout.toSeconds()) {
    errors.push(`queueProps.visibilityTimeout must be at least the completer's timeout (${timeout.toHumanString()}): `
      + `Lambda rejects a shorter one for an event source; got ${requested.toHumanString()}. Set it to at least `
      + `${VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()} seconds (six times the timeout), or omit it.`);
  } else if (requested.toSeconds() < VISIBILITY_TIMEOUT_FACTOR * timeout.toSeconds()) {
    warnings.push({
      id: 'visibilityTimeout',
      message: `queueProps.visibilityTimeout (${requested.toHumanString()}) is less than six times the completer's `
        + `timeout (${timeout.toHumanString()}); throttled deliveries may reach the dead-letter queue early.`,
    });
  }
}

/** The fast-path wait in seconds (`undefined` for a token): `fastPathWaitTime`, else the default. */
export function fastPathWaitSeconds(props: SfnRedshiftTaskerProps): number | undefined {
  const wait = props.fastPathWaitTime;
  if (wait === undefined) return Defaults.FAST_PATH_WAIT_SECONDS;
  return wait.isUnresolved() ? undefined : wait.toSeconds({ integral: false });
}

/** `fastPathWaitTime` (whole seconds, 0 to 30) against the starter's timeout, when it is known. */
function checkFastPath(props: SfnRedshiftTaskerProps, errors: string[], warnings: ValidationWarning[]): void {
  const wait = fastPathWaitSeconds(props);
  if (wait === undefined) return;
  if (!Number.isInteger(wait) || wait < 0 || wait > Defaults.MAX_FAST_PATH_WAIT_SECONDS) {
    errors.push(`fastPathWaitTime must be a whole number of seconds from 0 to ${Defaults.MAX_FAST_PATH_WAIT_SECONDS} (the `
      + `Data API's WaitTimeSeconds); got ${props.fastPathWaitTime!.toHumanString()}. Use Duration.seconds(n), or `
      + 'Duration.seconds(0) to turn the fast path off.');
    return;
  }
  if (wait === 0) return;
  const existing = props.starterExistingLambdaObj;
  if (existing !== undefined && !(existing instanceof lambda.Function)) return;
  const timeout = existing !== undefined ? existing.timeout : props.starterLambdaFunctionProps?.timeout ?? DEFAULT_TIMEOUT;
  const needed = wait + FAST_PATH_TIMEOUT_MARGIN.toSeconds();
  const fix = `Set the timeout to at least ${needed} seconds, or lower fastPathWaitTime (Duration.seconds(0) turns the `
    + 'fast path off).';
  if (timeout === undefined) {
    warnings.push({
      id: 'fastPathTimeout',
      message: `The existing starter function ${existing!.node.path} sets no timeout (Lambda's default is `
        + `${LAMBDA_DEFAULT_TIMEOUT.toHumanString()}), which leaves no room for the fast-path wait of ${wait} seconds plus `
        + `${FAST_PATH_TIMEOUT_MARGIN.toHumanString()} for the rest of a start. ${fix}`,
    });
  } else if (!timeout.isUnresolved() && timeout.toSeconds() < needed) {
    const which = existing !== undefined ? 'The existing starter function\'s timeout' : 'starterLambdaFunctionProps.timeout';
    errors.push(`${which} is too short for fastPathWaitTime (${wait} seconds): a start waits up to that long for its `
      + `statement and needs ${FAST_PATH_TIMEOUT_MARGIN.toHumanString()} more for the rest; got ${timeout.toHumanString()}. ${fix}`);
  }
}

/**
 * Validates the props.
 * @returns the warnings to annotate
 * @throws Error listing every problem found
 */
export function validateProps(props: SfnRedshiftTaskerProps): ValidationWarning[] {
  const errors: string[] = [];
  const warnings: ValidationWarning[] = [];
  checkTarget(props, errors);

  if (props.createCallbackInfra === false) {
    if (props.existingTableObj === undefined) {
      errors.push('createCallbackInfra is false, so this tasker relies on the callback infrastructure of another '
        + 'tasker and must share its table; got no existingTableObj. Pass existingTableObj: firstTasker.trackingTable.');
    }
    const conflicting = given(props, CALLBACK_INFRA_PROPS);
    if (conflicting.length > 0) {
      errors.push('createCallbackInfra is false, so this tasker creates no queue, key or completer, and '
        + `${conflicting.join(', ')} would have no effect; got ${conflicting.join(', ')} set. Remove `
        + `${conflicting.join(', ')}, or set createCallbackInfra to true.`);
    }
  } else {
    checkQueueProps(props, errors);
    checkVisibilityTimeout(props, errors, warnings);
  }

  const pairs: [keyof SfnRedshiftTaskerProps, keyof SfnRedshiftTaskerProps][] = [
    ['starterExistingLambdaObj', 'starterLambdaFunctionProps'],
    ['completerExistingLambdaObj', 'completerLambdaFunctionProps'],
  ];
  for (const [existing, options] of pairs) {
    if (props[existing] !== undefined && props[options] !== undefined) {
      errors.push(`${existing} and ${options} cannot both be set: ${options} configures the function the construct `
        + `creates, ${existing} replaces it; got both. Remove one of them.`);
    }
  }
  checkFunctionOptions('starterLambdaFunctionProps', props.starterLambdaFunctionProps, errors);
  checkFunctionOptions('completerLambdaFunctionProps', props.completerLambdaFunctionProps, errors);
  checkWholeNumber('completerMaxConcurrency', props.completerMaxConcurrency, 2, 1000, errors);
  checkFastPath(props, errors, warnings);
  checkHardening(props, errors, warnings);

  checkTableProps(props, errors);
  const indexWarning = checkReconciler(props, errors);
  if (indexWarning !== undefined) warnings.push({ id: 'existingTableIndex', message: indexWarning });
  const tablePermission = props.tablePermissions?.value;
  if (tablePermission !== undefined && !Token.isUnresolved(tablePermission) && !TABLE_PERMISSIONS.includes(tablePermission)) {
    errors.push(`tablePermissions must be one of ${TABLE_PERMISSIONS.join(', ')}; got ${show(tablePermission)}. `
      + 'Use TablePermission.READ (and so on); it only adds permissions: omit it to grant just what the handler needs.');
  }
  const logLevel = props.logLevel?.value;
  if (logLevel !== undefined && !Token.isUnresolved(logLevel) && !(LOG_LEVELS as readonly string[]).includes(logLevel.toUpperCase())) {
    errors.push(`logLevel must be one of ${LOG_LEVELS.join(', ')} (any case); got ${show(logLevel)}. Use LogLevel.DEBUG `
      + '(and so on).');
  }
  if (props.trackingTableTtl !== undefined && !props.trackingTableTtl.isUnresolved()) {
    const days = wholeDays(props.trackingTableTtl);
    if (days === undefined || days < 1 || days > Defaults.MAX_TTL_DAYS) {
      errors.push(`trackingTableTtl must be a whole number of days from 1 to ${Defaults.MAX_TTL_DAYS}; got `
        + `${props.trackingTableTtl.toHumanString()}. Use Duration.days(n).`);
    }
  }

  if (props.enableQueuePurging !== undefined) {
    warnings.push({
      id: 'enableQueuePurging',
      message: 'enableQueuePurging is deprecated and has no effect; to let an operator purge the completion queue, '
        + 'call tasker.queue.grantPurge(principal).',
    });
  }

  if (errors.length > 0) {
    throw new Error(`Invalid SfnRedshiftTasker props:\n- ${errors.join('\n- ')}`);
  }
  return warnings;
}
