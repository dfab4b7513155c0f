/**
 * The SQL the example's manage_user function builds (pure functions, no AWS): property parsing as CloudFormation
 * sends it (strings), identifier and literal safety, and manage_user's CREATE / ALTER / DROP.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as fc from 'fast-check';
import {
  NOT_SET, UserProperties, alterUserSql, createUserSql, dropUserSql, parseUserProperties, planManageUser,
} from '../../example/custom-resources/manage-user-sql';
import {
  IDENTIFIER_PATTERN, PropertyError, parseBoolean, parseIdentifier, parseIdentifierList, parseInteger, parseSql,
  quoteIdentifier, quoteLiteral, rejectUnknown,
} from '../../example/custom-resources/properties';

const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:wrapper',
  ResponseURL: 'http://127.0.0.1/response',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/integ-test-stack/1',
  RequestId: 'request-1',
  LogicalResourceId: 'rstable',
  ResourceType: 'Custom::RedshiftCreateDrop',
};
function create(properties: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return { ...base, RequestType: 'Create', ResourceProperties: { ServiceToken: base.ServiceToken, ...properties } } as CloudFormationCustomResourceEvent;
}
function update(properties: Record<string, unknown>, old: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return {
    ...base,
    RequestType: 'Update',
    PhysicalResourceId: 'rstable:1700000000.123456789012',
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
    OldResourceProperties: { ServiceToken: base.ServiceToken, ...old },
  } as CloudFormationCustomResourceEvent;
}
function remove(properties: Record<string, unknown>): CloudFormationCustomResourceEvent {
  return {
    ...base,
    RequestType: 'Delete',
    PhysicalResourceId: 'rstable:1700000000.123456789012',
    ResourceProperties: { ServiceToken: base.ServiceToken, ...properties },
  } as CloudFormationCustomResourceEvent;
}

describe('properties', () => {
  test('booleans arrive as strings from CloudFormation: "false" is false', () => {
    expect(parseBoolean({ v: 'false' }, 'v', true)).toBe(false);
    expect(parseBoolean({ v: 'False' }, 'v', true)).toBe(false);
    expect(parseBoolean({ v: 'true' }, 'v', false)).toBe(true);
    expect(parseBoolean({ v: 'TRUE' }, 'v', false)).toBe(true);
    expect(parseBoolean({ v: true }, 'v', false)).toBe(true);
    expect(parseBoolean({ v: false }, 'v', true)).toBe(false);
    expect(parseBoolean({}, 'v', true)).toBe(true);
  });

  test.each(['yes', '1', '', 'falsy', 1])('fails when a boolean is %p', (value) => {
    expect(() => parseBoolean({ create_db: value }, 'create_db', false)).toThrow(/"create_db" must be true or false, got/);
  });

  test('whole numbers from numbers or strings, within the range', () => {
    expect(parseInteger({ n: '3' }, 'n', 0, -1, 10)).toBe(3);
    expect(parseInteger({ n: ' -1 ' }, 'n', 0, -1, 10)).toBe(-1);
    expect(parseInteger({ n: 7 }, 'n', 0, -1, 10)).toBe(7);
    expect(parseInteger({}, 'n', 5, -1, 10)).toBe(5);
    for (const bad of ['3.5', 'abc', '11', '-2', 2.5, '1e3', '']) {
      expect(() => parseInteger({ n: bad }, 'n', 0, -1, 10)).toThrow(/"n" must be a whole number from -1 to 10, got/);
    }
  });

  test('identifiers: lowercase letters, digits, _ and $, starting with a letter or _, at most 127 characters', () => {
    for (const good of ['user2', '_x', 'a$b', 'cfncreated_user', 'a'.repeat(127)]) expect(parseIdentifier(good, 'name')).toBe(good);
    for (const bad of ['User2', '2user', 'a-b', 'a b', '', 'a'.repeat(128), 'x"; drop table t; --', "o'hara", 'é', 42]) {
      expect(() => parseIdentifier(bad, '"username"')).toThrow(/"username" must be a lowercase identifier/);
    }
  });

  test('identifier lists: a list or a comma-separated string, duplicates removed, each one checked', () => {
    expect(parseIdentifierList({ groups: ['group_a', 'group_b', 'group_a'] }, 'groups')).toEqual(['group_a', 'group_b']);
    expect(parseIdentifierList({ groups: 'group_a, group_b' }, 'groups')).toEqual(['group_a', 'group_b']);
    expect(parseIdentifierList({}, 'groups')).toEqual([]);
    expect(() => parseIdentifierList({ groups: ['ok', 'not ok'] }, 'groups')).toThrow(/"groups"\[1\] must be a lowercase identifier/);
    expect(() => parseIdentifierList({ groups: { a: 1 } }, 'groups')).toThrow(/"groups" must be a list of names/);
  });

  test('SQL: one statement or a list of up to 40, each non-empty and at most 100 KB', () => {
    expect(parseSql({ s: 'select 1' }, 's')).toEqual(['select 1']);
    expect(parseSql({ s: ['a', 'b'] }, 's')).toEqual(['a', 'b']);
    expect(() => parseSql({}, 's')).toThrow(/"s" is required/);
    expect(() => parseSql({ s: [] }, 's')).toThrow(/"s" is required/);
    expect(() => parseSql({ s: '  ' }, 's')).toThrow(/"s" must be a non-empty SQL string/);
    expect(() => parseSql({ s: ['a', ''] }, 's')).toThrow(/"s"\[1\] must be a non-empty SQL string/);
    expect(() => parseSql({ s: Array(41).fill('a') }, 's')).toThrow(/41 statements; at most 40/);
    expect(() => parseSql({ s: 'x'.repeat(100_001) }, 's')).toThrow(/100001 bytes; the Redshift Data API accepts at most 100000/);
  });

  test('unknown properties are rejected (a typo must not be ignored); CloudFormation\'s own are accepted', () => {
    expect(() => rejectUnknown({ ServiceToken: 'x', ServiceTimeout: '600', a: 1 }, ['a'])).not.toThrow();
    expect(() => rejectUnknown({ create_users: true }, ['create_user'])).toThrow('unknown property "create_users"; the supported properties are create_user.');
  });

  test('literals: single quotes are doubled; backslashes and NUL are refused', () => {
    expect(quoteLiteral("it's")).toBe("'it''s'");
    expect(() => quoteLiteral('a\\b')).toThrow(PropertyError);
    expect(() => quoteLiteral('a\0b')).toThrow(PropertyError);
  });

  test('property: any identifier that passes is quoted verbatim; anything else is refused', () => {
    fc.assert(fc.property(fc.string({ maxLength: 140 }), (value) => {
      if (IDENTIFIER_PATTERN.test(value)) {
        expect(quoteIdentifier(parseIdentifier(value, 'x'))).toBe(`"${value}"`);
      } else {
        expect(() => parseIdentifier(value, 'x')).toThrow(PropertyError);
      }
    }));
  });

  test('property: a quoted literal reads back as the original text (no way out of the quotes)', () => {
    fc.assert(fc.property(fc.string().filter((s) => !/[\\\0]/.test(s)), (value) => {
      const quoted = quoteLiteral(value);
      expect(quoted.startsWith("'") && quoted.endsWith("'")).toBe(true);
      const inner = quoted.slice(1, -1);
      // Every quote inside comes in pairs: the literal cannot end early.
      expect(inner.replace(/''/g, '')).not.toContain("'");
      expect(inner.replace(/''/g, "'")).toBe(value);
    }));
  });
});

describe('manage_user', () => {
  const full = {
    username: 'cfncreated_user',
    password: 'md5e1c252bf4c426727db9c7bfc726760d8',
    create_db: 'true',
    create_user: 'false',
    unrestricted_syslog_access: 'true',
    groups: ['group_a', 'group_b'],
    valid_until: '2035-12-31 23:59:59',
    connection_limit: '3',
    session_timeout: '1728000',
  };
  const user = (overrides: Partial<UserProperties> = {}): UserProperties => ({
    username: 'u1',
    password: undefined,
    createDb: false,
    createUser: false,
    unrestrictedSyslogAccess: false,
    groups: [],
    validUntil: undefined,
    connectionLimit: NOT_SET,
    sessionTimeout: NOT_SET,
    ...overrides,
  });

  test('parses the properties as CloudFormation sends them (strings), with the defaults', () => {
    expect(parseUserProperties(full)).toEqual({
      username: 'cfncreated_user',
      password: 'md5e1c252bf4c426727db9c7bfc726760d8',
      createDb: true,
      createUser: false,
      unrestrictedSyslogAccess: true,
      groups: ['group_a', 'group_b'],
      validUntil: '2035-12-31 23:59:59',
      connectionLimit: 3,
      sessionTimeout: 1728000,
    });
    expect(parseUserProperties({ username: 'user2' })).toEqual(user({ username: 'user2' }));
  });

  test('Create: CREATE USER with the non-default options; "false" does not grant CREATEUSER', () => {
    expect(planManageUser(create(full))).toEqual({
      kind: 'sql',
      statements: ['CREATE USER "cfncreated_user" PASSWORD \'md5e1c252bf4c426727db9c7bfc726760d8\' CREATEDB SYSLOG ACCESS UNRESTRICTED '
        + 'IN GROUP "group_a", "group_b" VALID UNTIL \'2035-12-31 23:59:59\' CONNECTION LIMIT 3 SESSION TIMEOUT 1728000'],
    });
    expect(createUserSql(user({ username: 'user2' }))).toBe('CREATE USER "user2" PASSWORD DISABLE');
    expect(createUserSql(user({ createUser: true }))).toBe('CREATE USER "u1" PASSWORD DISABLE CREATEUSER');
  });

  test('Delete: DROP USER IF EXISTS', () => {
    expect(planManageUser(remove(full))).toEqual({ kind: 'sql', statements: ['DROP USER IF EXISTS "cfncreated_user"'] });
    expect(dropUserSql(user())).toBe('DROP USER IF EXISTS "u1"');
  });

  test('passwords only as MD5 hashes: plain text is refused without echoing it', () => {
    const attempt = () => parseUserProperties({ username: 'u1', password: 'Secret123!' });
    expect(attempt).toThrow(/must be an MD5 hash.*plain-text passwords are refused. Got a 10-character value that does not start with "md5"/);
    expect(attempt).not.toThrow(/Secret123/);
    expect(() => parseUserProperties({ username: 'u1', password: 'md5XYZ' })).toThrow(/that is not a valid hash/);
    expect(() => parseUserProperties({ username: 'u1', password: `md5${'A'.repeat(32)}` })).toThrow(/MD5 hash/);
  });

  test.each([
    ['a timestamp that does not exist', { valid_until: '2035-02-30' }, /"valid_until" must be a date/],
    ['a timestamp with SQL in it', { valid_until: "2035-01-01'; drop user admin; --" }, /"valid_until" must be a date/],
    ['a session timeout below 60 seconds', { session_timeout: '30' }, /"session_timeout" must be -1 \(cluster default\) or from 60 to 1728000/],
    ['a session timeout above 20 days', { session_timeout: '1728001' }, /"session_timeout" must be a whole number from -1 to 1728000/],
    ['a negative connection limit', { connection_limit: '-5' }, /"connection_limit" must be a whole number from -1/],
    ['a group name with a quote', { groups: ['a"b'] }, /"groups"\[0\] must be a lowercase identifier/],
    ['an unknown property', { createdb: 'true' }, /unknown property "createdb"/],
  ])('fails on %s', (_, extra, message) => {
    expect(() => parseUserProperties({ username: 'u1', ...extra })).toThrow(message);
  });

  test('valid_until accepts a date, a timestamp and infinity', () => {
    for (const value of ['2035-12-31', '2035-12-31 23:59', '2035-12-31 23:59:59', 'infinity']) {
      expect(parseUserProperties({ username: 'u1', valid_until: value }).validUntil).toBe(value);
    }
  });

  test('Update: one ALTER per changed attribute; nothing when nothing changed', () => {
    expect(alterUserSql(user(), user())).toEqual([]);
    expect(planManageUser(update(full, full))).toEqual({ kind: 'none', reason: 'user cfncreated_user unchanged.' });
    expect(alterUserSql(user(), user({ createDb: true, createUser: true, unrestrictedSyslogAccess: true }))).toEqual([
      'ALTER USER "u1" CREATEDB', 'ALTER USER "u1" CREATEUSER', 'ALTER USER "u1" SYSLOG ACCESS UNRESTRICTED',
    ]);
    expect(alterUserSql(user({ createDb: true, createUser: true, unrestrictedSyslogAccess: true }), user())).toEqual([
      'ALTER USER "u1" NOCREATEDB', 'ALTER USER "u1" NOCREATEUSER', 'ALTER USER "u1" SYSLOG ACCESS RESTRICTED',
    ]);
    expect(alterUserSql(user(), user({ connectionLimit: 5, sessionTimeout: 600 }))).toEqual([
      'ALTER USER "u1" CONNECTION LIMIT 5', 'ALTER USER "u1" SESSION TIMEOUT 600',
    ]);
    expect(alterUserSql(user({ connectionLimit: 5, sessionTimeout: 600 }), user())).toEqual([
      'ALTER USER "u1" CONNECTION LIMIT UNLIMITED', 'ALTER USER "u1" RESET SESSION TIMEOUT',
    ]);
  });

  test('Update: the password and its expiry', () => {
    const hash = `md5${'a'.repeat(32)}`;
    expect(alterUserSql(user(), user({ password: hash }))).toEqual([`ALTER USER "u1" PASSWORD '${hash}'`]);
    expect(alterUserSql(user({ password: hash }), user())).toEqual(['ALTER USER "u1" PASSWORD DISABLE']);
    expect(alterUserSql(user({ password: hash }), user({ password: hash, validUntil: '2040-01-01' })))
      .toEqual([`ALTER USER "u1" PASSWORD '${hash}' VALID UNTIL '2040-01-01'`]);
    expect(alterUserSql(user({ password: hash, validUntil: '2040-01-01' }), user({ password: hash })))
      .toEqual([`ALTER USER "u1" PASSWORD '${hash}' VALID UNTIL 'infinity'`]);
  });

  test('Update: group membership follows the list', () => {
    expect(alterUserSql(user({ groups: ['a', 'b'] }), user({ groups: ['b', 'c'] }))).toEqual([
      'ALTER GROUP "a" DROP USER "u1"', 'ALTER GROUP "c" ADD USER "u1"',
    ]);
  });

  test('Update: a rename comes first, the other changes use the new name, and the MD5 password is set again', () => {
    const hash = `md5${'b'.repeat(32)}`;
    const event = update({ ...full, username: 'renamed_user', password: hash, create_db: 'false' }, full);
    expect(planManageUser(event)).toEqual({
      kind: 'sql',
      statements: [
        'ALTER USER "cfncreated_user" RENAME TO "renamed_user"',
        'ALTER USER "renamed_user" NOCREATEDB',
        `ALTER USER "renamed_user" PASSWORD '${hash}' VALID UNTIL '2035-12-31 23:59:59'`,
      ],
    });
    // Without a password there is nothing to set again.
    expect(alterUserSql(user(), user({ username: 'u2' }))).toEqual(['ALTER USER "u1" RENAME TO "u2"']);
  });

  test('Update: invalid new properties fail (the rollback to the old ones is valid); invalid old ones are named', () => {
    expect(() => planManageUser(update({ username: 'Bad Name' }, { username: 'u1' }))).toThrow(/"username" must be a lowercase identifier/);
    expect(() => planManageUser(update({ username: 'u1' }, { username: 'u1', create_db: 'maybe' })))
      .toThrow(/the previous properties are invalid \("create_db" must be true or false/);
  });
});
