/** The local runner's SQL dialect rules, SQL file splitting and mock configuration reading (pure functions). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockAnswer, MockConfigError, readMockConfig, TaskMocks, validateMockConfig } from '../../local/mocks';
import { applyRedshiftRewrites } from '../../local/redshift-data/sql-text';
import { splitSql } from '../../local/sql-files';

describe('Redshift dialect', () => {
  test('physical-design clauses of a table are dropped, strings kept', () => {
    expect(applyRedshiftRewrites('create table t (id int distkey sortkey encode az64, s varchar(9) default \'diststyle all\') diststyle key compound sortkey (id, s) backup no'))
      .toBe('create table t (id int   , s varchar(9) default \'diststyle all\')   ');
    expect(applyRedshiftRewrites('create table t (id int) diststyle auto sortkey auto encode auto')).toBe('create table t (id int)   ');
  });

  test('outside table DDL the words are left alone', () => {
    expect(applyRedshiftRewrites('select encode(x, \'hex\') from t')).toBe('select encode(x, \'hex\') from t');
  });

  test.each([
    ['unload (\'select 1\') to \'s3://b/p\' iam_role default', 'UNLOAD'],
    ['copy t from \'s3://b/p\' iam_role \'arn:aws:iam::1:role/r\'', 'COPY from Amazon S3'],
    ['create table t (doc super)', 'SUPER'],
    ['select json_parse(\'{}\')', 'JSON_PARSE'],
    ['create external schema s from data catalog database \'d\'', 'CREATE EXTERNAL SCHEMA/TABLE (Spectrum)'],
  ])('%s fails saying %s is Redshift-only', (sql, name) => {
    const rewritten = applyRedshiftRewrites(sql);
    expect(rewritten).toMatch(/^DO \$redshift_only\$ BEGIN RAISE EXCEPTION/);
    expect(rewritten).toContain(`${name} is Redshift-only`);
  });
});

test('SQL files split at semicolons outside strings and comments', () => {
  expect(splitSql('create table a (s text default \';\'); -- one; two\ninsert into a values (\'x;y\');\n\n/* done; */')).toEqual([
    'create table a (s text default \';\')',
    '-- one; two\ninsert into a values (\'x;y\')',
  ]);
});

describe('mock configuration (Step Functions Local format)', () => {
  const response = { '0': { Throw: { Error: 'E0' } }, '1-2': { Throw: { Error: 'E12' } }, '3': { Return: { ok: true } } };

  test('answers by call number and range; past the last, the last again', () => {
    expect([0, 1, 2, 3, 7].map((call) => mockAnswer(response as never, call))).toEqual([
      response['0'], response['1-2'], response['1-2'], response['3'], response['3'],
    ]);
  });

  test('a test case answers the states it names, per execution', () => {
    const mocks = new TaskMocks({ StateMachines: { M: { TestCases: { T: { S: 'R' } } } }, MockedResponses: { R: response } } as never, 'T', () => ['M']);
    const call = { machineName: 'M', executionArn: 'e1', stateName: 'S', resource: 'arn:aws:states:::sns:publish', parameters: {} };
    expect(() => mocks.answer(call)).toThrow(expect.objectContaining({ name: 'E0' }));
    expect(() => mocks.answer(call)).toThrow(expect.objectContaining({ name: 'E12' }));
    expect(() => mocks.answer({ ...call, executionArn: 'e2' })).toThrow(expect.objectContaining({ name: 'E0' }));
    expect(mocks.answer({ ...call, stateName: 'Other' })).toBeUndefined();
  });

  test('errors name the entry at fault', () => {
    expect(() => validateMockConfig({ StateMachines: { M: { TestCases: { T: { S: 'Missing' } } } }, MockedResponses: {} }))
      .toThrow('StateMachines.M.TestCases.T.S names the mocked response "Missing", which MockedResponses does not define');
    expect(() => validateMockConfig({ MockedResponses: { R: { 0: { Return: 1, Throw: { Error: 'E' } } } } }))
      .toThrow('MockedResponses.R."0" must have exactly one of Return or Throw');
    expect(() => validateMockConfig({ MockedResponses: { R: { 0: { Throw: { Cause: 'c' } } } } })).toThrow(MockConfigError);
    const dir = mkdtempSync(join(tmpdir(), 'mocks-test-'));
    try {
      writeFileSync(join(dir, 'bad.json'), '{ not json');
      expect(() => readMockConfig(join(dir, 'bad.json'))).toThrow(/Cannot read the mock configuration .*bad\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
