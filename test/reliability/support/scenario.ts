/**
 * Building blocks of a reliability scenario: start statements through the bundled handler (each scenario under its
 * own execution-ARN prefix, so faults and counts can be scoped to it), collect their real status-change events from
 * the Data API stand-in, and deliver them through a local SQS queue with a redrive policy (15 receives, then the
 * dead-letter list) to the handler.
 */
import { Handler, invoke } from './in-process';
import { Tracked } from './outcomes';
import { QueueRecord, completionQueue } from './sqs';
import { LocalAws } from '../../../local/aws';
import { StatusChangeEvent } from '../../../local/servers/redshift-data';
import { LocalQueue, LocalQueueOptions } from '../../../local/servers/sqs-queue';
import { cloudFormationEvent } from '../../lambda/support';

export const ACCOUNT = '123456789012';

export interface Started extends Tracked {
  readonly executionArn: string;
  readonly statementName?: string;
}

export class Scenario {
  /** Execution ARNs of this scenario start with this (the tracking table's partition key, the statement name's prefix). */
  public readonly prefix: string;
  public readonly started: Started[] = [];
  public readonly events: StatusChangeEvent[] = [];
  private readonly stopCollecting: () => void;

  constructor(private readonly aws: LocalAws, private readonly handler: Handler, slug: string) {
    this.prefix = `arn:aws:states:eu-west-1:${ACCOUNT}:execution:Reliability:${slug}#`;
    // Every event (a statement's event can arrive before its start returns); `allEvents` keeps this scenario's.
    this.stopCollecting = aws.dataApi.onEvent((event) => this.events.push(event));
  }

  /** Whether a DynamoDB request body concerns one of this scenario's items. */
  ownsItem(body: Record<string, any>): boolean {
    const id: unknown = body.Item?.id?.S ?? body.Key?.id?.S;
    return typeof id === 'string' && id.startsWith(this.prefix);
  }

  /** Whether a Step Functions request body carries one of this scenario's task tokens. */
  ownsToken(body: Record<string, any>): boolean {
    return this.started.some((s) => s.taskToken === body.taskToken);
  }

  /**
   * Starts `count` statements with a Step Functions callback; `token(i)` gives the task token (default: a token
   * the Step Functions endpoint knows as waiting). Throws if a start fails.
   */
  async start(
    count: number, options: { sql?: (i: number) => string; token?: (i: number) => string; extra?: Record<string, unknown> } = {},
  ): Promise<Started[]> {
    const batch: Started[] = [];
    for (let i = 0; i < count; i++) {
      const executionArn = `${this.prefix}${this.started.length}`;
      const taskToken = options.token?.(i) ?? this.aws.sfn.issueToken();
      const answer = await invoke(this.handler, {
        sqlStatement: options.sql?.(i) ?? `select ${i} as n`, taskToken, executionArn, ...options.extra,
      });
      if (!answer.ok) throw new Error(`start of ${executionArn} failed: ${answer.errorType}: ${answer.errorMessage}`);
      const started = { executionArn, taskToken, statementId: answer.result.Id as string };
      this.started.push(started);
      batch.push(started);
    }
    return batch;
  }

  /** Starts a statement answered at a CloudFormation response URL. */
  async startForStack(responseUrl: string, logicalId: string, sql = 'select 1'): Promise<Started> {
    const answer = await invoke(this.handler, {
      ...cloudFormationEvent('Create', responseUrl, { LogicalResourceId: logicalId, RequestId: `request-${logicalId}` }), sqlStatement: sql,
    });
    if (!answer.ok) throw new Error(`start for ${logicalId} failed: ${answer.errorType}: ${answer.errorMessage}`);
    const started = { executionArn: logicalId, responseUrl, statementId: answer.result.Id as string };
    this.started.push(started);
    return started;
  }

  /** Waits until every started statement has emitted its status-change event. */
  async allEvents(timeoutMs = 30_000): Promise<StatusChangeEvent[]> {
    const ids = new Set(this.started.map((s) => s.statementId));
    const deadline = Date.now() + timeoutMs;
    while (this.events.filter((e) => ids.has(e.detail.statementId)).length < ids.size) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the status-change events of ${this.prefix}*`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.stopCollecting();
    return this.events.filter((e) => ids.has(e.detail.statementId));
  }

  /**
   * Puts `bodies` on a new queue whose consumer is the handler and waits until every message was deleted or moved
   * to the dead-letter list (redelivery after a failure in compressed time; the SDK's own retry backoff is real).
   */
  async deliver(bodies: readonly string[], options: LocalQueueOptions = {}): Promise<LocalQueue> {
    const queue = completionQueue((event) => this.handler(event), options);
    for (const body of bodies) queue.send(body);
    await queue.whenIdle();
    queue.close();
    return queue;
  }
}

/** Moves the dead-letter list back to a new queue (an SQS DLQ redrive) and waits until it is empty. */
export async function redrive(handler: Handler, dlq: QueueRecord): Promise<LocalQueue> {
  const queue = completionQueue((event) => handler(event));
  for (const message of dlq.deadLetters) queue.send(message.body);
  await queue.whenIdle();
  queue.close();
  return queue;
}

/** Statistics of a queue's deliveries. */
export function deliveryStats(queue: QueueRecord): { deliveries: number; retriedMessages: number; maxReceiveCount: number } {
  return {
    deliveries: queue.deliveries.length,
    retriedMessages: queue.deliveries.reduce((total, delivery) => total + delivery.retried.length, 0),
    maxReceiveCount: Math.max(0, ...queue.deliveries.flatMap((delivery) => delivery.receiveCounts)),
  };
}
