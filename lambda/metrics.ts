/**
 * CloudWatch metrics in Embedded Metric Format: one log line per completed statement (Powertools Metrics), read by
 * CloudWatch from the function's log group. No AWS call, nothing added to an invocation's latency but a line of
 * output. Names and dimensions are the contract's `Metric` (the construct's `metric...()` methods read the same).
 */
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { Metric } from '../src/contract';

/** How a completion was found. */
export type CompletionPath = 'fastPath' | 'event' | 'reconciler';

/** What is measured when a statement's completion has been handled (its callback sent, or nobody waited). */
export interface StatementCompletion {
  /** The statement's starter function (the `Tasker` dimension). */
  readonly tasker: string;
  /** FINISHED, FAILED, ABORTED, or the reconciler's NOT_FOUND. */
  readonly state: string;
  readonly path: CompletionPath;
  /** Milliseconds from registration to completion, when the registration time is known. */
  readonly durationMs?: number;
  /** Milliseconds from the statement's end to the callback sent. */
  readonly callbackLatencyMs?: number;
  /** Rows returned or changed, when the Data API reports them. */
  readonly rows?: number;
}

/** Counters that are not a statement's completion. */
export type CountName =
  | typeof Metric.ORPHANS_CANCELLED
  | typeof Metric.CALLBACK_FAILURES
  | typeof Metric.IGNORED_EVENTS
  | typeof Metric.DUPLICATE_EVENTS
  | typeof Metric.MISMATCHED_EVENTS
  | typeof Metric.STALLED_SWEEPS;

/** Where the modules record what they measure (EMF in the function; a recorder in tests). */
export interface MetricsSink {
  statementCompleted(completion: StatementCompletion): void;
  /** Adds `value` (default 1) to the counter `name` of `tasker`. */
  count(name: CountName, tasker: string, value?: number): void;
}

const PATH_METRIC: Record<CompletionPath, string> = {
  fastPath: Metric.FAST_PATH_COMPLETIONS,
  event: Metric.EVENT_COMPLETIONS,
  reconciler: Metric.RECONCILED_STATEMENTS,
};

/**
 * Metrics as EMF log lines. Each record is built and written synchronously, so statements completed concurrently in
 * one invocation (an SQS batch) never mix their dimensions.
 */
export class EmfMetrics implements MetricsSink {
  private readonly metrics = new Metrics({ namespace: Metric.NAMESPACE, serviceName: Metric.SERVICE_NAME });

  statementCompleted(completion: StatementCompletion): void {
    const { metrics } = this;
    metrics.addDimension(Metric.TASKER_DIMENSION, completion.tasker);
    metrics.addMetric(completion.state === 'FINISHED' ? Metric.STATEMENTS_FINISHED : Metric.STATEMENTS_FAILED, MetricUnit.Count, 1);
    metrics.addMetric(PATH_METRIC[completion.path], MetricUnit.Count, 1);
    if (completion.durationMs !== undefined && completion.durationMs >= 0) {
      metrics.addMetric(Metric.STATEMENT_DURATION, MetricUnit.Milliseconds, completion.durationMs);
    }
    if (completion.callbackLatencyMs !== undefined) {
      metrics.addMetric(Metric.CALLBACK_LATENCY, MetricUnit.Milliseconds, Math.max(0, completion.callbackLatencyMs));
    }
    if (completion.rows !== undefined && completion.rows >= 0) metrics.addMetric(Metric.ROWS, MetricUnit.Count, completion.rows);
    metrics.publishStoredMetrics();
  }

  count(name: CountName, tasker: string, value = 1): void {
    this.metrics.addDimension(Metric.TASKER_DIMENSION, tasker);
    this.metrics.addMetric(name, MetricUnit.Count, value);
    this.metrics.publishStoredMetrics();
  }
}

/** The `Tasker` dimension of what a function measures about itself (outside Lambda: `local`). */
export function ownTasker(functionName: string | undefined): string {
  return functionName ?? 'local';
}
