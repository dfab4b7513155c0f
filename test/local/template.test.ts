import { matchesPattern } from '../../local/cloud';
import { asCloudFormationProperties, LocalTemplate } from '../../local/cloudformation/template';
import { applyRedshiftRewrites, bindNamedParameters, namedParameters, segments } from '../../local/redshift-data/sql-text';

const template = new LocalTemplate({
  Resources: {
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { TABLE: { Ref: 'Table' }, CLUSTER: { Ref: 'Cluster' } } } } },
    Table: { Type: 'AWS::DynamoDB::Table' },
    Cluster: { Type: 'AWS::Redshift::Cluster' },
    Machine: { Type: 'AWS::StepFunctions::StateMachine' },
    Queue: { Type: 'AWS::SQS::Queue' },
    First: { Type: 'Custom::Sql', Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
    Second: { Type: 'Custom::Sql', Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Other: { Ref: 'First' } } },
    Third: { Type: 'Custom::Sql', DependsOn: ['Second', 'Fn'], Properties: { ServiceToken: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
    Alone: { Type: 'AWS::CloudFormation::CustomResource', Properties: { ServiceToken: 'x' } },
  },
}, { region: 'eu-west-1', accountId: '123456789012', stackName: 'stack' });

describe('LocalTemplate', () => {
  test('Ref and Fn::GetAtt give local names and ARNs', () => {
    expect(template.resolve({ Ref: 'Table' })).toBe('Table');
    expect(template.resolve({ Ref: 'Cluster' })).toBe('cluster');
    expect(template.resolve({ Ref: 'Machine' })).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:Machine');
    expect(template.resolve({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe('arn:aws:lambda:eu-west-1:123456789012:function:Fn');
    expect(template.resolve({ 'Fn::GetAtt': 'Queue.Arn' })).toBe('arn:aws:sqs:eu-west-1:123456789012:Queue');
    expect(template.resolve({ Ref: 'Queue' })).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/Queue');
  });

  test('Fn::Join, Fn::Sub, Fn::Select, Fn::Split and pseudo parameters', () => {
    expect(template.resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:::x ', { 'Fn::GetAtt': ['Fn', 'Arn'] }]] }))
      .toBe('arn:aws:states:::x arn:aws:lambda:eu-west-1:123456789012:function:Fn');
    expect(template.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:redshift:${AWS::Region}:${AWS::AccountId}:dbname:${Cluster}/dev' }))
      .toBe('arn:aws:redshift:eu-west-1:123456789012:dbname:cluster/dev');
    expect(template.resolve({ 'Fn::Sub': ['${Name}-${Fn.Arn}', { Name: 'n' }] })).toBe('n-arn:aws:lambda:eu-west-1:123456789012:function:Fn');
    expect(template.resolve({ 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] })).toBe('b');
    expect(template.resolve({ nested: [{ Ref: 'AWS::StackName' }, 1, true, null] })).toEqual({ nested: ['stack', 1, true, null] });
  });

  test('custom resources come in dependency waves (DependsOn and references)', () => {
    expect(template.customResourceWaves()).toEqual([['First', 'Alone'], ['Second'], ['Third']]);
    expect([...template.dependencies('Third')].sort()).toEqual(['Fn', 'Second']);
  });

  test('CloudFormation hands scalar properties over as strings', () => {
    expect(asCloudFormationProperties({ a: true, b: 3, c: ['x', 1], d: { e: false }, f: null, g: 's' }))
      .toEqual({ a: 'true', b: '3', c: ['x', '1'], d: { e: 'false' }, f: null, g: 's' });
  });
});

describe('EventBridge patterns', () => {
  const event = { 'source': 'aws.redshift-data', 'detail-type': 'Redshift Data Statement Status Change', 'detail': { state: 'FINISHED' } };
  test('matches lists of values and nested objects', () => {
    expect(matchesPattern({ 'source': ['aws.redshift-data'], 'detail-type': ['Redshift Data Statement Status Change'] }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: ['FAILED', 'FINISHED'] } }, event)).toBe(true);
    expect(matchesPattern({ source: ['aws.s3'] }, event)).toBe(false);
    expect(matchesPattern({ detail: { state: ['ABORTED'] } }, event)).toBe(false);
    expect(matchesPattern({ missing: ['x'] }, event)).toBe(false);
  });

  test('matches wildcards: the tasker rule admits the statement names taskers give, and no others', () => {
    const named = (statementName: string) => ({ ...event, detail: { ...event.detail, statementName } });
    const rule = { detail: { statementName: [{ wildcard: '*:*.*' }] } };
    expect(matchesPattern(rule, named('arn:aws:states:eu-west-1:123456789012:execution:M:run-1:1764000000.123000417305912'))).toBe(true);
    expect(matchesPattern(rule, named('CreateTable:283764915502.118839201746519'))).toBe(true);
    expect(matchesPattern(rule, named('test.testtable'))).toBe(false);
    expect(matchesPattern(rule, named('daily-refresh'))).toBe(false);
    expect(matchesPattern(rule, { ...event })).toBe(false);
    expect(matchesPattern({ detail: { statementName: [{ wildcard: 'a(b)*' }] } }, named('a(b)c'))).toBe(true);
  });
});

describe('SQL text', () => {
  test('segments keep strings, quoted identifiers, dollar quotes and comments apart from code', () => {
    const sql = 'select \':a\', "b:c", $$ :d $$, $t$ x $t$ -- :e\n, /* :f /* nested */ */ :g, E\'\\\' :h\'';
    expect(segments(sql).filter((s) => s.kind === 'literal').map((s) => s.text)).toEqual([
      '\':a\'', '"b:c"', '$$ :d $$', '$t$ x $t$', '-- :e', '/* :f /* nested */ */', '\'\\\' :h\'', // E'…' escapes: the E stays in the code
    ]);
    expect(namedParameters(sql)).toEqual(['g']);
  });

  test('named parameters become positional; casts stay', () => {
    const sql = 'select :id::int, :name, :id + 1 from t where x = \':id\'';
    expect(namedParameters(sql)).toEqual(['id', 'name']);
    expect(bindNamedParameters(sql, ['id', 'name'])).toBe('select $1::int, $2, $1 + 1 from t where x = \':id\'');
  });

  test('Redshift rewrites: SYSDATE, and user options PostgreSQL lacks (only in user statements)', () => {
    expect(applyRedshiftRewrites('select sysdate, \'sysdate\'')).toBe('select localtimestamp, \'sysdate\'');
    expect(applyRedshiftRewrites('CREATE USER u PASSWORD DISABLE CREATEUSER SYSLOG ACCESS UNRESTRICTED CONNECTION LIMIT UNLIMITED SESSION TIMEOUT 60'))
      .toBe('CREATE USER u PASSWORD NULL SUPERUSER  CONNECTION LIMIT -1 ');
    expect(applyRedshiftRewrites('ALTER USER u NOCREATEUSER')).toBe('ALTER USER u NOSUPERUSER');
    expect(applyRedshiftRewrites('ALTER USER u RESET SESSION TIMEOUT')).toBe('ALTER USER u ');
    expect(applyRedshiftRewrites('select \'createuser\' as createuser')).toBe('select \'createuser\' as createuser');
  });

  test('a busy-wait loop in a procedure body sleeps between turns; other loops and statements are left alone', () => {
    const body = '$$ BEGIN WHILE now() < x LOOP\n    NULL;\n  END LOOP; END; $$';
    expect(applyRedshiftRewrites(`CREATE OR REPLACE PROCEDURE p() AS ${body} LANGUAGE plpgsql`))
      .toBe('CREATE OR REPLACE PROCEDURE p() AS $$ BEGIN WHILE now() < x LOOP PERFORM pg_sleep(0.01); END LOOP; END; $$ LANGUAGE plpgsql');
    const working = 'CREATE PROCEDURE p() AS $$ BEGIN LOOP i := i + 1; END LOOP; END; $$ LANGUAGE plpgsql';
    expect(applyRedshiftRewrites(working)).toBe(working);
    expect(applyRedshiftRewrites(`select ${body}`)).toBe(`select ${body}`);
  });
});
