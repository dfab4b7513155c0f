/**
 * The completion queue as the reliability scenarios need it: an SQS queue with a redrive policy behind a Lambda
 * event source mapping with `ReportBatchItemFailures`, in compressed time.
 *
 * - A received message stays invisible until its invocation ends (the construct sets the visibility timeout to six
 *   times the function's timeout, so it never expires during a run);
 * - the messages an invocation reports in `batchItemFailures` — or all of its batch when it throws or answers
 *   something Lambda cannot read — become visible again after `redeliveryDelayMs` (the visibility timeout,
 *   compressed), with their receive count increased;
 * - a message received `maxReceiveCount` times that fails again moves to the dead-letter list on its next receive.
 *
 * (`local/servers/sqs-queue.ts` models the visibility timeout literally, including its expiry during a long
 * invocation; that duplicate-delivery case has its own scenario.)
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly messageAttributes: Record<string, never>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export type Consumer = (event: { Records: SqsRecord[] }) => Promise<unknown>;

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
}

export interface Delivery {
  readonly messageIds: string[];
  readonly receiveCounts: number[];
  /** Messages this delivery put back on the queue. */
  readonly retried: string[];
  readonly outcome: 'deleted' | 'partial' | 'failed';
  readonly error?: string;
}

/** What the outcome helpers read of a queue. */
export interface QueueRecord {
  readonly deadLetters: readonly { readonly body: string }[];
  readonly deliveries: readonly { readonly retried: readonly string[]; readonly receiveCounts: readonly number[] }[];
}

export interface SimulatedQueueOptions {
  /** @default 10 */
  readonly batchSize?: number;
  /** Invocations at once (the event source mapping's concurrency). @default 2 */
  readonly maxConcurrency?: number;
  /** @default 15 */
  readonly maxReceiveCount?: number;
  /** Delay before a failed message is visible again, ms. @default 10 */
  readonly redeliveryDelayMs?: number;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  visibleAt: number;
  inFlight: boolean;
}

const ARN = 'arn:aws:sqs:eu-west-1:123456789012:reliability-completion-queue';

export class SimulatedQueue implements QueueRecord {
  public readonly deadLetters: DeadLetter[] = [];
  public readonly deliveries: Delivery[] = [];
  private readonly messages: Message[] = [];
  private readonly options: Required<SimulatedQueueOptions>;
  private running = 0;
  private timer?: NodeJS.Timeout;
  private idle: Array<() => void> = [];

  constructor(private readonly consumer: Consumer, options: SimulatedQueueOptions = {}) {
    this.options = { batchSize: 10, maxConcurrency: 2, maxReceiveCount: 15, redeliveryDelayMs: 10, ...options };
  }

  send(body: string): string {
    const message = { messageId: randomUUID(), body, sentAt: Date.now(), receiveCount: 0, visibleAt: 0, inFlight: false };
    this.messages.push(message);
    this.schedule(0);
    return message.messageId;
  }

  /** Resolves once every message was deleted or dead-lettered. */
  whenIdle(): Promise<void> {
    if (this.messages.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delayMs);
  }

  private pump(): void {
    const now = Date.now();
    while (this.running < this.options.maxConcurrency) {
      const batch: Message[] = [];
      for (const message of this.messages) {
        if (batch.length === this.options.batchSize) break;
        if (message.inFlight || message.visibleAt > now) continue;
        if (message.receiveCount >= this.options.maxReceiveCount) {
          this.messages.splice(this.messages.indexOf(message), 1);
          this.deadLetters.push({ messageId: message.messageId, body: message.body, receiveCount: message.receiveCount });
          continue;
        }
        batch.push(message);
      }
      if (batch.length === 0) break;
      for (const message of batch) {
        message.receiveCount += 1;
        message.inFlight = true;
      }
      void this.deliver(batch);
    }
    const waiting = this.messages.filter((m) => !m.inFlight);
    if (waiting.length > 0 && this.running < this.options.maxConcurrency) {
      this.schedule(Math.max(0, Math.min(...waiting.map((m) => m.visibleAt)) - Date.now()));
    }
    if (this.messages.length === 0 && this.running === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  private async deliver(batch: Message[]): Promise<void> {
    this.running += 1;
    const ids = batch.map((m) => m.messageId);
    let failed: string[];
    let error: string | undefined;
    try {
      const response = await this.consumer({ Records: batch.map((m) => record(m)) });
      failed = failuresOf(response, new Set(ids));
    } catch (caught) {
      failed = ids;
      error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
    }
    for (const message of batch) {
      message.inFlight = false;
      if (failed.includes(message.messageId)) {
        message.visibleAt = Date.now() + this.options.redeliveryDelayMs;
      } else {
        this.messages.splice(this.messages.indexOf(message), 1);
      }
    }
    this.deliveries.push({
      messageIds: ids,
      receiveCounts: batch.map((m) => m.receiveCount),
      retried: failed,
      outcome: failed.length === 0 ? 'deleted' : failed.length === ids.length ? 'failed' : 'partial',
      error,
    });
    this.running -= 1;
    this.pump();
  }
}

/**
 * Lambda's reading of a partial batch response: nothing, `{}` or an empty/null list = all deleted; a list of
 * known message ids = those retried; anything unreadable (an unknown, empty or missing id) = the whole batch failed.
 */
function failuresOf(response: unknown, ids: Set<string>): string[] {
  if (response === undefined || response === null) return [];
  if (typeof response !== 'object') return [...ids];
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [...ids];
  const failed: string[] = [];
  for (const item of list) {
    const id = typeof item === 'object' && item !== null ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || !ids.has(id)) return [...ids];
    failed.push(id);
  }
  return failed;
}

function record(message: Message): SqsRecord {
  return {
    messageId: message.messageId,
    receiptHandle: randomBytes(32).toString('base64'),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDAEVENTBRIDGE',
      ApproximateFirstReceiveTimestamp: String(message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: ARN,
    awsRegion: 'eu-west-1',
  };
}
