/**
 * Starting statements through a pool of handler instances (separate processes), each with a Step Functions task
 * token the local endpoint knows as waiting, and collecting their real status-change events.
 */
import { LocalAws } from '../../../local/aws';
import { LocalFunction, outcomeOf } from '../../../local/lambda/runtime';
import { StatusChangeEvent } from '../../../local/servers/redshift-data';
import { until } from '../../../local/servers/sqs-queue';

export interface PoolStarted {
  readonly statementId: string;
  readonly taskToken: string;
}

/**
 * Starts `count` statements (`sql(i)`) through `instances` concurrent invokers of `pool`, under executions named
 * `<label>:run-<i>`, and waits until each has emitted its status-change event. Throws if a start fails.
 */
export async function startThroughPool(
  aws: LocalAws, pool: LocalFunction, count: number, options: { label: string; instances: number; sql?: (i: number) => string },
): Promise<{ started: PoolStarted[]; events: StatusChangeEvent[] }> {
  const started: PoolStarted[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: options.instances }, async () => {
    while (next < count) {
      const i = next++;
      const taskToken = aws.sfn.issueToken();
      const answer = outcomeOf(await pool.invoke({
        sqlStatement: options.sql?.(i) ?? `select ${i}`,
        taskToken,
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:${options.label}:run-${i}`,
      }));
      if (!answer.ok) throw new Error(`start ${i}: ${answer.errorType}: ${answer.errorMessage}`);
      started.push({ statementId: answer.result.Id, taskToken });
    }
  }));
  const ids = new Set(started.map((s) => s.statementId));
  await until(() => aws.dataApi.events.filter((e) => ids.has(e.detail.statementId)).length === count, 120_000, 'every event');
  return { started, events: aws.dataApi.events.filter((e) => ids.has(e.detail.statementId)) };
}
