/**
 * `manage_user`: a Redshift database user described by the resource properties (CREATE on Create, the ALTER
 * statements that turn the old properties into the new ones on Update, DROP on Delete).
 *
 * Groups must exist (create them with a `RedshiftSql` resource the user resource depends on): Redshift has no
 * `CREATE GROUP IF NOT EXISTS`, and a group this resource created on the side would have no owner to drop it.
 * Passwords are accepted only as MD5 hashes (`'md5' || md5(password || username)`), never in plain text.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { Plan, noSql, sql } from './plan';
import {
  Properties, PropertyError, parseBoolean, parseIdentifier, parseIdentifierList, parseInteger, parseOptionalString,
  quoteIdentifier, quoteLiteral, rejectUnknown, show,
} from './properties';

/** The resource's property names (the original's names). */
export const UserProperty = {
  USERNAME: 'username',
  PASSWORD: 'password',
  CREATE_DB: 'create_db',
  CREATE_USER: 'create_user',
  UNRESTRICTED_SYSLOG_ACCESS: 'unrestricted_syslog_access',
  GROUPS: 'groups',
  VALID_UNTIL: 'valid_until',
  CONNECTION_LIMIT: 'connection_limit',
  SESSION_TIMEOUT: 'session_timeout',
} as const;

/** `connection_limit` / `session_timeout` value meaning "not limited" / "the cluster default". */
export const NOT_SET = -1;
/** Redshift's session timeout range (seconds). */
export const SESSION_TIMEOUT_RANGE = { min: 60, max: 1_728_000 } as const;

const MD5_PASSWORD = /^md5[0-9a-f]{32}$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/;

export interface UserProperties {
  readonly username: string;
  /** MD5 hash; `undefined` gives `PASSWORD DISABLE` (the user signs in with temporary IAM credentials only). */
  readonly password?: string;
  readonly createDb: boolean;
  readonly createUser: boolean;
  readonly unrestrictedSyslogAccess: boolean;
  readonly groups: string[];
  /** Password expiry, `YYYY-MM-DD[ HH:MM[:SS]]` or `infinity`. */
  readonly validUntil?: string;
  /** `NOT_SET` for unlimited. */
  readonly connectionLimit: number;
  /** Seconds; `NOT_SET` for the cluster default. */
  readonly sessionTimeout: number;
}

/** Validates and normalises the resource properties. */
export function parseUserProperties(properties: Properties): UserProperties {
  rejectUnknown(properties, Object.values(UserProperty));
  const username = parseIdentifier(properties[UserProperty.USERNAME], `"${UserProperty.USERNAME}"`);
  const password = parseOptionalString(properties, UserProperty.PASSWORD);
  if (password !== undefined && !MD5_PASSWORD.test(password)) {
    throw new PropertyError(`"${UserProperty.PASSWORD}" must be an MD5 hash: "md5" followed by 32 lowercase hex digits `
      + `(md5 of the password followed by the user name); plain-text passwords are refused. Got a ${password.length}-character value`
      + `${password.startsWith('md5') ? ' that is not a valid hash' : ' that does not start with "md5"'}.`);
  }
  const validUntil = parseOptionalString(properties, UserProperty.VALID_UNTIL);
  if (validUntil !== undefined) checkTimestamp(validUntil);
  const sessionTimeout = parseInteger(properties, UserProperty.SESSION_TIMEOUT, NOT_SET, NOT_SET, SESSION_TIMEOUT_RANGE.max);
  if (sessionTimeout !== NOT_SET && sessionTimeout < SESSION_TIMEOUT_RANGE.min) {
    throw new PropertyError(`"${UserProperty.SESSION_TIMEOUT}" must be ${NOT_SET} (cluster default) or from `
      + `${SESSION_TIMEOUT_RANGE.min} to ${SESSION_TIMEOUT_RANGE.max} seconds, got ${show(properties[UserProperty.SESSION_TIMEOUT])}.`);
  }
  return {
    username,
    password,
    createDb: parseBoolean(properties, UserProperty.CREATE_DB, false),
    createUser: parseBoolean(properties, UserProperty.CREATE_USER, false),
    unrestrictedSyslogAccess: parseBoolean(properties, UserProperty.UNRESTRICTED_SYSLOG_ACCESS, false),
    groups: parseIdentifierList(properties, UserProperty.GROUPS),
    validUntil,
    connectionLimit: parseInteger(properties, UserProperty.CONNECTION_LIMIT, NOT_SET, NOT_SET, 2_147_483_647),
    sessionTimeout,
  };
}

function checkTimestamp(value: string): void {
  if (value === 'infinity') return;
  const match = TIMESTAMP.exec(value);
  const [year, month, day, hour, minute, second] = (match?.slice(1) ?? []).map((part) => Number(part ?? 0));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const valid = match !== null && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1
    && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
  if (!valid) {
    throw new PropertyError(`"${UserProperty.VALID_UNTIL}" must be a date "YYYY-MM-DD", a timestamp "YYYY-MM-DD HH:MM[:SS]" `
      + `or "infinity", got ${show(value)}.`);
  }
}

const passwordClause = (user: UserProperties) => (user.password === undefined ? 'DISABLE' : quoteLiteral(user.password));

/** `CREATE USER` with every property that differs from Redshift's default. */
export function createUserSql(user: UserProperties): string {
  const parts = [`CREATE USER ${quoteIdentifier(user.username)} PASSWORD ${passwordClause(user)}`];
  if (user.createDb) parts.push('CREATEDB');
  if (user.createUser) parts.push('CREATEUSER');
  if (user.unrestrictedSyslogAccess) parts.push('SYSLOG ACCESS UNRESTRICTED');
  if (user.groups.length > 0) parts.push(`IN GROUP ${user.groups.map(quoteIdentifier).join(', ')}`);
  if (user.validUntil !== undefined) parts.push(`VALID UNTIL ${quoteLiteral(user.validUntil)}`);
  if (user.connectionLimit !== NOT_SET) parts.push(`CONNECTION LIMIT ${user.connectionLimit}`);
  if (user.sessionTimeout !== NOT_SET) parts.push(`SESSION TIMEOUT ${user.sessionTimeout}`);
  return parts.join(' ');
}

/**
 * The statements that turn `old` into `next` (one attribute each, run in one transaction); empty when nothing
 * changed. A rename comes first. Redshift clears an MD5 password on rename (the user name salts the hash), so the
 * password is set again after a rename, from `next.password`: give the hash computed with the new user name.
 */
export function alterUserSql(old: UserProperties, next: UserProperties): string[] {
  const statements: string[] = [];
  const user = quoteIdentifier(next.username);
  const renamed = old.username !== next.username;
  if (renamed) statements.push(`ALTER USER ${quoteIdentifier(old.username)} RENAME TO ${user}`);
  if (old.createDb !== next.createDb) statements.push(`ALTER USER ${user} ${next.createDb ? 'CREATEDB' : 'NOCREATEDB'}`);
  if (old.createUser !== next.createUser) statements.push(`ALTER USER ${user} ${next.createUser ? 'CREATEUSER' : 'NOCREATEUSER'}`);
  if (old.unrestrictedSyslogAccess !== next.unrestrictedSyslogAccess) {
    statements.push(`ALTER USER ${user} SYSLOG ACCESS ${next.unrestrictedSyslogAccess ? 'UNRESTRICTED' : 'RESTRICTED'}`);
  }
  if (old.password !== next.password || old.validUntil !== next.validUntil || (renamed && next.password !== undefined)) {
    const validUntil = next.validUntil ?? (old.validUntil !== undefined ? 'infinity' : undefined);
    statements.push(`ALTER USER ${user} PASSWORD ${passwordClause(next)}`
      + (validUntil === undefined ? '' : ` VALID UNTIL ${quoteLiteral(validUntil)}`));
  }
  if (old.connectionLimit !== next.connectionLimit) {
    statements.push(`ALTER USER ${user} CONNECTION LIMIT ${next.connectionLimit === NOT_SET ? 'UNLIMITED' : next.connectionLimit}`);
  }
  if (old.sessionTimeout !== next.sessionTimeout) {
    statements.push(next.sessionTimeout === NOT_SET
      ? `ALTER USER ${user} RESET SESSION TIMEOUT`
      : `ALTER USER ${user} SESSION TIMEOUT ${next.sessionTimeout}`);
  }
  for (const group of old.groups.filter((name) => !next.groups.includes(name))) {
    statements.push(`ALTER GROUP ${quoteIdentifier(group)} DROP USER ${user}`);
  }
  for (const group of next.groups.filter((name) => !old.groups.includes(name))) {
    statements.push(`ALTER GROUP ${quoteIdentifier(group)} ADD USER ${user}`);
  }
  return statements;
}

export function dropUserSql(user: UserProperties): string {
  return `DROP USER IF EXISTS ${quoteIdentifier(user.username)}`;
}

export function planManageUser(event: CloudFormationCustomResourceEvent): Plan {
  const user = parseUserProperties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create':
      return sql(createUserSql(user));
    case 'Delete':
      return sql(dropUserSql(user));
    case 'Update': {
      let old: UserProperties;
      try {
        old = parseUserProperties(event.OldResourceProperties ?? {});
      } catch (error) {
        throw new PropertyError(`the previous properties are invalid (${(error as Error).message}); cannot compute the change.`);
      }
      const statements = alterUserSql(old, user);
      return statements.length === 0 ? noSql(`user ${user.username} unchanged.`) : sql(...statements);
    }
  }
}
