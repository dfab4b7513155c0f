/**
 * The reconciler of a tasker: the sparse `inFlight` index of the tracking table, the schedule that sends
 * `{"action": "reconcile"}` to the starter function, the permissions a sweep needs, and the synth-time checks of the
 * reconciler props and of an existing table's index.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { Action, Defaults, Field, Table } from '../contract';
import { SfnRedshiftTaskerProps } from '../tasker-props';

/** The index as the construct creates it (and as an existing table must have it). */
export const IN_FLIGHT_INDEX_PROPS: dynamodb.GlobalSecondaryIndexProps = {
  indexName: Table.IN_FLIGHT_INDEX,
  partitionKey: { name: Table.IN_FLIGHT_ATTRIBUTE, type: dynamodb.AttributeType.STRING },
  sortKey: { name: Table.REGISTERED_AT_ATTRIBUTE, type: dynamodb.AttributeType.NUMBER },
  projectionType: dynamodb.ProjectionType.INCLUDE,
  nonKeyAttributes: [...Table.IN_FLIGHT_PROJECTION],
};

const INDEX_FIX = `table.addGlobalSecondaryIndex({ indexName: '${Table.IN_FLIGHT_INDEX}', partitionKey: { name: `
  + `'${Table.IN_FLIGHT_ATTRIBUTE}', type: AttributeType.STRING }, sortKey: { name: '${Table.REGISTERED_AT_ATTRIBUTE}', `
  + 'type: AttributeType.NUMBER }, projectionType: ProjectionType.INCLUDE, nonKeyAttributes: '
  + `[${Table.IN_FLIGHT_PROJECTION.map((a) => `'${a}'`).join(', ')}] })`;

/** Whether the reconciler is on. */
export function reconcilerEnabled(props: SfnRedshiftTaskerProps): boolean {
  return props.enableReconciler !== false;
}

/** Whether sweeps cancel orphans. */
export function cancelsOrphans(props: SfnRedshiftTaskerProps): boolean {
  return reconcilerEnabled(props) && props.cancelOrphans !== false;
}

/** The schedule's interval. */
export function reconcileInterval(props: SfnRedshiftTaskerProps): Duration {
  return props.reconcileInterval ?? Duration.minutes(Defaults.RECONCILE_INTERVAL_MINUTES);
}

/**
 * A sweep runs in the starter function and keeps `SWEEP_RESERVE_SECONDS` of its invocation for itself: a starter the
 * construct creates with a timeout shorter than `MIN_SWEEP_TIMEOUT_SECONDS` would sweep one statement at a time. (An
 * existing function's timeout is its owner's: its sweeps still examine one statement each, and a sweep that examines
 * none logs an ERROR and counts `StalledSweeps`.)
 */
function checkSweepTimeout(props: SfnRedshiftTaskerProps, errors: string[]): void {
  const timeout = props.starterExistingLambdaObj === undefined ? props.starterLambdaFunctionProps?.timeout : undefined;
  if (timeout === undefined || timeout.isUnresolved() || timeout.toSeconds() >= Defaults.MIN_SWEEP_TIMEOUT_SECONDS) return;
  errors.push('starterLambdaFunctionProps.timeout is too short for reconciler sweeps, which run in the starter function '
    + `and stop taking statements ${Defaults.SWEEP_RESERVE_SECONDS} seconds before it ends; got ${timeout.toHumanString()}. `
    + `Set the timeout to at least ${Defaults.MIN_SWEEP_TIMEOUT_SECONDS} seconds, or set enableReconciler: false.`);
}

/**
 * The reconciler props and the existing table's index.
 * @returns a warning when the index of an imported table cannot be checked
 */
export function checkReconciler(props: SfnRedshiftTaskerProps, errors: string[]): string | undefined {
  if (!reconcilerEnabled(props)) {
    const conflicting = (['reconcileInterval', 'cancelOrphans'] as const).filter((name) => props[name] !== undefined);
    if (conflicting.length > 0) {
      errors.push(`enableReconciler is false, so ${conflicting.join(' and ')} would have no effect; got `
        + `${conflicting.join(' and ')} set. Remove ${conflicting.join(' and ')}, or set enableReconciler to true.`);
    }
    return undefined;
  }
  const interval = props.reconcileInterval;
  if (interval !== undefined && !interval.isUnresolved()) {
    const seconds = interval.toSeconds();
    if (seconds % 60 !== 0 || seconds < 60 || seconds > 86_400) {
      errors.push('reconcileInterval must be a whole number of minutes from 1 to 1440 (EventBridge schedules run at '
        + `most once a minute); got ${interval.toHumanString()}. Use Duration.minutes(n), or set enableReconciler: false.`);
    }
  }
  checkSweepTimeout(props, errors);
  const table = props.existingTableObj;
  if (table === undefined) return undefined;
  const index = inFlightIndexOf(table);
  if (index === 'unknown') {
    return `The existing table ${table.node.path} is not a dynamodb.Table or dynamodb.TableV2 of this app, so the construct `
      + `cannot check that it has the global secondary index '${Table.IN_FLIGHT_INDEX}' the reconciler queries; make sure `
      + `it does (${INDEX_FIX}), or set enableReconciler: false.`;
  }
  const expected = IN_FLIGHT_INDEX_PROPS;
  const matches = index !== undefined && sameKey(index.partitionKeys, expected.partitionKey)
    && sameKey(index.sortKeys, expected.sortKey);
  if (!matches) {
    errors.push(`existingTableObj (${table.node.path}) has ${index === undefined ? 'no' : 'a different'} global secondary `
      + `index '${Table.IN_FLIGHT_INDEX}' (got ${index === undefined ? 'no such index' : describeKey(index)}); the reconciler `
      + `queries it to find the statements in flight. Add it: ${INDEX_FIX}. Or set enableReconciler: false. (The table of a `
      + 'tasker has it.)');
  }
  return undefined;
}

/** The key of a global secondary index as the table's CloudFormation resource declares it. */
interface IndexKey {
  readonly partitionKeys: dynamodb.Attribute[];
  readonly sortKeys: dynamodb.Attribute[];
}

/** An index key as the error shows it: `partition key inFlightOf (S), sort key registeredAt (N)`. */
function describeKey(key: IndexKey): string {
  const part = (label: string, attributes: dynamodb.Attribute[]) =>
    `${label} ${attributes.length === 0 ? 'none' : attributes.map((a) => `${a.name} (${a.type})`).join(' + ')}`;
  return `${part('partition key', key.partitionKeys)}, ${part('sort key', key.sortKeys)}`;
}

/** Whether an index key part is exactly `expected` (one attribute of that name and type). */
function sameKey(actual: dynamodb.Attribute[], expected: dynamodb.Attribute | undefined): boolean {
  return actual.length === 1 && expected !== undefined && actual[0].name === expected.name && actual[0].type === expected.type;
}

/**
 * The key of the table's `inFlight` index, read from the table's CloudFormation resource (`Table` and `TableV2` alike,
 * whatever the version of aws-cdk-lib: no table method that some versions deprecate); `undefined` when the table has
 * no such index, `'unknown'` for a table whose resource is not in the app (an imported table).
 */
function inFlightIndexOf(table: dynamodb.ITable): IndexKey | undefined | 'unknown' {
  if (!(table instanceof dynamodb.Table || table instanceof dynamodb.TableV2)) return 'unknown';
  const resource = table.node.defaultChild;
  if (!(resource instanceof dynamodb.CfnTable || resource instanceof dynamodb.CfnGlobalTable)) return 'unknown';
  const stack = Stack.of(table);
  type KeyElement = { attributeName: string; keyType: string };
  type Index = { indexName: string; keySchema: KeyElement[] };
  const indexes = (stack.resolve(resource.globalSecondaryIndexes) ?? []) as Index[];
  const definitions = (stack.resolve(resource.attributeDefinitions) ?? []) as { attributeName: string; attributeType: string }[];
  const index = indexes.find((candidate) => candidate.indexName === Table.IN_FLIGHT_INDEX);
  if (index === undefined) return undefined;
  const attributes = (keyType: string): dynamodb.Attribute[] => (index.keySchema ?? [])
    .filter((element) => element.keyType === keyType)
    .map((element) => ({
      name: element.attributeName,
      type: definitions.find((definition) => definition.attributeName === element.attributeName)?.attributeType as dynamodb.AttributeType,
    }));
  return { partitionKeys: attributes('HASH'), sortKeys: attributes('RANGE') };
}

/** The schedule that sends a sweep to the starter function. */
export function reconcileSchedule(scope: Construct, starter: lambda.IFunction, interval: Duration): events.Rule {
  const rule = new events.Rule(scope, 'ReconcileSchedule', {
    description: 'Sends {"action": "reconcile"} to the SfnRedshiftTasker starter: lost events, unknown statements, orphans',
    schedule: events.Schedule.rate(interval),
  });
  rule.addTarget(new targets.LambdaFunction(starter, {
    event: events.RuleTargetInput.fromObject({ [Field.ACTION]: Action.RECONCILE }),
    // The next sweep does what a failed one did not.
    retryAttempts: 0,
  }));
  return rule;
}

/**
 * What a sweep needs besides the starter's own permissions (describe, list and cancel its statements; read and write
 * the table; call back and ask a task whether it still waits, with a heartbeat on its token): query the index.
 */
export function reconcilerStatements(table: dynamodb.ITable): iam.PolicyStatement[] {
  return [new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [`${table.tableArn}/index/${Table.IN_FLIGHT_INDEX}`] })];
}
