import { columnsOf, isoTimestamp, plainRow, plainValue } from '../../lambda/rows';

describe('plain values by Redshift type', () => {
  test.each([
    ['int4', { longValue: 42 }, 42],
    ['int8', { longValue: 9007199254740991 }, 9007199254740991],
    ['int8', { longValue: 9007199254740993 }, '9007199254740992'],
    ['int8', { stringValue: '9223372036854775807' }, '9223372036854775807'],
    ['int8', { stringValue: '-12' }, -12],
    ['float8', { doubleValue: 1.5 }, 1.5],
    ['numeric', { stringValue: '12345678901234567890.123456' }, '12345678901234567890.123456'],
    ['numeric', { longValue: 12 }, '12'],
    ['numeric', { doubleValue: 0.25 }, '0.25'],
    ['bool', { booleanValue: false }, false],
    ['bool', { stringValue: 't' }, true],
    ['varchar', { isNull: true }, null],
    ['int4', { isNull: true }, null],
    ['varchar', { stringValue: 'x' }, 'x'],
    ['date', { stringValue: '2024-05-01' }, '2024-05-01'],
    ['timestamp', { stringValue: '2024-05-01 12:30:00' }, '2024-05-01T12:30:00'],
    ['timestamp', { stringValue: '2024-05-01 12:30:00.123456' }, '2024-05-01T12:30:00.123456'],
    ['timestamptz', { stringValue: '2024-05-01 12:30:00+00' }, '2024-05-01T12:30:00+00:00'],
    ['timestamptz', { stringValue: '2024-05-01 12:30:00.5-05:30' }, '2024-05-01T12:30:00.5-05:30'],
    ['time', { stringValue: '12:30:00' }, '12:30:00'],
    ['super', { stringValue: '{"a":[1,2]}' }, '{"a":[1,2]}'],
    ['varbyte', { blobValue: 'AAEC' }, 'AAEC'],
    ['geometry', { stringValue: '0101000000' }, '0101000000'],
    ['varchar', {}, null],
  ])('%s %j → %j', (type, field, expected) => {
    expect(plainValue(field, type)).toEqual(expected);
  });

  test('a timestamp Redshift writes in an unexpected form is kept as given', () => {
    expect(isoTimestamp('infinity')).toBe('infinity');
    expect(isoTimestamp('2024-05-01 12:30:00 BC')).toBe('2024-05-01 12:30:00 BC');
  });
});

describe('rows as objects', () => {
  test('keyed by column name, the types once; a repeated name gets a suffix, no value is lost', () => {
    const columns = columnsOf([{ name: 'id', typeName: 'int4' }, { name: 'a', typeName: 'varchar' }, { name: 'a', typeName: 'int4' }, { label: 'l', typeName: 'bool' }, {}]);
    expect(columns).toEqual([
      { name: 'id', type: 'int4' }, { name: 'a', type: 'varchar' }, { name: 'a_2', type: 'int4' }, { name: 'l', type: 'bool' },
      { name: 'column5', type: 'unknown' },
    ]);
    expect(plainRow([{ longValue: 1 }, { stringValue: 'x' }, { longValue: 2 }, { booleanValue: true }, { isNull: true }], columns))
      .toEqual({ id: 1, a: 'x', a_2: 2, l: true, column5: null });
  });

  test('a record shorter than its columns gives null for the missing ones', () => {
    expect(plainRow([{ longValue: 1 }], columnsOf([{ name: 'a', typeName: 'int4' }, { name: 'b', typeName: 'int4' }]))).toEqual({ a: 1, b: null });
  });
});
