import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { findResource, newStack, policyStatements } from './helpers';
import { SfnRedshiftTasker, SfnRedshiftTaskerErrors, SfnRedshiftTaskerProps } from '../../src';

const CLUSTER = { clusterIdentifier: 'my-cluster', dbName: 'dev' };

function synth(props: Partial<SfnRedshiftTaskerProps> = {}) {
  const stack = newStack();
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, ...props });
  return { stack, tasker, template: Template.fromStack(stack) };
}

const env = (template: Template) => findResource(template, 'AWS::Lambda::Function', 'RSTaskStarterFunction').props.Environment.Variables;

describe('reconciler props', () => {
  test('reconcileInterval sets the schedule\'s rate', () => {
    const { template } = synth({ reconcileInterval: Duration.minutes(15) });
    expect(findResource(template, 'AWS::Events::Rule', 'RSTaskReconcileSchedule').props.ScheduleExpression).toBe('rate(15 minutes)');
  });

  test('enableReconciler false: no schedule, no reconciler policy, no permission for EventBridge to invoke', () => {
    const { template, tasker } = synth({ enableReconciler: false });
    expect(tasker.reconcileSchedule).toBeUndefined();
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => id.startsWith('RSTaskReconcilerPolicy'))).toEqual([]);
    expect(env(template).CANCEL_ORPHANS).toBeUndefined();
  });

  test('cancelOrphans false: the handler is told, and the sweep gets no heartbeat permission', () => {
    const { template } = synth({ cancelOrphans: false });
    expect(env(template).CANCEL_ORPHANS).toBe('false');
    expect(policyStatements(template, 'RSTaskReconcilerPolicy').map((s) => s.Action)).toEqual(['dynamodb:Query']);
  });

  test('the default sets no CANCEL_ORPHANS (the handler cancels orphans unless told otherwise)', () => {
    expect(env(synth().template).CANCEL_ORPHANS).toBeUndefined();
  });

  test.each([
    [Duration.seconds(90), '1 minute 30 seconds'],
    [Duration.seconds(30), '30 seconds'],
    [Duration.minutes(1441), '1 day 1 minute'],
  ])('reconcileInterval %s is refused', (interval, shown) => {
    expect(() => synth({ reconcileInterval: interval })).toThrow(
      `reconcileInterval must be a whole number of minutes from 1 to 1440 (EventBridge schedules run at most once a minute); got ${shown}.`);
  });

  test('reconcileInterval and cancelOrphans without the reconciler are refused', () => {
    expect(() => synth({ enableReconciler: false, reconcileInterval: Duration.minutes(2), cancelOrphans: true }))
      .toThrow(/enableReconciler is false, so reconcileInterval and cancelOrphans would have no effect/);
  });

  test('CANCEL_ORPHANS is managed: a function option cannot set it', () => {
    expect(() => synth({ starterLambdaFunctionProps: { environment: { CANCEL_ORPHANS: 'false' } } }))
      .toThrow(/must not set CANCEL_ORPHANS, which the construct manages for the handler; got CANCEL_ORPHANS: "false"\. Set it through cancelOrphans instead/);
  });

  test('the new error name is exported', () => {
    expect(SfnRedshiftTaskerErrors.STATEMENT_NOT_FOUND).toBe('StatementNotFound');
  });
});

describe('an existing table', () => {
  test('a table of the app without the inFlight index is refused, with the index to add', () => {
    const stack = newStack();
    const own = new dynamodb.Table(stack, 'Own', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'invocationId', type: dynamodb.AttributeType.STRING },
    });
    expect(() => new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, existingTableObj: own }))
      .toThrow(/existingTableObj \(TestStack\/Own\) has no global secondary index 'inFlight' .* Add it: table\.addGlobalSecondaryIndex\(\{ indexName: 'inFlight', partitionKey: \{ name: 'inFlightOf', type: AttributeType\.STRING \}, sortKey: \{ name: 'registeredAt', type: AttributeType\.NUMBER \}/);
  });

  test('... unless the reconciler is off', () => {
    const stack = newStack();
    const own = new dynamodb.Table(stack, 'Own', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    expect(() => new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, existingTableObj: own, enableReconciler: false }))
      .not.toThrow();
  });

  test('an index of that name with other keys is refused', () => {
    const stack = newStack();
    const own = new dynamodb.Table(stack, 'Own', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    own.addGlobalSecondaryIndex({ indexName: 'inFlight', partitionKey: { name: 'starter', type: dynamodb.AttributeType.STRING } });
    expect(() => new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, existingTableObj: own }))
      .toThrow(/has a different global secondary index 'inFlight'/);
  });

  test('another tasker\'s table has the index', () => {
    const stack = newStack();
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: CLUSTER });
    expect(() => new SfnRedshiftTasker(stack, 'Second', { redshiftTargetProps: CLUSTER, existingTableObj: first.trackingTable })).not.toThrow();
  });

  test('the index check calls no table method (Table#schema is deprecated in newer aws-cdk-lib) and prints nothing', () => {
    const stack = newStack();
    const first = new SfnRedshiftTasker(stack, 'First', { redshiftTargetProps: CLUSTER });
    const schema = jest.spyOn(dynamodb.Table.prototype, 'schema');
    const warn = jest.spyOn(console, 'warn');
    const error = jest.spyOn(console, 'error');
    try {
      new SfnRedshiftTasker(stack, 'Second', { redshiftTargetProps: CLUSTER, createCallbackInfra: false, existingTableObj: first.trackingTable });
      expect(schema).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    } finally {
      schema.mockRestore();
      warn.mockRestore();
      error.mockRestore();
    }
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('a TableV2 of the app is checked like a Table: accepted with the index, refused without', () => {
    const stack = newStack();
    const keys = {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'invocationId', type: dynamodb.AttributeType.STRING },
    };
    const withIndex = new dynamodb.TableV2(stack, 'WithIndex', {
      ...keys,
      timeToLiveAttribute: 'TTL',
      globalSecondaryIndexes: [{
        indexName: 'inFlight',
        partitionKey: { name: 'inFlightOf', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'registeredAt', type: dynamodb.AttributeType.NUMBER },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: ['id', 'invocationId'],
      }],
    });
    new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: CLUSTER, existingTableObj: withIndex });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('inFlight'))).toEqual([]);

    const without = new dynamodb.TableV2(stack, 'Without', keys);
    expect(() => new SfnRedshiftTasker(stack, 'Other', { redshiftTargetProps: CLUSTER, existingTableObj: without }))
      .toThrow(/existingTableObj \(TestStack\/Without\) has no global secondary index 'inFlight'/);
    const wrongType = new dynamodb.TableV2(stack, 'WrongType', {
      ...keys,
      globalSecondaryIndexes: [{
        indexName: 'inFlight',
        partitionKey: { name: 'inFlightOf', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'registeredAt', type: dynamodb.AttributeType.STRING },
      }],
    });
    expect(() => new SfnRedshiftTasker(stack, 'Third', { redshiftTargetProps: CLUSTER, existingTableObj: wrongType }))
      .toThrow(/has a different global secondary index 'inFlight' \(got partition key inFlightOf \(S\), sort key registeredAt \(S\)\)/);
  });

  test('an imported table cannot be checked: a warning', () => {
    const stack = newStack();
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER, existingTableObj: dynamodb.Table.fromTableName(stack, 'Imported', 'shared-state'),
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot check that it has the global secondary index .inFlight.')))
      .toHaveLength(1);
  });

  test('a tasker sharing callback infrastructure it cannot find warns that failures lose their error text', () => {
    const stack = newStack();
    new SfnRedshiftTasker(stack, 'RSTask', {
      redshiftTargetProps: CLUSTER,
      createCallbackInfra: false,
      enableReconciler: false,
      existingTableObj: dynamodb.Table.fromTableName(stack, 'Imported', 'shared-state'),
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('allow its role lambda:InvokeFunction on this function')))
      .toHaveLength(1);
  });
});
