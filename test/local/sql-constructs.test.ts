/**
 * RedshiftSql, RedshiftSqlTask and RedshiftStatementTask run on the local stand-ins, through the bundled handler:
 * the integration test's stack (its custom resources created and deleted, its machine run with its input) plus a
 * machine of the options it does not use (JSONata SQL and parameters from the input, a start without callback, a
 * cancel, a describe loop, a result page). Every definition is valid ASL as well.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ensureBundles } from '../../local/bundles';
import { LocalCloud } from '../../local/cloud';
import { assetDirectories, CfnTemplate, LocalTemplate } from '../../local/cloudformation/template';
import { RedshiftSqlTask, RedshiftStatementTask, SfnRedshiftTasker, StatementAction } from '../../src';
import { aslErrors, definitionOf } from '../support/asl';
import { SqlIntegStack, sqlIntegStack } from '../support/sql-integ-stack';
import { tempDir, testApp } from '../support/temp';

jest.setTimeout(5 * 60 * 1000);

const ENV = { account: '123456789012', region: 'eu-west-1' };
let built: SqlIntegStack;
let options: sfn.StateMachine;
let template: LocalTemplate;
let cloud: LocalCloud;

/** The options the integration test's machine does not use, in one machine (JSONPath, with JSONata states). */
function optionsMachine(tasker: SfnRedshiftTasker): sfn.StateMachine {
  const stack = Stack.of(tasker);
  const failed = new sfn.Fail(stack, 'OptionFailed', { error: 'UnexpectedOutcome' });
  const start = RedshiftSqlTask.jsonata(stack, 'StartSlowWithoutCallback', {
    tasker,
    sql: '{% $states.input.slow %}',
    integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    outputs: { id: '{% $states.result.Id %}', a: '{% $states.input.a %}' },
  });
  const cancel = RedshiftStatementTask.jsonPath(stack, 'CancelIt', {
    tasker, action: StatementAction.CANCEL, statementId: sfn.JsonPath.stringAt('$.id'), resultPath: '$.cancel',
  });
  const wait = new sfn.Wait(stack, 'WaitForTheCancel', { time: sfn.WaitTime.duration(Duration.seconds(1)) });
  const describe = RedshiftStatementTask.jsonPath(stack, 'DescribeIt', {
    tasker, action: StatementAction.DESCRIBE, statementId: sfn.JsonPath.stringAt('$.id'), resultPath: '$.described',
  });
  const add = RedshiftSqlTask.jsonata(stack, 'AddWithParameters', {
    tasker,
    sql: 'select :a::int + :b::int as total',
    parameters: { a: '{% $string($states.input.a) %}', b: '2' },
    taskTimeout: sfn.Timeout.duration(Duration.minutes(1)),
  });
  const total = RedshiftStatementTask.jsonata(stack, 'ReadTheTotal', {
    tasker,
    action: StatementAction.FETCH_RESULT,
    nextToken: '{% $states.input.page %}',
    outputs: { total: '{% $states.result.Records[0][0].longValue %}' },
  });
  const status = (value: string) => sfn.Condition.stringEquals('$.described.Status', value);
  const definition = start.next(cancel).next(wait).next(describe).next(new sfn.Choice(stack, 'Aborted?')
    .when(status('ABORTED'), add.next(total).next(new sfn.Choice(stack, 'Three?')
      .when(sfn.Condition.numberEquals('$.total', 3), new sfn.Succeed(stack, 'OptionsDone'))
      .otherwise(failed)))
    .when(sfn.Condition.or(status('SUBMITTED'), status('PICKED'), status('STARTED')), wait)
    .otherwise(failed));
  return new sfn.StateMachine(stack, 'Options', { definitionBody: sfn.DefinitionBody.fromChainable(definition), timeout: Duration.minutes(5) });
}

beforeAll(async () => {
  ensureBundles();
  const outdir = tempDir('local-sql-constructs-');
  const app = testApp({ outdir });
  built = sqlIntegStack(app, ENV);
  options = optionsMachine(built.tasker);
  const artifact = app.synth().getStackArtifact(built.stack.artifactId);
  const manifest = artifact.dependencies.find((d) => d.id.endsWith('.assets'))!;
  template = new LocalTemplate(artifact.template as CfnTemplate, { region: ENV.region, accountId: ENV.account, stackName: artifact.stackName });
  cloud = await LocalCloud.start({ template, assets: assetDirectories(outdir, `${manifest.id}.json`) });
});

afterAll(async () => { await cloud?.close(); });

const arnOf = (machine: sfn.StateMachine) => cloud.stateMachineArn(built.stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine));
const rows = async () => (await cloud.redshift.query('dev', 'select count(*)::text from public.integ_sales')).rows[0]?.[0];

test('the definitions are valid ASL', () => {
  expect(aslErrors(definitionOf(built.stack, built.machine))).toBe('');
  expect(aslErrors(definitionOf(built.stack, options))).toBe('');
});

test('RedshiftSql: Create runs OnCreate (a table, then a row with a bound parameter), answered by the tasker itself', async () => {
  const outcomes = await cloud.cloudFormation.createStack();
  expect(outcomes.map((o) => [o.logicalId, o.status, o.problems])).toEqual([
    ['SalesTable', 'SUCCESS', []], ['SalesRow', 'SUCCESS', []],
  ]);
  expect(outcomes[1].physicalResourceId).toMatch(/^SalesRow:\d{12}\.\d{15}$/);
  expect(await rows()).toBe('1');
});

test('the integration test\'s machine succeeds: JSONPath SQL with a parameter, a result read, a JSONata singleton transaction', async () => {
  const outcome = await cloud.stepFunctions.startExecution(arnOf(built.machine), { region: 'EMEA' }).result;
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { status: 'FINISHED' } });
  expect(await rows()).toBe('1');
});

test('the options machine succeeds: a start without callback, its cancel (ABORTED), JSONata parameters, a result page', async () => {
  const { executionArn, result } = cloud.stepFunctions.startExecution(arnOf(options), { slow: 'select pg_sleep(60)', a: 1 });
  const outcome = await result;
  expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { total: 3 } });
  const statements = cloud.redshift.statements().filter((s) => s.statementName?.startsWith(`${executionArn}:`));
  expect(statements.map((s) => [s.queryString, s.status])).toEqual([
    ['select pg_sleep(60)', 'ABORTED'],
    ['select :a::int + :b::int as total', 'FINISHED'],
  ]);
  expect(statements[1].parameters).toEqual([{ name: 'a', value: '1' }, { name: 'b', value: '2' }]);
});

test('RedshiftSql: Delete runs OnDelete in reverse order (the row with its parameter, then the table)', async () => {
  const outcomes = await cloud.cloudFormation.deleteStack();
  expect(outcomes.map((o) => [o.logicalId, o.status])).toEqual([['SalesRow', 'SUCCESS'], ['SalesTable', 'SUCCESS']]);
  expect((await cloud.redshift.query('dev', 'select to_regclass(\'public.integ_sales\') is null')).rows[0]?.[0]).toBe('t');
});
