/** Renders the sessions and conflicts benchmark (`sessions.ts`) for docs/benchmarks.md. */
import type { SessionsResult } from './sessions';

export function renderSessions(result: SessionsResult, heading: string): string[] {
  const { workflow, conflicts } = result;
  const out = [heading, ''];
  out.push(`A ${workflow.steps}-step workflow (stage ${workflow.rowsStaged} rows, merge them, finish), each step started through the bundled`);
  out.push('handler and called back (the fast path: the statements end within its wait) before the next one starts, on the');
  out.push('PostgreSQL engine; without a session the staging table is a real table the last step drops, with one it is a');
  out.push(`temporary table. ${workflow.workflows} workflows of each, alternating which goes first; calls counted at the local endpoints`);
  out.push('(the completion events of the fast-path statements included: each is a duplicate, refused by the claim).');
  out.push('');
  out.push('| Variant | Calls per workflow | Of which | Wall time p50 | p95 |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const v of workflow.variants) {
    const of = Object.entries(v.callsPerWorkflow).map(([op, n]) => `${op} ${n}`).join(', ');
    out.push(`| ${v.variant} | ${v.callsTotal} | ${of} | ${v.wallMs.p50} ms | ${v.wallMs.p95} ms |`);
  }
  out.push('');
  out.push('A session adds no call: its id travels in the start\'s answer and is recorded with the statement id (the same');
  out.push('`UpdateItem`), and the callback carries it. Locally a connection costs little, so the wall times are close; on');
  out.push('Redshift a statement in a session skips the connection and authentication of a new one, and the workflow needs no');
  out.push('permanent staging table, no `DROP` and no cleanup when it fails half-way (the session closes itself).');
  out.push('');
  out.push('Concurrent writers on one table: the example app\'s `ConcurrentWritersRsTask` machine, run by the local Step Functions');
  out.push('runner (its `Retry` on `SerializationConflict`: 2 s, backoff 2, full jitter, 10 attempts). Each writer reads the table');
  out.push('and appends to it in one transaction held open 1 s; PostgreSQL runs them SERIALIZABLE, as Redshift does, so writers');
  out.push('that overlap fail with error 1023 and are run again.');
  out.push('');
  out.push('| Writers | SUCCEEDED | Conflicts (FAILED, retried) | Writers by number of retries (0, 1, 2, ...) | Most retries | Wall time |');
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const run of conflicts) {
    out.push(`| ${run.writers} | ${run.succeeded} | ${run.conflicts} | ${run.retryHistogram.join(', ')} | ${run.maxRetries} | ${(run.wallMs / 1000).toFixed(1)} s |`);
  }
  out.push('');
  return out;
}
