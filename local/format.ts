/** A run's trace and outcome as lines a person reads (the CLI prints them; tests can print them on failure). */
import type { RunResult } from './local-app';
import type { TraceEvent } from './stepfunctions/trace';

const SHOWN: ReadonlySet<TraceEvent['kind']> = new Set([
  'StateEntered', 'StateFailed', 'StateRetried', 'StateCaught', 'TaskInvoked', 'TaskCallback', 'TaskTimedOut',
  'MapRunStarted', 'MapRunSucceeded', 'MapRunFailed',
  'ExecutionSucceeded', 'ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted',
]);

/** One line per trace event: time since the first, indentation per nesting level, state and detail. */
export function formatTrace(trace: readonly TraceEvent[]): string[] {
  const t0 = trace[0]?.at.getTime() ?? 0;
  return trace.filter((event) => SHOWN.has(event.kind)).map((event) => {
    const time = `+${String(event.at.getTime() - t0).padStart(5)} ms`;
    const indent = '  '.repeat(event.depth);
    const state = event.state ? ` ${event.state}` : '';
    const latency = event.latencyMs !== undefined ? ` after ${Math.round(event.latencyMs)} ms` : '';
    const detail = event.detail ? `: ${event.detail.length > 200 ? `${event.detail.slice(0, 200)}…` : event.detail}` : '';
    return `${time} ${indent}${event.kind}${state}${detail}${latency}`;
  });
}

/** The outcome, the SQL that ran and the trace. */
export function formatResult(result: RunResult): string[] {
  const lines = [`${result.machine.logicalId}: ${result.status} in ${Math.round(result.durationMs)} ms`];
  if (result.error) lines.push(`  error: ${result.error}`, `  cause: ${result.cause ?? ''}`);
  if (result.status === 'SUCCEEDED') lines.push(`  output: ${JSON.stringify(result.output)}`);
  if (result.unanswered.length) lines.push(`  tasks nothing answered (mock them): ${result.unanswered.join(', ')}`);
  if (result.statements.length) {
    lines.push('SQL:');
    for (const s of result.statements) {
      const params = s.parameters?.length ? ` [${s.parameters.map((p) => `${p.name}=${p.value}`).join(', ')}]` : '';
      lines.push(`  ${s.status.padEnd(8)} ${s.sql.replace(/\s+/g, ' ').slice(0, 160)}${params}${s.error ? ` — ${s.error}` : ''}`);
    }
  }
  lines.push('Trace:', ...formatTrace(result.trace).map((line) => `  ${line}`));
  return lines;
}
