/**
 * Oversized outcomes: results, outputs and causes larger than the services accept — Step Functions (task output
 * 256 KiB, failure cause 32,768 characters), CloudFormation (response body 4,096 bytes), a Step Functions state
 * (256 KiB, for `getStatementResult` pages) — are truncated or summarised by the tasker and never refused by the
 * (local) service, which enforces those limits.
 */
import { Handler, invoke, loadBundledHandler, EVENT_PATH } from './support/in-process';
import { outcomes } from './support/outcomes';
import { ResultLog } from './support/record';
import { Scenario } from './support/scenario';
import { LocalAws, startLocalAws } from '../../local/aws';
import { MAX_RESPONSE_BYTES } from '../../local/servers/cfn-response';
import { SfnLimits, isJson } from '../../local/servers/sfn-callbacks';

/** A Step Functions state (and task output) holds at most 256 KiB. */
const STATE_BYTES = 262_144;
const log = new ResultLog('oversized', 'Oversized outcomes');
let aws: LocalAws;
let handler: Handler;

beforeAll(async () => {
  aws = await startLocalAws();
  handler = loadBundledHandler(aws.env(EVENT_PATH));
});
afterAll(async () => {
  await aws?.close();
  log.write();
});

/** Every call the Step Functions endpoint refused for a size or validity reason. */
const refusedBySfn = () => aws.sfn.calls.filter((c) => c.answer === 'ValidationException' || c.answer === 'InvalidOutput').length;

test.each([
  ['ASCII', 'x', 300_000],
  ['two-byte characters (fewer characters than the limit, more bytes)', 'é', 140_000],
])('a FINISHED event larger than 256 KiB (%s) → SendTaskSuccess with a summarised output, accepted', async (what, char, count) => {
  const scenario = new Scenario(aws, handler, `big-output-${char === 'x' ? 'ascii' : 'utf8'}`);
  const [started] = await scenario.start(1);
  const [event] = await scenario.allEvents();
  const big = { ...event, detail: { ...event.detail, padding: char.repeat(count) } };
  const refusedBefore = refusedBySfn();
  const queue = await scenario.deliver([JSON.stringify(big)]);
  const callback = aws.sfn.callbackFor(started.taskToken!);
  const output = callback?.kind === 'success' ? callback.output : '';
  const parsed = output ? JSON.parse(output) : {};
  log.add({
    scenario: `A FINISHED event of ${Buffer.byteLength(JSON.stringify(big)).toLocaleString('en-US')} bytes (${what}) to pass to SendTaskSuccess`,
    expected: 'the output is summarised (statement id, name, state, rows; truncated: true) below 256 KiB and accepted',
    measured: {
      eventBytes: Buffer.byteLength(JSON.stringify(big)),
      outputBytes: Buffer.byteLength(output),
      truncated: parsed.truncated === true,
      refusedBySfn: refusedBySfn() - refusedBefore,
      ...outcomes(aws, queue, scenario.started),
    },
  });
  expect(callback?.kind).toBe('success');
  expect(Buffer.byteLength(output)).toBeLessThanOrEqual(STATE_BYTES);
  expect(parsed).toMatchObject({ truncated: true, detail: { statementId: started.statementId, state: 'FINISHED' } });
  expect(refusedBySfn() - refusedBefore).toBe(0);
});

const ERROR_TEXTS = [
  ['40,000 two-byte characters', "repeat('é', 40000)"],
  ['20,000 quotes and backslashes', "repeat('\"\\', 10000)"],
  ['20,000 control characters', 'repeat(chr(1), 20000)'],
] as const;

/** The SendTaskFailure cause of a FAILED statement raising `expression` as its error text. */
async function failureCause(slug: string, expression: string): Promise<{ cause: string; errorChars: number; scenario: Scenario; taskToken: string }> {
  const scenario = new Scenario(aws, handler, slug);
  const [started] = await scenario.start(1, { sql: () => `do $$ begin raise exception '%', ${expression}; end $$` });
  await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
  const callback = aws.sfn.callbackFor(started.taskToken!);
  return {
    cause: callback?.kind === 'failure' ? callback.cause : '',
    errorChars: aws.dataApi.statement(started.statementId)?.error?.length ?? 0,
    scenario,
    taskToken: started.taskToken!,
  };
}


describe.each(ERROR_TEXTS)('a FAILED statement whose error text is %s', (what, expression) => {
  test('→ SendTaskFailure with a cause of at most 32,768 characters, accepted', async () => {
    const { cause, errorChars, taskToken } = await failureCause(`big-cause-${expression.length}`, expression);
    log.add({
      scenario: `A FAILED statement whose Redshift error text is ${what} (SendTaskFailure cause)`,
      expected: 'the cause (the event with detail.error) is cut to at most 32,768 characters and accepted',
      measured: {
        errorTextChars: errorChars,
        causeChars: cause.length,
        causeIsTheEventJson: isJson(cause),
        callbackCalls: aws.sfn.callsFor(taskToken).length,
        refusedBySfn: aws.sfn.callsFor(taskToken).filter((c) => c.answer !== 'accepted').length,
      },
    });
    expect(aws.sfn.callbackFor(taskToken)?.kind).toBe('failure');
    expect(cause.length).toBeLessThanOrEqual(SfnLimits.CAUSE_CHARS);
    expect(aws.sfn.callsFor(taskToken)).toHaveLength(1);
  });

  test('→ a CloudFormation FAILED response of at most 4,096 bytes, accepted', async () => {
    const scenario = new Scenario(aws, handler, `big-reason-${expression.length}`);
    const url = aws.cfn.newResponseUrl();
    await scenario.startForStack(url, `BigReason${expression.length}`, `do $$ begin raise exception '%', ${expression}; end $$`);
    await scenario.deliver((await scenario.allEvents()).map((event) => JSON.stringify(event)));
    const [response] = aws.cfn.responsesFor(url);
    log.add({
      scenario: `A FAILED custom-resource statement whose Redshift error text is ${what} (CloudFormation response)`,
      expected: 'Reason is shortened so the body fits 4,096 bytes; accepted without contract problems',
      measured: {
        bodyBytes: Buffer.byteLength(response?.rawBody ?? ''),
        status: response?.body?.Status ?? 'none',
        reasonTruncated: /truncated/.test(response?.body?.Reason ?? ''),
        contractProblems: response?.problems.length ?? -1,
      },
    });
    expect(response).toMatchObject({ status: 200, problems: [], body: { Status: 'FAILED' } });
    expect(Buffer.byteLength(response.rawBody)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
  });
});

test('the shortened cause is still the event\'s JSON (two-byte characters)', async () => {
  const { cause } = await failureCause('cause-json-utf8', ERROR_TEXTS[0][1]);
  expect(JSON.parse(cause)).toMatchObject({ detail: { state: 'FAILED', error: expect.stringMatching(/truncated\]$/) } });
});

// Quotes, backslashes and control characters grow when JSON-escaped: the shortening measures the escaped cause.
test.each(ERROR_TEXTS.slice(1))('the shortened cause is still the event\'s JSON (%s)', async (_, expression) => {
  const { cause } = await failureCause(`cause-json-${expression.length}`, expression);
  expect(JSON.parse(cause)).toMatchObject({ detail: { state: 'FAILED' } });
});

test('a 1.6 MB result → getStatementResult pages that each fit a Step Functions state; every row exactly once', async () => {
  const scenario = new Scenario(aws, handler, 'big-result');
  const [started] = await scenario.start(1, { sql: () => "select g as n, repeat('x', 500) as pad from generate_series(1, 3000) g" });
  await scenario.allEvents();
  const pages: Array<{ bytes: number; rows: number }> = [];
  const seen: number[] = [];
  let nextToken: string | undefined;
  do {
    const answer = await invoke(handler, { action: 'getStatementResult', statementId: started.statementId, ...nextToken ? { nextToken } : {} });
    if (!answer.ok) throw new Error(`${answer.errorType}: ${answer.errorMessage}`);
    pages.push({ bytes: Buffer.byteLength(JSON.stringify(answer.result)), rows: answer.result.Records.length });
    for (const row of answer.result.Records) seen.push(Number(row[0].longValue));
    nextToken = answer.result.NextToken;
  } while (nextToken && pages.length < 100);
  log.add({
    scenario: 'getStatementResult on a 3,000-row result of about 1.6 MB (the Data API stand-in pages 1,000 rows)',
    expected: 'pages of at most 256 KiB (the Step Functions state limit), NextToken until the end, every row exactly once, in order',
    measured: { pages: pages.length, largestPageBytes: Math.max(...pages.map((p) => p.bytes)), rows: seen.length, distinctRows: new Set(seen).size },
  });
  expect(Math.max(...pages.map((p) => p.bytes))).toBeLessThanOrEqual(STATE_BYTES);
  expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
});
