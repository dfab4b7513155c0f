/**
 * The part of `docs/reliability.md` that explains how the tasker keeps its promise — every statement ends in exactly
 * one right callback — with the figures the reconciler suite measured (`test/reliability/reconcile.test.ts`).
 */

type Measured = Record<string, number | string | boolean>;

interface ReconcileSuite {
  readonly results: ReadonlyArray<{ readonly scenario: string; readonly measured: Measured }>;
}

interface NamedSuite extends ReconcileSuite {
  readonly suite: string;
}

/**
 * The summary of the hostile-world scenarios (forged completions, a crash at each step, failing fast-path callbacks in
 * every topology): one row per attack or fault, from what those suites measured.
 */
export function renderPromise(suites: readonly NamedSuite[]): string[] {
  const rows: string[] = [];
  const of = (name: string) => suites.find((s) => s.suite === name)?.results ?? [];
  for (const result of of('forged')) {
    const m = result.measured;
    rows.push(`| Forged completions: the right name, another statement id — invoked directly (a), put on the queue (b), a real statement of another principal under the same name (c); ${n(m.forgedEvents)} forged events among ${n(m.statements)} statements | ${n(m.statements)} statements | ${n(m.forgedCallbacks)} | ${n(m.lost)} | ${n(m.calledBackTwice)} |`);
  }
  for (const result of of('crash-steps')) {
    const m = result.measured;
    rows.push(`| ${result.scenario.replace(/ \(\d+ runs\)$/, '')} | ${n(m.runs)} | ${n(m.wrongCallbacks)} | ${n(m.lost)} | ${n(m.duplicates)} |`);
  }
  for (const result of of('topologies')) {
    const m = result.measured;
    rows.push(`| Every fast-path callback throttled — ${result.scenario.split(':')[0]} | ${n(m.statements)} | 0 | ${n(Number(m.statements) - Number(m.calledBack))} | ${n(m.calledBackTwice)} |`);
  }
  if (rows.length === 0) return [];
  return [
    '## Exactly one right callback: attacks and faults',
    '',
    'Every statement ends in exactly one callback for the caller that started it — with that statement\'s own outcome —',
    'or in the dead-letter queue. How (details in the design section below and in `lambda/claim.ts`):',
    '',
    '- **Completions are tied to the started statement.** The start records the Data API\'s statement id on its',
    '  registration right after `ExecuteStatement` (the plain lifecycle stays at 5 AWS calls, as the original\'s). A claim',
    '  succeeds only for that id: an event that names a waiting statement but carries another id — forged by whoever may',
    '  invoke the function or send to the queue, or the genuine event of another principal\'s statement under the same',
    '  name — is acknowledged, logged at WARN and counted (`MismatchedEvents`), never called back. If the start died before',
    '  recording the id, the starter asks the Data API (which lists a role\'s own statements only) which statement has the',
    '  name. The queue policies deny `sqs:SendMessage` to everyone but the rule.',
    '- **One owner per attempt.** A claim belongs to one attempt (a new id per event delivery, fast path or sweep) with a',
    '  lease: the rest of its invocation. A fast path or a sweep settles its claim after the callback; the event\'s claim is',
    '  final at once, because its SQS message is its backup. Whoever finds a live claim of a fast path or a sweep waits',
    '  (the event is retried); a claim whose attempt died is taken over once its lease has passed; a failed callback gives',
    '  the claim back. Overlapping sweeps, the fast path and a sweep, two copies of an event: one callback.',
    '- **No lost fast-path callback.** The fast path\'s claim keeps the statement in flight until it is settled: if its',
    '  callback fails, the event (or a sweep) completes the statement, in every topology and with the reconciler off. The',
    '  starter may call back (`states:SendTask*`) whenever the fast path or the reconciler is on.',
    '- **Sweeps always progress.** A sweep examines at least one statement, whatever time is left; the construct refuses a',
    '  starter timeout under 30 s with the reconciler on; a sweep that examines nothing logs an ERROR and counts',
    '  `StalledSweeps`.',
    '- **Smaller holes closed.** A start that fails without a refusal (a server error, no answer) keeps its registration:',
    '  the client token makes a retry safe, its event or a sweep completes it; CloudFormation is answered `FAILED` with the',
    '  statement\'s physical id, so the rollback\'s Delete runs the resource\'s Delete SQL. A retried start must send the',
    '  same request (SQL, parameters and singleton, hashed). Orphans are decided by the task token alone. `ResponseURL`',
    '  must be `https:` on CloudFormation\'s response buckets.',
    '',
    'A second try at a task that was already called back (an attempt that died after its callback and before settling, or',
    'an SQS message delivered again after its callback) is refused by Step Functions as closed and counts for nothing; a',
    'custom resource may then receive the identical response a second time.',
    '',
    '| Attack or fault | Runs | Wrong callbacks | Lost | Duplicates |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
}

const n = (value: number | string | boolean | undefined): string => (typeof value === 'number' ? value.toLocaleString('en-US') : String(value));

/** The design section, with the measured sweep of the lost-events scenario when the suite ran. */
export function renderDesign(suite: ReconcileSuite | undefined): string[] {
  const sweep = suite?.results.find((r) => r.scenario.startsWith('1000 statements with a Step Functions callback'))?.measured;
  const perStatement = sweep ? Number(sweep.sweepCompleted) : 0;
  const out: string[] = [];
  out.push('## Never lose, never orphan, never run twice');
  out.push('');
  out.push('EventBridge lists the Data API\'s status-change events as delivered on a *best-effort* basis, a retried');
  out.push('invocation could start the SQL twice, a statement could outlive the caller that waits for it, and only the IAM');
  out.push('identity that started a statement may describe it. Four mechanisms close these gaps:');
  out.push('');
  out.push('- **Reconciler.** A schedule the construct creates (every 5 minutes; `reconcileInterval`, `enableReconciler`)');
  out.push('  sends `{"action": "reconcile"}` to each starter function. A sweep reads the statements that function started');
  out.push('  and whose completion nobody claimed, from the tracking table\'s sparse global secondary index `inFlight`');
  out.push('  (partition key `inFlightOf` = the starting function, sort key `registeredAt`; an item enters it at registration');
  out.push('  and leaves it with the completion claim), so a sweep costs O(statements in flight), never a table scan. An');
  out.push('  ended statement is completed through `completeStatement`, the one exactly-once claim events use, with the');
  out.push('  event rebuilt from `DescribeStatement`; a statement the Data API no longer knows fails its caller with');
  out.push('  `StatementNotFound`. A statement whose event arrives has left the index before any sweep: reconciling adds no');
  out.push('  call to it, and a plain Step Functions lifecycle stays at 5 AWS calls (`PutItem`, `ExecuteStatement`, `UpdateItem`');
  out.push('  recording the statement id; `UpdateItem` claiming the completion, `SendTaskSuccess`).');
  if (sweep) {
    out.push(`  Measured: one sweep over ${n(sweep.sweepExamined)} statements whose events were lost (of ${n(sweep.statements)}) took`);
    out.push(`  ${n(sweep.sweepSeconds)} s and made ${n(sweep.sweepQuery)} \`Query\`, ${n(sweep.sweepListStatements)} \`ListStatements\`, ${n(sweep.sweepDescribeStatement)} \`DescribeStatement\`,`);
    out.push(`  ${n(sweep.sweepUpdateItem)} \`UpdateItem\` and ${n(sweep.sweepSendTaskSuccess)} \`SendTaskSuccess\` calls — ${perStatement > 0 ? `per reconciled statement: ${n(Number(sweep.sweepDescribeStatement) / perStatement)} \`DescribeStatement\`, ${n(Number(sweep.sweepUpdateItem) / perStatement)} \`UpdateItem\` (claim, then settle), 1 callback` : 'none'}.`);
  }
  out.push('- **Cost per sweep.** An idle sweep: 1 Lambda invocation and 1 DynamoDB `Query` (0.5 read request unit) —');
  out.push('  8,640 a month at the default interval. Per statement in flight for longer than `olderThanSeconds` (60): 1');
  out.push('  `DescribeStatement` (its id is recorded at the start; for a start that died before recording it, `ListStatements` by');
  out.push('  its name and 1 `UpdateItem` recording it); if it ended, the completion (2 `UpdateItem`, 1 callback); if it runs with a');
  out.push('  Step Functions caller and orphans are cancelled, 1 `SendTaskHeartbeat`; an orphan adds `CancelStatement` and 1');
  out.push('  `UpdateItem`. One `Query` reads 100 statements; 8 are reconciled at a time; a sweep takes no new statement 10 s');
  out.push('  before its function\'s timeout (but always at least one).');
  out.push('- **Orphans.** In the same sweep, a running statement whose caller no longer waits is cancelled and marked handled:');
  out.push('  `SendTaskHeartbeat` on its task token answers `TaskTimedOut`/`TaskDoesNotExist`/`InvalidToken` (the task timed out,');
  out.push('  was closed, or its execution ended; the token alone decides, never the payload\'s execution ARN: a token handed to');
  out.push('  a child workflow keeps its statement while that task waits); or its CloudFormation request is past its');
  out.push('  `ServiceTimeout` (3600 s unless the request carries one). Never a statement without a callback, never one whose');
  out.push('  caller\'s state could not be read. On by default; `cancelOrphans: false` turns it off.');
  out.push('- **Idempotent start.** The caller\'s identity (the execution ARN and task token; the stack, request id and logical id of a');
  out.push('  CloudFormation request) is hashed (SHA-256) into an idempotency key, from which come the statement\'s invocation id');
  out.push('  (`<12 digits>.<15 digits>`: a retry names and registers the same statement; the conditional registration finds');
  out.push('  the first one) and the Data API `ClientToken` (the Data API keeps it 8 hours and answers a repeated request with');
  out.push('  the statement it already started). A retry after completion starts nothing.');
  out.push('- **Error text in every topology.** The completer reads a failure\'s error text after its claim, as the statement\'s');
  out.push('  starter (`startedBy`, recorded at registration): itself, with the owner-scoped `DescribeStatement`, or by invoking');
  out.push('  the starting function (`describeStatement` action) — a separate completer, or the completer of the callback');
  out.push('  infrastructure another tasker shares. The Data API stand-in enforces the owner rule, so the topology scenario');
  out.push('  fails if the completer describes the statement itself.');
  out.push('- **Quiet queue.** The rule admits only events whose `detail.statementName` has the taskers\' shape (wildcard');
  out.push('  `*:*.*`). The documentation gives the format of `detail.principal` only for an IAM user');
  out.push('  (`arn:aws:iam::123456789012:user/myuser`), not for an assumed role such as a function\'s role session, so the rule');
  out.push('  does not filter on it: a wrong guess would drop every event. Whatever else arrives is acknowledged and ignored;');
  out.push('  an event naming a waiting statement with another statement id is counted (`MismatchedEvents`) and never called back.');
  out.push('');
  return out;
}
