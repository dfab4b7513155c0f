/**
 * The part of `docs/reliability.md` that explains how the tasker keeps its promise — every statement ends in exactly
 * one right callback — with the figures the reconciler suite measured (`test/reliability/reconcile.test.ts`).
 */

type Measured = Record<string, number | string | boolean>;

interface ReconcileSuite {
  readonly results: ReadonlyArray<{ readonly scenario: string; readonly measured: Measured }>;
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
  out.push('  call to it, and a plain Step Functions lifecycle stays at 4 AWS calls (`PutItem`, `ExecuteStatement`, `UpdateItem`,');
  out.push('  `SendTaskSuccess`).');
  if (sweep) {
    out.push(`  Measured: one sweep over ${n(sweep.sweepExamined)} statements whose events were lost (of ${n(sweep.statements)}) took`);
    out.push(`  ${n(sweep.sweepSeconds)} s and made ${n(sweep.sweepQuery)} \`Query\`, ${n(sweep.sweepListStatements)} \`ListStatements\`, ${n(sweep.sweepDescribeStatement)} \`DescribeStatement\`,`);
    out.push(`  ${n(sweep.sweepUpdateItem)} \`UpdateItem\` and ${n(sweep.sweepSendTaskSuccess)} \`SendTaskSuccess\` calls — ${perStatement > 0 ? `per reconciled statement: ${n(Number(sweep.sweepListStatements) / perStatement)} \`ListStatements\`, ${n(Number(sweep.sweepDescribeStatement) / perStatement)} \`DescribeStatement\`, ${n(Number(sweep.sweepUpdateItem) / perStatement)} \`UpdateItem\` (claim, then out of the index), 1 callback` : 'none'}.`);
  }
  out.push('- **Cost per sweep.** An idle sweep: 1 Lambda invocation and 1 DynamoDB `Query` (0.5 read request unit) —');
  out.push('  8,640 a month at the default interval. Per statement in flight for longer than `olderThanSeconds` (60): 1');
  out.push('  `DescribeStatement` (the first time, `ListStatements` by its name and, if it still runs, 1 `UpdateItem` recording its');
  out.push('  id); if it ended, the completion (2 `UpdateItem`, 1 callback); if it runs with a Step Functions caller and orphans');
  out.push('  are cancelled, 1 `DescribeExecution` and 1 `SendTaskHeartbeat`; an orphan adds `CancelStatement` and 1 `UpdateItem`.');
  out.push('  One `Query` reads 100 statements; 8 are reconciled at a time; a sweep stops 10 s before its function\'s timeout.');
  out.push('- **Orphans.** In the same sweep, a running statement whose caller no longer waits is cancelled and marked handled:');
  out.push('  `DescribeExecution` says its execution stopped, failed or timed out, or `SendTaskHeartbeat` on its task token');
  out.push('  answers `TaskTimedOut`/`TaskDoesNotExist`/`InvalidToken`; or its CloudFormation request is past its');
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
  out.push('  does not filter on it: a wrong guess would drop every event. Whatever else arrives is acknowledged and ignored.');
  out.push('');
  return out;
}
