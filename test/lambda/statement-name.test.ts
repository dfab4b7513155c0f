import { keyedInvocationId } from '../../lambda/idempotency';
import { MAX_STATEMENT_NAME_LENGTH, adHocId, formatStatementName, newInvocationId, parseStatementName } from '../../lambda/statement-name';
import { StatusChangeEvent } from '../../src/contract';

describe('statement names', () => {
  test('invocation ids are epoch seconds with a fraction of milliseconds, a counter and random digits', () => {
    const first = newInvocationId(1_764_000_000_123, () => 42);
    const second = newInvocationId(1_764_000_000_123, () => 42);
    expect(first).toMatch(/^1764000000\.123\d{6}000042$/);
    expect(second).toMatch(/^1764000000\.123\d{6}000042$/);
    expect(second).not.toBe(first);
  });

  test('ids sort by time as strings', () => {
    const earlier = newInvocationId(1_764_000_000_999);
    const later = newInvocationId(1_764_000_001_000);
    expect([later, earlier].sort()).toEqual([earlier, later]);
  });

  test('100,000 ids made in the same millisecond by one environment are all distinct, even with equal random digits', () => {
    const ids = new Set(Array.from({ length: 100_000 }, () => newInvocationId(1_764_000_000_000, () => 7)));
    expect(ids.size).toBe(100_000);
  });

  test('round-trips through the completion event', () => {
    const name = { id: 'arn:aws:states:eu-west-1:123456789012:execution:M:run-1', invocationId: newInvocationId(Date.now()) };
    expect(parseStatementName(formatStatementName(name))).toEqual(name);
  });

  test('the ad-hoc id of a statement without a caller', () => {
    expect(adHocId('eu-west-1', 'u-u-i-d')).toBe('arn:::eu-west-1::custom_invocation:u-u-i-d');
    expect(parseStatementName(`${adHocId('eu-west-1', 'u')}:1764000000.123456789012345`))
      .toEqual({ id: 'arn:::eu-west-1::custom_invocation:u', invocationId: '1764000000.123456789012345' });
  });

  test('the original format (microsecond float) still parses', () => {
    expect(parseStatementName('rscfncreateduser:1631885785.837462')).toEqual({ id: 'rscfncreateduser', invocationId: '1631885785.837462' });
  });

  test.each([
    [undefined], [42], [''], ['no-separator'], [':1764000000.1'], ['name:'], ['name:abc'], ['name:1764000000'],
    ['name:1764000000.'], ['etl-job-nightly'], [`x:${'1'.repeat(MAX_STATEMENT_NAME_LENGTH)}.1`],
  ])('names it did not create are not ours: %p', (name) => {
    expect(parseStatementName(name)).toBeUndefined();
  });
});

describe('the completion rule\'s wildcard', () => {
  /** EventBridge's wildcard: `*` matches any characters, everything else itself. */
  const matches = (wildcard: string, value: string) =>
    new RegExp(`^${wildcard.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's').test(value);

  test('matches every name a tasker gives (time-based and keyed invocation ids), and parses back', () => {
    const names = [
      formatStatementName({ id: 'arn:aws:states:eu-west-1:123456789012:execution:M:run', invocationId: newInvocationId(Date.now()) }),
      formatStatementName({ id: 'CreateTable', invocationId: keyedInvocationId('ab'.repeat(32)) }),
      formatStatementName({ id: adHocId('eu-west-1'), invocationId: newInvocationId(Date.now()) }),
    ];
    for (const name of names) {
      expect(matches(StatusChangeEvent.STATEMENT_NAME_WILDCARD, name)).toBe(true);
      expect(parseStatementName(name)).toBeDefined();
    }
    expect(matches(StatusChangeEvent.STATEMENT_NAME_WILDCARD, 'daily-refresh')).toBe(false);
  });
});
