import { readConfig, targetParameters } from '../../lambda/config';
import { ConfigurationError } from '../../lambda/errors';

const BASE = { DDB_TABLE_NAME: 'table', CLUSTER_IDENTIFIER: 'cluster', DATABASE: 'dev', AWS_REGION: 'eu-west-1' };

describe('readConfig', () => {
  test('reads a cluster with a database user, the original configuration', () => {
    const config = readConfig({ ...BASE, DB_USER: 'admin', TTL: '3', LOG_LEVEL: 'debug' });
    expect(config).toEqual({
      tableName: 'table',
      target: { clusterIdentifier: 'cluster' },
      database: 'dev',
      dbUser: 'admin',
      secretArn: undefined,
      ttlDays: 3,
      fastPathWaitSeconds: 2,
      loopbackResponseUrls: false,
      logLevel: 'DEBUG',
      region: 'eu-west-1',
      cancelOrphans: true,
    });
    expect(targetParameters(config)).toEqual({ ClusterIdentifier: 'cluster', Database: 'dev', DbUser: 'admin' });
  });

  test('reads a Serverless workgroup with a secret; TTL and LOG_LEVEL default', () => {
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rs-AbCdEf';
    const config = readConfig({ ...BASE, CLUSTER_IDENTIFIER: undefined, WORKGROUP_NAME: 'wg', SECRET_ARN: secret });
    expect(config.ttlDays).toBe(1);
    expect(config.logLevel).toBe('INFO');
    expect(targetParameters(config)).toEqual({ WorkgroupName: 'wg', Database: 'dev', SecretArn: secret });
  });

  test('FAST_PATH_WAIT_SECONDS: 0 turns the fast path off; absent means the default', () => {
    expect(readConfig({ ...BASE, FAST_PATH_WAIT_SECONDS: '0' }).fastPathWaitSeconds).toBe(0);
    expect(readConfig({ ...BASE, FAST_PATH_WAIT_SECONDS: '30' }).fastPathWaitSeconds).toBe(30);
    expect(readConfig(BASE).fastPathWaitSeconds).toBe(2);
  });

  test('IAM identity: neither DB_USER nor SECRET_ARN', () => {
    expect(targetParameters(readConfig(BASE))).toEqual({ ClusterIdentifier: 'cluster', Database: 'dev' });
  });

  test.each([
    ['DDB_TABLE_NAME missing', { ...BASE, DDB_TABLE_NAME: undefined }, /DDB_TABLE_NAME is missing/],
    ['DATABASE empty', { ...BASE, DATABASE: ' ' }, /DATABASE is missing or empty/],
    ['neither target', { ...BASE, CLUSTER_IDENTIFIER: undefined }, /Exactly one of CLUSTER_IDENTIFIER and WORKGROUP_NAME/],
    ['both targets', { ...BASE, WORKGROUP_NAME: 'wg' }, /Exactly one of CLUSTER_IDENTIFIER and WORKGROUP_NAME.*"cluster".*"wg"/],
    ['DB_USER with SECRET_ARN', { ...BASE, DB_USER: 'a', SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' }, /cannot both be set/],
    ['DB_USER with a workgroup', { ...BASE, CLUSTER_IDENTIFIER: undefined, WORKGROUP_NAME: 'wg', DB_USER: 'a' }, /DB_USER \("a"\) only works with CLUSTER_IDENTIFIER/],
    ['SECRET_ARN not an ARN', { ...BASE, SECRET_ARN: 'my-secret' }, /SECRET_ARN must be a Secrets Manager secret ARN.*"my-secret"/],
    ['TTL not a number', { ...BASE, TTL: 'one' }, /TTL must be a whole number of days.*"one"/],
    ['TTL fractional', { ...BASE, TTL: '1.5' }, /TTL must be a whole number/],
    ['TTL zero', { ...BASE, TTL: '0' }, /TTL must be a whole number/],
    ['LOG_LEVEL unknown', { ...BASE, LOG_LEVEL: 'LOUD' }, /LOG_LEVEL must be one of .*"LOUD"/],
    ['AWS_REGION missing', { ...BASE, AWS_REGION: undefined }, /AWS_REGION is missing/],
    ['FAST_PATH_WAIT_SECONDS over 30', { ...BASE, FAST_PATH_WAIT_SECONDS: '31' }, /FAST_PATH_WAIT_SECONDS must be a whole number of seconds from 0 \(off\) to 30; got "31"/],
    ['FAST_PATH_WAIT_SECONDS fractional', { ...BASE, FAST_PATH_WAIT_SECONDS: '0.5' }, /FAST_PATH_WAIT_SECONDS must be a whole number/],
  ])('fails when %s', (_, env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigurationError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
