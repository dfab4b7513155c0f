/** Validation of Data API requests, with the service's rules and wording where known. */
import { applyRedshiftRewrites, bindNamedParameters, namedParameters } from './sql-text';
import { DataApiLimits, validation } from './types';

// -------------------------------------------------------------------------------------------------------------------
export interface Target {
  clusterIdentifier?: string;
  workgroupName?: string;
  database: string;
  dbUser?: string;
  secretArn?: string;
}

export function validateTarget(input: Record<string, unknown>, options: { clusters?: readonly string[]; workgroups?: readonly string[] }): Target {
  const clusterIdentifier = optionalString(input.ClusterIdentifier, 'clusterIdentifier', 63);
  const workgroupName = optionalString(input.WorkgroupName, 'workgroupName', 2048);
  const dbUser = optionalString(input.DbUser, 'dbUser', 128);
  const secretArn = optionalString(input.SecretArn, 'secretArn', 2048);
  const database = optionalString(input.Database, 'database', 64);
  if (clusterIdentifier && workgroupName) {
    throw validation('ClusterIdentifier and WorkgroupName cannot both be specified. Specify one or the other.');
  }
  if (!clusterIdentifier && !workgroupName) {
    throw validation('Either ClusterIdentifier or WorkgroupName must be specified.');
  }
  if (dbUser && secretArn) throw validation('DbUser and SecretArn cannot both be specified. Specify one or the other.');
  if (dbUser && workgroupName) throw validation('DbUser is not supported for a serverless workgroup; use temporary IAM credentials or SecretArn.');
  if (!database) throw validation('Database must be specified when connecting with temporary credentials or a secret.');
  if (clusterIdentifier && options.clusters && !options.clusters.includes(clusterIdentifier)) {
    throw validation("Redshift endpoint doesn't exist in this region.");
  }
  if (workgroupName && options.workgroups && !options.workgroups.includes(workgroupName.split('/').pop()!)) {
    throw validation("Redshift endpoint doesn't exist in this region.");
  }
  return { clusterIdentifier, workgroupName, database, dbUser, secretArn };
}

export function validateSql(value: unknown): string {
  if (value === undefined || value === null) {
    throw validation("1 validation error detected: Value null at 'sql' failed to satisfy constraint: Member must not be null");
  }
  const sql = String(value);
  if (sql.length < 1 || sql.trim() === '') throw validation('SQL statement cannot be empty.');
  if (sql.length > DataApiLimits.SQL_CHARS) {
    throw validation(`1 validation error detected: Value at 'sql' failed to satisfy constraint: Member must have length less than or equal to ${DataApiLimits.SQL_CHARS}`);
  }
  return sql;
}

export function validateSqls(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw validation("1 validation error detected: Value null at 'sqls' failed to satisfy constraint: Member must not be null");
  }
  if (value.length < 1 || value.length > DataApiLimits.BATCH_SQLS) {
    throw validation(`1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to ${DataApiLimits.BATCH_SQLS} and greater than or equal to 1`);
  }
  return value.map((sql) => validateSql(sql));
}

export function optionalString(value: unknown, member: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  if (text.length > max) {
    throw validation(`1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  }
  return text;
}

export function requiredString(value: unknown, member: string): string {
  if (value === undefined || value === null || value === '') {
    throw validation(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return String(value);
}

export function validateParameters(value: unknown): Array<{ name: string; value: string }> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw validation("1 validation error detected: Value at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1");
  }
  const seen = new Set<string>();
  return value.map((p: { name?: unknown; value?: unknown }, index) => {
    const name = p?.name === undefined || p?.name === null ? '' : String(p.name);
    const parameterValue = p?.value === undefined || p?.value === null ? '' : String(p.value);
    if (!name) throw validation(`1 validation error detected: Value null at 'parameters.${index + 1}.member.name' failed to satisfy constraint: Member must not be null`);
    if (!/^[0-9a-zA-Z_]+$/.test(name)) throw validation(`Parameter name '${name}' is invalid: use letters, digits and underscores only.`);
    if (!parameterValue) {
      throw validation(`1 validation error detected: Value at 'parameters.${index + 1}.member.value' failed to satisfy constraint: Member must have length greater than or equal to 1`);
    }
    if (seen.has(name)) throw validation(`Parameter '${name}' is specified more than once.`);
    seen.add(name);
    return { name, value: parameterValue };
  });
}

/** Binds `:name` parameters to positional ones and applies the Redshift rewrites. */
export function bindParameters(
  sqls: string[], parameters: Array<{ name: string; value: string }> | undefined,
): { sqls: string[]; params?: string[][] } {
  if (!parameters) return { sqls: sqls.map(applyRedshiftRewrites) };
  const used = new Set<string>();
  const bound = sqls.map((sql) => {
    const names = namedParameters(sql);
    for (const name of names) {
      if (!parameters.some((p) => p.name === name)) {
        throw validation(`The SQL statement references parameter '${name}', which is not in Parameters.`);
      }
      used.add(name);
    }
    const values = names.map((name) => parameters.find((p) => p.name === name)!.value);
    return { sql: applyRedshiftRewrites(bindNamedParameters(sql, names)), values };
  });
  const unused = parameters.filter((p) => !used.has(p.name)).map((p) => p.name);
  if (unused.length) throw validation(`Parameters ${unused.map((n) => `'${n}'`).join(', ')} are not used in the SQL statement.`);
  return { sqls: bound.map((b) => b.sql), params: bound.map((b) => b.values) };
}


/** `ExecutionMode` of BatchExecuteStatement: TRANSACTION (the default) or AUTO_COMMIT. */
export function validateExecutionMode(value: unknown): 'TRANSACTION' | 'AUTO_COMMIT' | undefined {
  if (value === undefined || value === null) return undefined;
  if (value !== 'TRANSACTION' && value !== 'AUTO_COMMIT') {
    throw validation(`1 validation error detected: Value '${String(value)}' at 'executionMode' failed to satisfy constraint: `
      + 'Member must satisfy enum value set: [TRANSACTION, AUTO_COMMIT]');
  }
  return value;
}

/** `WaitTimeSeconds`: 0 to 30 whole seconds, or absent. */
export function validateWaitTime(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw validation(`1 validation error detected: Value '${value}' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value greater than or equal to 0`);
  }
  if (seconds > DataApiLimits.MAX_WAIT_SECONDS) {
    throw validation(`1 validation error detected: Value '${value}' at 'waitTimeSeconds' failed to satisfy constraint: `
      + `Member must have value less than or equal to ${DataApiLimits.MAX_WAIT_SECONDS}`);
  }
  return seconds;
}
