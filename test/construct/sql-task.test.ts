/**
 * RedshiftSqlTask: the state it renders for every option in JSONPath and JSONata, its retries, the permission it gives
 * the state machine's role, the synth-time checks and warnings; every rendered machine is valid ASL (asl-validator).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { getAttArn, newStack } from './helpers';
import {
  BatchExecutionMode, ExportFormat, RedshiftSqlTask, RedshiftSqlTaskProps, RowFormat, SfnRedshiftTasker, SfnRedshiftTaskerErrors,
} from '../../src';
import { CONFLICT_RETRY, DATA_API_RETRY, LAMBDA_SERVICE_RETRY, aslErrors, definitionOf } from '../support/asl';
import { nag } from '../support/nag';

const CALLBACK = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::lambda:invoke.waitForTaskToken']] };
const HOUR = sfn.Timeout.duration(Duration.hours(1));

function setup(): { stack: Stack; tasker: SfnRedshiftTasker; fnArn: unknown } {
  const stack = newStack();
  const tasker = new SfnRedshiftTasker(stack, 'RSTask', { redshiftTargetProps: { clusterIdentifier: 'my-cluster', dbName: 'dev' } });
  return { stack, tasker, fnArn: getAttArn(stack.resolve((tasker.lambdaFunction.node.defaultChild as any).logicalId)) };
}

/** The JSONPath and JSONata forms of the same props, with the payload each renders (besides the callback fields). */
interface Case {
  readonly name: string;
  readonly jsonPath: Partial<RedshiftSqlTaskProps>;
  readonly jsonata: Partial<RedshiftSqlTaskProps>;
  readonly payload: { jsonPath: Record<string, unknown>; jsonata: Record<string, unknown> };
}

const CASES: Case[] = [
  {
    name: 'one statement',
    jsonPath: { sql: 'call refresh_sales()' },
    jsonata: { sql: 'call refresh_sales()' },
    payload: { jsonPath: { sqlStatement: 'call refresh_sales()' }, jsonata: { sqlStatement: 'call refresh_sales()' } },
  },
  {
    name: 'the statement from the state input',
    jsonPath: { sql: sfn.JsonPath.stringAt('$.sql') },
    jsonata: { sql: '{% $states.input.sql %}' },
    payload: { jsonPath: { 'sqlStatement.$': '$.sql' }, jsonata: { sqlStatement: '{% $states.input.sql %}' } },
  },
  {
    name: 'a transaction of several statements',
    jsonPath: { sqlStatements: ['delete from staging', 'insert into staging select * from source'] },
    jsonata: { sqlStatements: ['delete from staging', '{% $states.input.insert %}'] },
    payload: {
      jsonPath: { sqlStatements: ['delete from staging', 'insert into staging select * from source'] },
      jsonata: { sqlStatements: ['delete from staging', '{% $states.input.insert %}'] },
    },
  },
  {
    name: 'named parameters, literal and from the input',
    jsonPath: { sql: 'select * from sales where region = :region and year = :year', parameters: { region: sfn.JsonPath.stringAt('$.region'), year: '2026' } },
    jsonata: { sql: 'select * from sales where region = :region and year = :year', parameters: { region: '{% $states.input.region %}', year: '2026' } },
    payload: {
      jsonPath: {
        sqlStatement: 'select * from sales where region = :region and year = :year',
        parameters: [{ 'name': 'region', 'value.$': '$.region' }, { name: 'year', value: '2026' }],
      },
      jsonata: {
        sqlStatement: 'select * from sales where region = :region and year = :year',
        parameters: [{ name: 'region', value: '{% $states.input.region %}' }, { name: 'year', value: '2026' }],
      },
    },
  },
  {
    name: 'a singleton statement',
    jsonPath: { sql: 'call nightly_load()', singleton: true },
    jsonata: { sql: 'call nightly_load()', singleton: true },
    payload: {
      jsonPath: { sqlStatement: 'call nightly_load()', action: 'executeSingletonStatement' },
      jsonata: { sqlStatement: 'call nightly_load()', action: 'executeSingletonStatement' },
    },
  },
];

describe.each(CASES)('$name', ({ jsonPath, jsonata, payload }) => {
  test('JSONPath: lambda:invoke.waitForTaskToken with the task token and the execution id added', () => {
    const { stack, tasker, fnArn } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'RunSql', { tasker, taskTimeout: HOUR, ...jsonPath } as any);
    expect(stack.resolve(task.toStateJson())).toEqual({
      Type: 'Task',
      Resource: CALLBACK,
      Parameters: {
        FunctionName: fnArn,
        Payload: { ...payload.jsonPath, 'taskToken.$': '$$.Task.Token', 'executionArn.$': '$$.Execution.Id' },
      },
      TimeoutSeconds: 3600,
      Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY, CONFLICT_RETRY],
      End: true,
    });
  });

  test('JSONata: the same with Arguments and $states.context', () => {
    const { stack, tasker, fnArn } = setup();
    const task = RedshiftSqlTask.jsonata(stack, 'RunSql', { tasker, taskTimeout: HOUR, ...jsonata } as any);
    expect(stack.resolve(task.toStateJson())).toEqual({
      Type: 'Task',
      QueryLanguage: 'JSONata',
      Resource: CALLBACK,
      Arguments: {
        FunctionName: fnArn,
        Payload: { ...payload.jsonata, taskToken: '{% $states.context.Task.Token %}', executionArn: '{% $states.context.Execution.Id %}' },
      },
      TimeoutSeconds: 3600,
      Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY, CONFLICT_RETRY],
      End: true,
    });
  });
});

describe('task options', () => {
  test('JSONPath: input, result and output processing, comment, assign, credentials and a Catch on the exported error names', () => {
    const { stack, tasker } = setup();
    const role = iam.Role.fromRoleArn(stack, 'CrossAccount', 'arn:aws:iam::210987654321:role/redshift-runner');
    const task = RedshiftSqlTask.jsonPath(stack, 'RunSql', {
      tasker,
      sql: 'select count(*) from sales',
      comment: 'Counts the sales',
      inputPath: '$.request',
      resultSelector: { 'rows.$': '$.detail.rows', 'statementId.$': '$.detail.statementId' },
      resultPath: '$.count',
      outputPath: '$.count',
      assign: { counted: '$.count' },
      taskTimeout: sfn.Timeout.at('$.budgetSeconds'),
      credentials: { role: sfn.TaskRole.fromRole(role) },
      stateName: 'Count sales',
    });
    task.addCatch(new sfn.Pass(stack, 'SqlFailed'), { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED], resultPath: '$.error' });
    task.addCatch(new sfn.Pass(stack, 'TooLong'), { errors: [sfn.Errors.TIMEOUT] });
    expect(stack.resolve(task.toStateJson())).toEqual(expect.objectContaining({
      Comment: 'Counts the sales',
      InputPath: '$.request',
      ResultSelector: { 'rows.$': '$.detail.rows', 'statementId.$': '$.detail.statementId' },
      ResultPath: '$.count',
      OutputPath: '$.count',
      Assign: { counted: '$.count' },
      TimeoutSecondsPath: '$.budgetSeconds',
      Credentials: { RoleArn: 'arn:aws:iam::210987654321:role/redshift-runner' },
      Catch: [
        { ErrorEquals: ['FAILED'], ResultPath: '$.error', Next: 'SqlFailed' },
        { ErrorEquals: ['States.Timeout'], Next: 'TooLong' },
      ],
    }));
  });

  test('JSONata: outputs, assign, a dynamic timeout', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonata(stack, 'RunSql', {
      tasker,
      sql: 'select count(*) from sales',
      outputs: { rows: '{% $states.result.detail.rows %}' },
      assign: { statementId: '{% $states.result.detail.statementId %}' },
      taskTimeout: sfn.Timeout.jsonata('{% $states.input.budget %}'),
      comment: 'Counts the sales',
    });
    expect(stack.resolve(task.toStateJson())).toEqual(expect.objectContaining({
      QueryLanguage: 'JSONata',
      Output: { rows: '{% $states.result.detail.rows %}' },
      Assign: { statementId: '{% $states.result.detail.statementId %}' },
      TimeoutSeconds: '{% $states.input.budget %}',
      Comment: 'Counts the sales',
    }));
  });

  test('the state machine\'s query language decides when the state sets none', () => {
    const { stack, tasker } = setup();
    const task = new RedshiftSqlTask(stack, 'RunSql', { tasker, sql: 'select 1', taskTimeout: HOUR });
    expect(stack.resolve(task.toStateJson(sfn.QueryLanguage.JSONATA))).toEqual(expect.objectContaining({
      Arguments: expect.objectContaining({ Payload: expect.objectContaining({ taskToken: '{% $states.context.Task.Token %}' }) }),
    }));
    expect(stack.resolve(task.toStateJson())).toEqual(expect.objectContaining({ Parameters: expect.any(Object) }));
  });

  test.each([
    ['JSONPath', (stack: Stack, tasker: SfnRedshiftTasker) => RedshiftSqlTask.jsonPath(stack, 'Start', {
      tasker, sql: sfn.JsonPath.stringAt('$.sql'), integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE, resultPath: '$.started',
    }), { Parameters: { 'sqlStatement.$': '$.sql', 'executionArn.$': '$$.Execution.Id' }, ResultPath: '$.started' }],
    ['JSONata', (stack: Stack, tasker: SfnRedshiftTasker) => RedshiftSqlTask.jsonata(stack, 'Start', {
      tasker, sql: '{% $states.input.sql %}', integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    }), { QueryLanguage: 'JSONata', Arguments: { sqlStatement: '{% $states.input.sql %}', executionArn: '{% $states.context.Execution.Id %}' } }],
  ])('%s, REQUEST_RESPONSE: starts without a callback and returns the Data API\'s answer (the function as resource)', (_, create, expected) => {
    const { stack, tasker, fnArn } = setup();
    const task = create(stack, tasker);
    expect(stack.resolve(task.toStateJson())).toEqual({
      Type: 'Task', Resource: fnArn, ...expected, Retry: [LAMBDA_SERVICE_RETRY, DATA_API_RETRY], End: true,
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('retryOnServiceExceptions: false leaves the retries to the user', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'RunSql', {
      tasker, sql: 'select 1', taskTimeout: HOUR, retryOnServiceExceptions: false, conflictRetries: 0,
    });
    task.addRetry({ errors: [SfnRedshiftTaskerErrors.CONCURRENT_EXECUTION], interval: Duration.minutes(1) });
    expect(stack.resolve(task.toStateJson())).toEqual(expect.objectContaining({
      Retry: [{ ErrorEquals: ['ConcurrentExecution'], IntervalSeconds: 60 }],
    }));
  });

  test('a serializable isolation violation is retried 3 times by default (a new statement each time); conflictRetries sets it', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'RunSql', { tasker, sql: 'select 1', taskTimeout: HOUR, conflictRetries: 5 });
    expect(stack.resolve(task.toStateJson()).Retry).toEqual([LAMBDA_SERVICE_RETRY, DATA_API_RETRY, { ...CONFLICT_RETRY, MaxAttempts: 5 }]);
    expect(SfnRedshiftTaskerErrors.SERIALIZATION_CONFLICT).toBe('SerializationConflict');
  });

  test('a session: sessionKeepAlive opens one (no SessionBusy retry); sessionId runs in one and retries SessionBusy', () => {
    const { stack, tasker } = setup();
    const open = RedshiftSqlTask.jsonPath(stack, 'Open', {
      tasker, sql: 'create temp table staged as select 1', taskTimeout: HOUR, sessionKeepAlive: Duration.minutes(10),
    });
    const merge = RedshiftSqlTask.jsonPath(stack, 'Merge', {
      tasker, sql: 'insert into t select * from staged', taskTimeout: HOUR, sessionId: sfn.JsonPath.stringAt('$.open.sessionId'),
    });
    const inJsonata = RedshiftSqlTask.jsonata(stack, 'Later', {
      tasker, sql: 'select 1', taskTimeout: HOUR, sessionId: '{% $states.input.open.sessionId %}', sessionKeepAlive: Duration.hours(24),
    });
    const openState = stack.resolve(open.toStateJson());
    expect(openState.Parameters.Payload).toMatchObject({ sessionKeepAliveSeconds: 600 });
    expect(openState.Parameters.Payload).not.toHaveProperty('sessionId');
    expect(openState.Retry).toEqual([LAMBDA_SERVICE_RETRY, DATA_API_RETRY, CONFLICT_RETRY]);
    const mergeState = stack.resolve(merge.toStateJson());
    expect(mergeState.Parameters.Payload).toMatchObject({ 'sessionId.$': '$.open.sessionId' });
    expect(mergeState.Retry).toEqual([LAMBDA_SERVICE_RETRY, DATA_API_RETRY,
      { ErrorEquals: ['SessionBusy'], IntervalSeconds: 5, MaxAttempts: 5, BackoffRate: 2, JitterStrategy: 'FULL' }, CONFLICT_RETRY]);
    expect(stack.resolve(inJsonata.toStateJson()).Arguments.Payload).toMatchObject({
      sessionId: '{% $states.input.open.sessionId %}', sessionKeepAliveSeconds: 86_400,
    });
    expect(SfnRedshiftTaskerErrors.SESSION_BUSY).toBe('SessionBusy');
    expect(SfnRedshiftTaskerErrors.SESSION_NOT_AVAILABLE).toBe('SessionNotAvailable');
  });

  test('sqlStatements with parameters and AUTO_COMMIT', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'Maintain', {
      tasker,
      taskTimeout: HOUR,
      sqlStatements: ['delete from t where day < :day', 'vacuum t'],
      parameters: { day: '2026-01-01' },
      executionMode: BatchExecutionMode.AUTO_COMMIT,
    });
    expect(stack.resolve(task.toStateJson()).Parameters.Payload).toMatchObject({
      sqlStatements: ['delete from t where day < :day', 'vacuum t'], parameters: [{ name: 'day', value: '2026-01-01' }], executionMode: 'AUTO_COMMIT',
    });
  });
});

describe('rows with the callback', () => {
  test('resultRows asks the tasker for the rows in that format (rowFormat); ResultTooLarge is not retried', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'Read', { tasker, sql: 'select 1', taskTimeout: HOUR, resultRows: RowFormat.OBJECTS });
    const json = stack.resolve(task.toStateJson());
    expect(json.Parameters.Payload).toMatchObject({ 'sqlStatement': 'select 1', 'rowFormat': 'OBJECTS', 'taskToken.$': '$$.Task.Token' });
    expect(JSON.stringify(json.Retry)).not.toContain('ResultTooLarge');
    expect(SfnRedshiftTaskerErrors.RESULT_TOO_LARGE).toBe('ResultTooLarge');
  });

  test('in JSONata with a list: TYPED_CELLS', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonata(stack, 'Read', { tasker, sqlStatements: ['select 1', 'select 2'], taskTimeout: HOUR, resultRows: RowFormat.TYPED_CELLS });
    expect(stack.resolve(task.toStateJson()).Arguments.Payload).toMatchObject({ sqlStatements: ['select 1', 'select 2'], rowFormat: 'TYPED_CELLS' });
  });

  test('without resultRows no rowFormat is sent (the output stays the completion event)', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'Run', { tasker, sql: 'select 1', taskTimeout: HOUR });
    expect(stack.resolve(task.toStateJson()).Parameters.Payload.rowFormat).toBeUndefined();
  });

  test('REQUEST_RESPONSE cannot return rows', () => {
    const { stack, tasker } = setup();
    expect(() => RedshiftSqlTask.jsonPath(stack, 'Read', {
      tasker, sql: 'select 1', resultRows: RowFormat.OBJECTS, integrationPattern: sfn.IntegrationPattern.REQUEST_RESPONSE,
    })).toThrow(/resultRows returns the rows with the statement's callback; got integrationPattern REQUEST_RESPONSE/);
  });
});

describe('the result in S3', () => {
  test('resultExport sends the bucket, prefix and format; the function may write only under the prefix, with the bucket\'s key', () => {
    const { stack, tasker } = setup();
    const key = new kms.Key(stack, 'Key');
    const bucket = new s3.Bucket(stack, 'Results', { encryptionKey: key });
    const task = RedshiftSqlTask.jsonPath(stack, 'Export', {
      tasker, sql: 'select 1', taskTimeout: HOUR, resultExport: { bucket, keyPrefix: 'daily/', format: ExportFormat.CSV },
    });
    expect(stack.resolve(task.toStateJson()).Parameters.Payload).toMatchObject({
      exportBucket: { Ref: stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket) }, exportKeyPrefix: 'daily/', exportFormat: 'CSV',
    });
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const writes = statements.filter((st: any) => [st.Action].flat().includes('s3:PutObject'));
    expect(writes).toEqual([{
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'],
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket), 'Arn'] }, '/daily/*']] },
    }]);
    expect(statements.some((st: any) => [st.Action].flat().includes('kms:GenerateDataKey')
      && JSON.stringify(st.Resource).includes(stack.getLogicalId(key.node.defaultChild as kms.CfnKey)))).toBe(true);
    expect(statements.some((st: any) => [st.Action].flat().some((a: string) => a === 's3:*' || a === 's3:GetObject'))).toBe(false);
  });

  test('the grant is a policy of its own whose one wildcard (the objects under the prefix) cdk-nag accepts with a reason', () => {
    const { stack, tasker } = setup();
    const bucket = new s3.Bucket(stack, 'Results', { enforceSSL: true, serverAccessLogsPrefix: 'logs/' });
    const task = RedshiftSqlTask.jsonPath(stack, 'Export', { tasker, sql: 'select 1', taskTimeout: HOUR, resultExport: { bucket } });
    new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(task) });
    const findings = nag(stack);
    expect([...findings.errors, ...findings.warnings].filter((f) => /ResultExportPolicy|results-bucket|redshift-results/.test(f))).toEqual([]);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ResultExportPolicy') } });
    expect(Object.values(policies).map((p: any) => p.Metadata.cdk_nag.rules_to_suppress.map((r: any) => r.id))).toEqual([['AwsSolutions-IAM5']]);
  });

  test('the defaults: JSON Lines under redshift-results/', () => {
    const { stack, tasker } = setup();
    const bucket = new s3.Bucket(stack, 'Results');
    const task = RedshiftSqlTask.jsonata(stack, 'Export', { tasker, sql: 'select 1', taskTimeout: HOUR, resultExport: { bucket } });
    expect(stack.resolve(task.toStateJson()).Arguments.Payload).toMatchObject({ exportKeyPrefix: 'redshift-results/', exportFormat: 'JSON_LINES' });
    expect(SfnRedshiftTaskerErrors.RESULT_EXPORT_TOO_LARGE).toBe('ResultExportTooLarge');
  });
});

describe('permissions and metrics', () => {
  test('the state machine\'s role may invoke the tasker\'s function, and nothing else (no :* for versions and aliases)', () => {
    const { stack, tasker, fnArn } = setup();
    const run = RedshiftSqlTask.jsonPath(stack, 'RunSql', { tasker, sql: 'select 1', taskTimeout: HOUR });
    const again = RedshiftSqlTask.jsonata(stack, 'RunAgain', { tasker, sql: 'select 2', taskTimeout: HOUR });
    new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(run.next(again)) });
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('^MachineRole') } });
    expect(Object.values(policies).map((policy: any) => policy.Properties.PolicyDocument.Statement)).toEqual([[
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: fnArn },
    ]]);
  });

  test('task metrics carry the function', () => {
    const { stack, tasker, fnArn } = setup();
    const task = RedshiftSqlTask.jsonPath(stack, 'RunSql', { tasker, sql: 'select 1', taskTimeout: HOUR });
    expect(stack.resolve(task.metricRunTime().dimensions)).toEqual({ LambdaFunctionArn: fnArn });
  });
});

describe('synth-time checks', () => {
  const long = 'x'.repeat(100_001);
  test.each<[string, Partial<RedshiftSqlTaskProps>, RegExp]>([
    ['neither sql nor sqlStatements', {}, /Give exactly one of sql \(one statement\) and sqlStatements .*; got neither/],
    ['both', { sql: 'select 1', sqlStatements: ['select 2'] }, /got both\. Remove one of them/],
    ['an empty statement', { sql: '  ' }, /sql must be one SQL statement; got an empty string/],
    ['an oversized statement', { sql: long }, /sql is too long: the Redshift Data API accepts at most 100000 bytes per statement; got 100001 bytes/],
    ['an empty list', { sqlStatements: [] }, /sqlStatements must hold 1 to 40 statements .*; got 0\. Give at least one/],
    ['41 statements', { sqlStatements: Array(41).fill('select 1') }, /got 41\. Split them/],
    ['an empty statement in the list', { sqlStatements: ['select 1', ''] }, /sqlStatements\[1\] must be one SQL statement/],
    ['an execution mode for one statement', { sql: 'select 1', executionMode: BatchExecutionMode.AUTO_COMMIT }, /executionMode is only for a list of statements \(sqlStatements\); got "AUTO_COMMIT"/],
    ['an unknown execution mode', { sqlStatements: ['select 1'], executionMode: BatchExecutionMode.of('auto') }, /executionMode must be TRANSACTION or AUTO_COMMIT; got "auto"/],
    ['conflictRetries over 10', { sql: 'select 1', conflictRetries: 11 }, /conflictRetries must be a whole number from 0 to 10; got 11/],
    ['a keep-alive over 24 hours', { sql: 'select 1', sessionKeepAlive: Duration.hours(25) }, /sessionKeepAlive must be a whole number of seconds from 1 second to 24 hours .*; got 1 day 1 hour/],
    ['a keep-alive in part of a second', { sql: 'select 1', sessionKeepAlive: Duration.millis(1500) }, /sessionKeepAlive must be a whole number of seconds/],
    ['a session id that is not one', { sql: 'select 1', sessionId: 'my-session' }, /sessionId must be a Data API session id \(a UUID\) or a value of the state; got "my-session"/],
    ['a bad parameter name', { sql: 'select :a', parameters: { 'my-param': '1' } }, /invalid parameter name; got "my-param"\. A name is a letter or underscore/],
    ['an empty parameter value', { sql: 'select :a', parameters: { a: '' } }, /parameters\.a must not be empty: the Data API has no empty or NULL parameter values; got ''/],
    ['RUN_JOB', { sql: 'select 1', integrationPattern: sfn.IntegrationPattern.RUN_JOB }, /integrationPattern must be WAIT_FOR_TASK_TOKEN or REQUEST_RESPONSE; got RUN_JOB/],
  ])('fails when %s', (_, props, message) => {
    const { stack, tasker } = setup();
    expect(() => new RedshiftSqlTask(stack, 'RunSql', { tasker, taskTimeout: HOUR, ...props })).toThrow(message);
  });

  test('every problem is reported at once, with the state\'s path', () => {
    const { stack, tasker } = setup();
    expect(() => new RedshiftSqlTask(stack, 'RunSql', { tasker, sql: '', parameters: { 1: '' } }))
      .toThrow(/^Invalid RedshiftSqlTask props \(TestStack\/RunSql\):\n- sql must be .*\n- parameters has .*\n- parameters\.1 must not be empty/);
  });

  test('JSONPath values in a JSONata state fail at synth with the fix', () => {
    const { stack, tasker } = setup();
    const task = RedshiftSqlTask.jsonata(stack, 'RunSql', { tasker, sql: sfn.JsonPath.stringAt('$.sql'), taskTimeout: HOUR });
    expect(() => task.toStateJson()).toThrow(/renders in JSONata but its props use JSONPath values; got \$\.sql\. Use JSONata expressions/);
  });

  test('a waiting task without taskTimeout, or with a heartbeat, gets a warning', () => {
    const { stack, tasker } = setup();
    RedshiftSqlTask.jsonPath(stack, 'NoTimeout', { tasker, sql: 'select 1' });
    RedshiftSqlTask.jsonPath(stack, 'Heartbeat', { tasker, sql: 'select 1', taskTimeout: HOUR, heartbeatTimeout: sfn.Timeout.duration(Duration.minutes(5)) });
    RedshiftSqlTask.jsonPath(stack, 'Fine', { tasker, sql: 'select 1', taskTimeout: HOUR });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue())
      .map((w) => `${w.id}: ${String(w.entry.data)}`);
    expect(warnings).toEqual([
      expect.stringMatching(/^\/TestStack\/NoTimeout: TestStack\/NoTimeout has no taskTimeout: .* waits up to a year .* \[ack: cdk-stepfunctions-redshift:taskTimeout\]$/),
      expect.stringMatching(/^\/TestStack\/Heartbeat: .*nothing sends heartbeats .* \[ack: cdk-stepfunctions-redshift:heartbeatTimeout\]$/),
    ]);
  });
});

test('every rendered machine is valid ASL (asl-validator), in both query languages', () => {
  const { stack, tasker } = setup();
  const machines = ([['JSONPath', RedshiftSqlTask.jsonPath], ['JSONata', RedshiftSqlTask.jsonata]] as const).map(([language, create]) => {
    let chain: sfn.Chain | undefined;
    CASES.forEach((c, index) => {
      const task = create(stack, `${language}${index}`, { tasker, taskTimeout: HOUR, ...(language === 'JSONPath' ? c.jsonPath : c.jsonata) } as any);
      task.addCatch(new sfn.Fail(stack, `${language}Failed${index}`, { error: 'SqlFailed' }), { errors: [SfnRedshiftTaskerErrors.STATEMENT_FAILED] });
      chain = chain === undefined ? sfn.Chain.start(task) : chain.next(task);
    });
    return new sfn.StateMachine(stack, `${language}Machine`, {
      definitionBody: sfn.DefinitionBody.fromChainable(chain!),
      queryLanguage: language === 'JSONata' ? sfn.QueryLanguage.JSONATA : undefined,
    });
  });
  for (const machine of machines) {
    const definition = definitionOf(stack, machine);
    expect(Object.keys(definition.States)).toHaveLength(CASES.length * 2);
    expect(aslErrors(definition)).toBe('');
  }
});

describe('literal SQL against parameters', () => {
  const build = (props: Partial<RedshiftSqlTaskProps>) => {
    const { stack, tasker } = setup();
    return () => new RedshiftSqlTask(stack, 'RunSql', { tasker, taskTimeout: HOUR, ...props });
  };

  test('a name used but not given, and a name given but not used, fail with the fix', () => {
    expect(build({ sql: 'select :a', parameters: { b: '1' } })).toThrow(
      /sql uses :a, which parameters does not give; got parameters \{ b \}\. Add a: '<value>' to parameters, or correct the name in the SQL\.\n- parameters gives b, which sql does not use \(the Data API refuses unused parameters\); got sql "select :a"\. Remove b from parameters, or use :b in the SQL\./);
  });

  test('a name used without parameters fails', () => {
    expect(build({ sql: 'select * from sales where region = :region' })).toThrow(/sql uses :region, which parameters does not give; got no parameters/);
  });

  test('string literals, quoted identifiers, comments, dollar-quoted bodies and ::casts are not parameters', () => {
    const sql = 'select x::int, \':b\', "c:d", $$ :e $$ -- :f\n/* :g */ from t where y = :a';
    expect(build({ sql, parameters: { a: '1' } })).not.toThrow();
    expect(build({ sql: 'select x::int from t' })).not.toThrow();
  });

  test('SQL or parameters known only when the state runs are not checked', () => {
    expect(build({ sql: sfn.JsonPath.stringAt('$.sql'), parameters: { a: '1' } })).not.toThrow();
    const { stack, tasker } = setup();
    expect(() => RedshiftSqlTask.jsonata(stack, 'Jsonata', {
      tasker, taskTimeout: HOUR, sql: '{% $states.input.sql %}', parameters: { a: '{% $states.input.a %}' },
    })).not.toThrow();
    expect(build({ sql: 'select :a', parameters: { a: sfn.JsonPath.stringAt('$.a') } })).not.toThrow();
  });

  test('a :name in sqlStatements must be given too', () => {
    expect(build({ sqlStatements: ['delete from t', 'insert into t values (:a)'] })).toThrow(
      /sqlStatements\[1\] uses :a, which parameters does not give; got no parameters\. Add a: '<value>' to parameters, or correct the name in the SQL\./);
    expect(build({ sqlStatements: ['delete from t', 'insert into t values (1)'] })).not.toThrow();
  });
});
