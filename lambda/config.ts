/**
 * The function's configuration, read once per cold start from the environment (names in the contract's `Env`).
 */
import { ConfigurationError } from './errors';
import { Defaults, Env, LOG_LEVELS } from '../src/contract';

/** Where statements run: a provisioned cluster or a Redshift Serverless workgroup. */
export type Target = { readonly clusterIdentifier: string } | { readonly workgroupName: string };

export interface Config {
  readonly tableName: string;
  readonly target: Target;
  readonly database: string;
  /** Temporary credentials for this database user (clusters only). */
  readonly dbUser?: string;
  /** Secrets Manager secret with the database credentials. */
  readonly secretArn?: string;
  /** Days a handled item stays in the tracking table. */
  readonly ttlDays: number;
  readonly logLevel: LogLevel;
  /** AWS region the function runs in (names ad-hoc statements). */
  readonly region: string;
  /**
   * This function's name (`AWS_LAMBDA_FUNCTION_NAME`, set by Lambda): recorded on the statements it starts, so that
   * its reconciler finds them and a completer in another function can ask it for their error text.
   */
  readonly functionName?: string;
  /** Whether reconciler sweeps cancel statements whose caller no longer waits. */
  readonly cancelOrphans: boolean;
  /** Seconds a start waits for its statement to end (fast path); 0: off. */
  readonly fastPathWaitSeconds: number;
  /** Whether CloudFormation response URLs may point at this machine (local stand-ins only). */
  readonly loopbackResponseUrls: boolean;
}

export type LogLevel = typeof LOG_LEVELS[number];

type Environment = Record<string, string | undefined>;

function optional(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(env: Environment, name: string, expected: string): string {
  const value = optional(env, name);
  if (value === undefined) {
    throw new ConfigurationError(`Environment variable ${name} is missing or empty; expected ${expected}.`);
  }
  return value;
}

/**
 * Reads and validates the configuration.
 * @throws ConfigurationError naming the variable, the value received and what is expected
 */
export function readConfig(env: Environment): Config {
  const tableName = required(env, Env.TABLE_NAME, 'the name of the DynamoDB tracking table');
  const clusterIdentifier = optional(env, Env.CLUSTER_IDENTIFIER);
  const workgroupName = optional(env, Env.WORKGROUP_NAME);
  if ((clusterIdentifier === undefined) === (workgroupName === undefined)) {
    throw new ConfigurationError(
      `Exactly one of ${Env.CLUSTER_IDENTIFIER} and ${Env.WORKGROUP_NAME} must be set; got `
      + `${Env.CLUSTER_IDENTIFIER}=${JSON.stringify(clusterIdentifier ?? '')} and `
      + `${Env.WORKGROUP_NAME}=${JSON.stringify(workgroupName ?? '')}. Set ${Env.CLUSTER_IDENTIFIER} for a `
      + `provisioned cluster or ${Env.WORKGROUP_NAME} for Redshift Serverless.`);
  }
  const database = required(env, Env.DATABASE, 'the name of the database statements run in');
  const dbUser = optional(env, Env.DB_USER);
  const secretArn = optional(env, Env.SECRET_ARN);
  if (dbUser !== undefined && secretArn !== undefined) {
    throw new ConfigurationError(
      `${Env.DB_USER} (${JSON.stringify(dbUser)}) and ${Env.SECRET_ARN} cannot both be set; choose temporary `
      + `credentials for a database user (${Env.DB_USER}) or a Secrets Manager secret (${Env.SECRET_ARN}).`);
  }
  if (dbUser !== undefined && workgroupName !== undefined) {
    throw new ConfigurationError(
      `${Env.DB_USER} (${JSON.stringify(dbUser)}) only works with ${Env.CLUSTER_IDENTIFIER}; Redshift Serverless `
      + `(${Env.WORKGROUP_NAME}=${JSON.stringify(workgroupName)}) uses IAM identity or ${Env.SECRET_ARN}. Unset ${Env.DB_USER}.`);
  }
  if (secretArn !== undefined && !/^arn:[\w-]+:secretsmanager:/.test(secretArn)) {
    throw new ConfigurationError(
      `${Env.SECRET_ARN} must be a Secrets Manager secret ARN (arn:<partition>:secretsmanager:...); got ${JSON.stringify(secretArn)}.`);
  }

  const ttlText = optional(env, Env.TTL_DAYS);
  const ttlDays = ttlText === undefined ? Defaults.TTL_DAYS : Number(ttlText);
  if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > Defaults.MAX_TTL_DAYS) {
    throw new ConfigurationError(
      `${Env.TTL_DAYS} must be a whole number of days between 1 and ${Defaults.MAX_TTL_DAYS} to keep handled items; got ${JSON.stringify(ttlText)}.`);
  }

  const logLevelText = (optional(env, Env.LOG_LEVEL) ?? Defaults.LOG_LEVEL).toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelText)) {
    throw new ConfigurationError(
      `${Env.LOG_LEVEL} must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(env[Env.LOG_LEVEL])}.`);
  }

  const cancelText = (optional(env, Env.CANCEL_ORPHANS) ?? 'true').toLowerCase();
  if (cancelText !== 'true' && cancelText !== 'false') {
    throw new ConfigurationError(`${Env.CANCEL_ORPHANS} must be true or false; got ${JSON.stringify(env[Env.CANCEL_ORPHANS])}.`);
  }

  const waitText = optional(env, Env.FAST_PATH_WAIT_SECONDS);
  const fastPathWaitSeconds = waitText === undefined ? Defaults.FAST_PATH_WAIT_SECONDS : Number(waitText);
  if (!Number.isInteger(fastPathWaitSeconds) || fastPathWaitSeconds < 0 || fastPathWaitSeconds > Defaults.MAX_FAST_PATH_WAIT_SECONDS) {
    throw new ConfigurationError(`${Env.FAST_PATH_WAIT_SECONDS} must be a whole number of seconds from 0 (off) to `
      + `${Defaults.MAX_FAST_PATH_WAIT_SECONDS}; got ${JSON.stringify(waitText)}. Set the construct's fastPathWaitTime (it sets this `
      + 'variable), or fix it on the function.');
  }

  const region = required(env, 'AWS_REGION', 'the AWS region (set by the Lambda runtime)');
  const functionName = optional(env, 'AWS_LAMBDA_FUNCTION_NAME');
  const target: Target = clusterIdentifier !== undefined ? { clusterIdentifier } : { workgroupName: workgroupName! };
  return {
    tableName,
    target,
    database,
    dbUser,
    secretArn,
    ttlDays,
    logLevel: logLevelText as LogLevel,
    region,
    ...functionName !== undefined ? { functionName } : {},
    cancelOrphans: cancelText === 'true',
    fastPathWaitSeconds,
    loopbackResponseUrls: optional(env, Env.LOOPBACK_RESPONSE_URLS) === 'true',
  };
}

/** The Data API target and authentication parameters for this configuration. */
export function targetParameters(config: Config): {
  ClusterIdentifier?: string; WorkgroupName?: string; Database: string; DbUser?: string; SecretArn?: string;
} {
  return {
    ...'clusterIdentifier' in config.target
      ? { ClusterIdentifier: config.target.clusterIdentifier }
      : { WorkgroupName: config.target.workgroupName },
    Database: config.database,
    ...config.dbUser !== undefined ? { DbUser: config.dbUser } : {},
    ...config.secretArn !== undefined ? { SecretArn: config.secretArn } : {},
  };
}
