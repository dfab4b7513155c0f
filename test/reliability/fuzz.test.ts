/**
 * Property-based fuzzing (fast-check, fixed seeds) of the bundled handler against the local services:
 * - 10,000 random invocation payloads — arbitrary JSON values, and objects built from the API's field names with
 *   valid, borderline and wrong values — end in a valid start, a CloudFormation FAILED answer, a read, or a typed
 *   error; a payload that is refused writes nothing (net) and starts nothing;
 * - 1,000 random SQS batches (records of any shape, bodies that are garbage, JSON, or status-change events with
 *   random fields) always get a `batchItemFailures` array naming only records of the batch — empty here, since none
 *   of them is a tracked statement — with no callback, no write and no unhandled rejection.
 */
import * as fc from 'fast-check';
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { ResultLog } from './support/record';
import { parseRequest } from '../../lambda/request';
import { LocalAws, startLocalAws } from '../../local/aws';
import { Action, ErrorName, LATEST } from '../../src/contract';

const PAYLOADS = Number(process.env.FUZZ_PAYLOADS ?? 10_000);
const BATCHES = Number(process.env.FUZZ_BATCHES ?? 1_000);
const log = new ResultLog('fuzz', 'Fuzzing');
let aws: LocalAws;
let handler: Handler;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

/** Errors a caller may see: the tasker's own, and the Data API's with their SDK names. */
const TYPED_ERRORS = new Set<string>([
  ErrorName.INVALID_REQUEST, ErrorName.CONCURRENT_EXECUTION, ErrorName.PREVIOUS_EXECUTION_NOT_FOUND,
  'ValidationException', 'ResourceNotFoundException', 'ActiveStatementsExceededException', 'ExecuteStatementException',
  'BatchExecuteStatementException', 'InternalServerException', 'DatabaseConnectionException',
]);

beforeAll(async () => {
  aws = await startLocalAws({ dataApi: { maxActiveStatements: 5_000 } });
  handler = loadBundledHandler(aws.env(EVENT_PATH));
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await aws?.close();
  log.write();
});

// ---- Arbitraries ---------------------------------------------------------------------------------------------

/** A field's value: mostly a plausible one, sometimes any JSON value or an edge case. */
function field<T>(plausible: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: plausible },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.constantFrom(null, '', ' ', 0, -1, true, [], {}, 'LATEST', '\u0000', 'x'.repeat(3000)) },
  );
}

const text = fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }));
const sql = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('select 1', 'select :region as r', 'call sp_refresh()', 'select * from sales where id = :id', 'vacuum') },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(100_001), '   ', 'é'.repeat(50_001)) },
);
const executionArn = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }).map((n) => `arn:aws:states:eu-west-1:123456789012:execution:Fuzz:run-${n}`),
  text,
  fc.integer({ min: 400, max: 520 }).map((n) => `arn:aws:states:eu-west-1:123456789012:execution:Fuzz:${'x'.repeat(n)}`),
);
const parameterName = fc.oneof(fc.constantFrom('region', 'id', '_x', 'a1'), text);
const parameters = fc.array(fc.record({
  name: field(parameterName),
  value: field(fc.oneof(text, fc.integer(), fc.boolean(), fc.double(), fc.constant(null))),
}, { requiredKeys: [] }), { maxLength: 4 });

const validSql = fc.constantFrom('select 1', 'select :region as r', 'call sp_refresh()', 'select * from sales where id = :id', 'vacuum');
const validArn = fc.integer({ min: 0, max: 1_000_000 }).map((n) => `arn:aws:states:eu-west-1:123456789012:execution:Fuzz:run-${n}`);

/** A valid request of each kind of the invocation API (CloudFormation ones answer at a local response URL). */
function validPayload(responseUrls: string[]): fc.Arbitrary<Record<string, unknown>> {
  const cfn = fc.record({
    RequestType: fc.constantFrom('Create', 'Update', 'Delete'),
    ResponseURL: fc.constantFrom(...responseUrls),
    StackId: fc.constant('arn:aws:cloudformation:eu-west-1:123456789012:stack/fuzz/1'),
    RequestId: fc.uuid(),
    ResourceType: fc.constant('Custom::RedshiftSql'),
    LogicalResourceId: fc.constantFrom('FuzzResource', 'Table1'),
    PhysicalResourceId: fc.constant('FuzzResource:1764000000.123000000001'),
    sqlStatement: validSql,
  });
  return fc.oneof(
    fc.record({ sqlStatement: validSql }),
    fc.record({ sqlStatement: validSql, taskToken: fc.string({ minLength: 1, maxLength: 200 }), executionArn: validArn }),
    fc.record({ sqlStatement: validSql, action: fc.constant(Action.EXECUTE_SINGLETON_STATEMENT), executionArn: validArn, taskToken: fc.constant('AQ-fuzz') }),
    fc.record({ sqlStatement: fc.constant('select * from sales where id = :id'), parameters: fc.constant([{ name: 'id', value: 42 }]) }),
    fc.record({ sqlStatements: fc.array(validSql, { minLength: 1, maxLength: 40 }), executionArn: validArn }),
    cfn,
    fc.record({ action: fc.constantFrom(Action.DESCRIBE_STATEMENT, Action.CANCEL_STATEMENT, Action.GET_STATEMENT_RESULT), statementId: fc.uuid() }),
    fc.record({
      action: fc.constantFrom(Action.DESCRIBE_STATEMENT, Action.GET_STATEMENT_RESULT), statementId: fc.constant(LATEST), executionArn: validArn,
    }),
  );
}

const FIELDS = ['sqlStatement', 'sqlStatements', 'action', 'taskToken', 'executionArn', 'parameters', 'statementId', 'nextToken',
  'RequestType', 'StackId', 'RequestId', 'ResourceType', 'LogicalResourceId', 'PhysicalResourceId', 'Records'] as const;

/** A value for a field: plausible for some field, borderline, or any JSON value. */
const anyValue = fc.oneof(
  sql, executionArn, parameters, fc.array(sql, { maxLength: 42 }), fc.constantFrom(...Object.values(Action), 'drop', LATEST),
  fc.string({ maxLength: 2100 }), fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, '', ' ', 0, -1, true, [], {}, '\u0000', 'x'.repeat(3000)),
);

/** A mutation of a request: drop a field, or set a field of the API (or any key) to another value. */
const mutation = fc.oneof(
  fc.record({ drop: fc.constantFrom(...FIELDS, 'ResponseURL') }),
  fc.record({ set: fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 10 })), value: anyValue }),
);

/** A valid request, mostly with 1 to 3 mutations. */
function shapedPayload(responseUrls: string[]): fc.Arbitrary<Record<string, unknown>> {
  const mutations = fc.oneof({ weight: 1, arbitrary: fc.constant([]) }, { weight: 5, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) });
  return fc.tuple(validPayload(responseUrls), mutations).map(([base, changes]) => {
    const payload: Record<string, unknown> = { ...base };
    for (const m of changes) {
      if ('drop' in m) delete payload[m.drop];
      // A fuzzed payload never names a response URL other than the local server's (see ResponseURL above).
      else if (m.set !== 'ResponseURL') payload[m.set] = m.value;
    }
    return payload;
  });
}

// ---- Properties ----------------------------------------------------------------------------------------------

interface Counters {
  puts: number;
  deletes: number;
  writes: number;
  statements: number;
  responses: number;
}

function counters(): Counters {
  const ok = (operation: string) => aws.proxies.dynamodb.succeeded(operation);
  return {
    puts: ok('PutItem'),
    deletes: ok('DeleteItem'),
    writes: ok('PutItem') + ok('UpdateItem') + ok('DeleteItem'),
    statements: aws.dataApi.statements().length,
    responses: aws.cfn.requests.length,
  };
}

/** Whether the handler reads `event` as that kind of request. */
function isRequest(event: unknown, type: string): boolean {
  try {
    return parseRequest(event).type === type;
  } catch {
    return false;
  }
}

test(`${PAYLOADS} random invocation payloads → a start (or a retried one), a CloudFormation FAILED answer, a read, or a typed error; refused payloads write and start nothing`, async () => {
  const responseUrls = Array.from({ length: 5 }, () => aws.cfn.newResponseUrl());
  const outcomes = new Map<string, number>();
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  const payload = fc.oneof({ weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) }, { weight: 4, arbitrary: shapedPayload(responseUrls) });

  await fc.assert(fc.asyncProperty(payload, async (event) => {
    const before = counters();
    const answer = await invoke(handler, event);
    const after = counters();
    const started = aws.dataApi.statements().slice(before.statements);
    if (started.length > 0) {
      // A valid start: exactly one statement, registered first, and its id returned.
      count('started');
      expect(started).toHaveLength(1);
      expect(answer).toMatchObject({ ok: true, result: { Id: started[0].id } });
      expect(after.puts - before.puts).toBeGreaterThanOrEqual(1);
      return;
    }
    if (answer.ok && answer.result?.Status !== 'FAILED' && isRequest(event, 'execute')) {
      // A retried start of the same caller (the same task token or CloudFormation request): the statement it already
      // started, no new one and no new registration; at most the singleton lock is taken again for it.
      count('retried start (same caller): no new statement');
      expect(aws.dataApi.statements().some((s) => s.id === answer.result?.Id) || answer.result?.Id === undefined).toBe(true);
      expect((after.puts - before.puts) - (after.deletes - before.deletes)).toBeLessThanOrEqual(1);
      return;
    }
    // Anything else starts nothing and leaves nothing behind (a registration or lock written is removed again).
    expect(after.puts - before.puts).toBe(after.deletes - before.deletes);
    if (answer.ok && answer.result?.Status === 'FAILED' && typeof answer.result.PhysicalResourceId === 'string') {
      count('answered CloudFormation FAILED');
      expect(after.responses - before.responses).toBe(1);
    } else if (answer.ok) {
      count('read (describe, result, cancel)');
      expect(after.writes - before.writes).toBe(0);
    } else {
      count(`error ${answer.errorType}`);
      expect(TYPED_ERRORS).toContain(answer.errorType);
      if (answer.errorType === ErrorName.INVALID_REQUEST) expect(after.writes - before.writes).toBe(0);
    }
  }), { numRuns: PAYLOADS, seed: 20261124, endOnFailure: true });

  log.add({
    scenario: `${PAYLOADS} random invocation payloads (fast-check, seed 20261124): arbitrary JSON values, and objects of the API's fields with plausible, borderline and wrong values`,
    expected: 'only valid starts (or retried starts of the same caller: no new statement), CloudFormation FAILED answers, reads, or typed errors; a refused payload writes nothing (net) and starts nothing',
    measured: {
      payloads: PAYLOADS, ...Object.fromEntries([...outcomes.entries()].sort((a, b) => b[1] - a[1])), unhandledRejections: unhandled.length,
    },
  });
  expect(unhandled).toEqual([]);
  expect(outcomes.get('started') ?? 0).toBeGreaterThan(100);
  expect(outcomes.get(`error ${ErrorName.INVALID_REQUEST}`) ?? 0).toBeGreaterThan(1000);
}, 600_000);

test(`${BATCHES} random SQS batches → always a batchItemFailures array, no poison message, no callback, no write`, async () => {
  const statusEvent = fc.record({
    'source': field(fc.constant('aws.redshift-data')),
    'detail-type': field(fc.constant('Redshift Data Statement Status Change')),
    'detail': field(fc.record({
      statementName: field(fc.oneof(
        text,
        fc.tuple(executionArn, fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 999_999_999 }))
          .map(([id, seconds, fraction]) => `${id}:${seconds}.${fraction}`),
      )),
      statementId: field(fc.oneof(fc.uuid(), text)),
      state: field(fc.constantFrom('FINISHED', 'FAILED', 'ABORTED', 'STARTED', 'finished')),
      rows: field(fc.integer()),
    }, { requiredKeys: [] })),
  }, { requiredKeys: [] });
  const body = fc.oneof(
    text, statusEvent.map((e) => JSON.stringify(e)), fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)), fc.anything({ maxDepth: 1 }),
  );
  const record = fc.oneof(
    { weight: 4, arbitrary: fc.record({ messageId: field(fc.uuid()), body, receiptHandle: fc.string() }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 1 }) },
  );
  let records = 0;
  const before = { writes: counters().writes, callbacks: aws.sfn.calls.length, responses: aws.cfn.requests.length };

  await fc.assert(fc.asyncProperty(fc.array(record, { maxLength: 12 }), async (batch) => {
    records += batch.length;
    const answer = await invoke(handler, { Records: batch });
    expect(answer.ok).toBe(true);
    if (!answer.ok) return;
    expect(Array.isArray(answer.result.batchItemFailures)).toBe(true);
    const ids = new Set(batch.map((r) => (typeof r === 'object' && r !== null ? (r as { messageId?: unknown }).messageId : undefined)));
    for (const failure of answer.result.batchItemFailures) expect(ids.has(failure.itemIdentifier)).toBe(true);
    expect(answer.result.batchItemFailures).toEqual([]);
  }), { numRuns: BATCHES, seed: 20261125, endOnFailure: true });

  const writes = counters().writes - before.writes;
  const callbacks = aws.sfn.calls.length - before.callbacks;
  log.add({
    scenario: `${BATCHES} random SQS batches (${records} records: any JSON value, records with random message ids and bodies — garbage, JSON, status-change events with random names, ids and states)`,
    expected: 'always { batchItemFailures: [] } (nothing here is a tracked statement, so nothing is retried); no callback, no write, no unhandled rejection',
    measured: { batches: BATCHES, records, retriedRecords: 0, callbacks, successfulWrites: writes, unhandledRejections: unhandled.length },
  });
  expect(writes).toBe(0);
  expect(callbacks).toBe(0);
  expect(aws.cfn.requests.length - before.responses).toBe(0);
  expect(unhandled).toEqual([]);
}, 300_000);
