/**
 * A local stand-in for an SQS queue with a Lambda event source mapping (`ReportBatchItemFailures` on) and a
 * redrive policy: messages are delivered to a consumer in batches shaped like Lambda's SQS event; a received message
 * stays invisible while its invocation runs (the construct sets the visibility timeout to six times the function's
 * timeout, so it never expires during an invocation); records the consumer lists in `batchItemFailures` (or the
 * whole batch, when the consumer throws or answers something Lambda cannot read) come back after the visibility
 * timeout (compressed) with a higher `ApproximateReceiveCount`; a message received `maxReceiveCount` times that
 * fails again moves to the dead-letter list on its next receive.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { deferred, Deferred, sleep } from './http-util';

/** One record of Lambda's SQS event. */
export interface SqsRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly attributes: {
    readonly ApproximateReceiveCount: string;
    readonly SentTimestamp: string;
    readonly SenderId: string;
    readonly ApproximateFirstReceiveTimestamp: string;
  };
  readonly messageAttributes: Record<string, never>;
  readonly md5OfBody: string;
  readonly eventSource: 'aws:sqs';
  readonly eventSourceARN: string;
  readonly awsRegion: string;
}

export interface SqsEvent {
  readonly Records: SqsRecord[];
}

/** The consumer's answer (partial batch response). */
export interface SqsBatchResponse {
  readonly batchItemFailures?: ReadonlyArray<{ readonly itemIdentifier: string }>;
}

export type SqsConsumer = (event: SqsEvent) => Promise<SqsBatchResponse | unknown>;

/** A message in the queue or in the dead-letter list. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** Not delivered again before this time (visibility timeout). */
  visibleAt: number;
  /** Received by an invocation that is still running. */
  inFlight?: boolean;
  /** Why the last delivery did not delete the message. */
  lastFailure?: string;
}

/** One delivery to the consumer, for traces and tests. */
export interface DeliveryRecord {
  readonly messageIds: string[];
  readonly receiveCounts: number[];
  readonly at: Date;
  readonly outcome: 'deleted' | 'partial' | 'failed';
  /** Message ids returned to the queue by this delivery. */
  readonly retried: string[];
  readonly error?: string;
}

export interface LocalQueueOptions {
  /** @default 'arn:aws:sqs:eu-west-1:123456789012:local-completion-queue' */
  readonly arn?: string;
  /** Records per delivery. @default 10 */
  readonly batchSize?: number;
  /** Time to collect a batch after the first message arrives (Lambda's batching window). @default 20 */
  readonly batchingWindowMs?: number;
  /** Time a failed message stays invisible after its invocation ended (the visibility timeout, compressed). @default 500 */
  readonly visibilityTimeoutMs?: number;
  /** Receives before a message moves to the dead-letter list. @default 15 */
  readonly maxReceiveCount?: number;
  /** Deliveries running at once (the event source mapping's concurrency). @default 2 */
  readonly maxConcurrency?: number;
  /** Deliver every message twice, concurrently (SQS is at-least-once). @default false */
  readonly duplicateDeliveries?: boolean;
}

export class LocalQueue {
  public readonly arn: string;
  /** Messages that exceeded `maxReceiveCount`. */
  public readonly deadLetters: QueuedMessage[] = [];
  /** Every delivery made to the consumer. */
  public readonly deliveries: DeliveryRecord[] = [];

  private readonly messages: QueuedMessage[] = [];
  private readonly options: Required<Omit<LocalQueueOptions, 'arn'>>;
  private consumer?: SqsConsumer;
  private running = 0;
  private timer?: NodeJS.Timeout;
  private timerDue = 0;
  private closed = false;
  private idleWaiters: Array<Deferred<void>> = [];

  constructor(options: LocalQueueOptions = {}) {
    this.arn = options.arn ?? 'arn:aws:sqs:eu-west-1:123456789012:local-completion-queue';
    this.options = {
      batchSize: options.batchSize ?? 10,
      batchingWindowMs: options.batchingWindowMs ?? 20,
      visibilityTimeoutMs: options.visibilityTimeoutMs ?? 500,
      maxReceiveCount: options.maxReceiveCount ?? 15,
      maxConcurrency: options.maxConcurrency ?? 2,
      duplicateDeliveries: options.duplicateDeliveries ?? false,
    };
  }

  /** Sets the function the event source mapping invokes. */
  setConsumer(consumer: SqsConsumer | undefined): void {
    this.consumer = consumer;
    this.schedule(0);
  }

  /** Enqueues a message (like `SendMessage`); returns its id. */
  send(body: string): string {
    const message: QueuedMessage = { messageId: randomUUID(), body, sentAt: Date.now(), receiveCount: 0, visibleAt: Date.now() };
    this.messages.push(message);
    this.schedule(this.options.batchingWindowMs);
    return message.messageId;
  }

  /** Messages still in the queue (visible or in flight). */
  get depth(): number {
    return this.messages.length;
  }

  /** Resolves when the queue is empty and no delivery is running. */
  whenIdle(): Promise<void> {
    if (this.messages.length === 0 && this.running === 0) return Promise.resolve();
    const waiter = deferred<void>();
    this.idleWaiters.push(waiter);
    return waiter.promise;
  }

  /** Stops delivering; messages stay where they are. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const waiter of this.idleWaiters) waiter.resolve();
    this.idleWaiters = [];
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.consumer) return;
    const due = Date.now() + Math.max(0, delayMs);
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, delayMs));
  }

  private pump(): void {
    if (this.closed || !this.consumer) return;
    const now = Date.now();
    while (this.running < this.options.maxConcurrency) {
      const batch: QueuedMessage[] = [];
      for (const message of this.messages) {
        if (batch.length >= this.options.batchSize) break;
        if (!message.inFlight && message.visibleAt <= now) batch.push(message);
      }
      if (!batch.length) break;
      // Receiving makes the messages invisible; a message over the redrive threshold moves to the DLQ instead.
      const deliverable: QueuedMessage[] = [];
      for (const message of batch) {
        if (message.receiveCount >= this.options.maxReceiveCount) {
          this.remove(message);
          this.deadLetters.push(message);
          continue;
        }
        message.receiveCount += 1;
        message.firstReceiveAt ??= now;
        message.inFlight = true;
        deliverable.push(message);
      }
      if (!deliverable.length) continue;
      this.deliver(deliverable);
      if (this.options.duplicateDeliveries) this.deliver(deliverable, true);
    }
    this.scheduleNextVisible();
    this.notifyIdle();
  }

  private scheduleNextVisible(): void {
    const invisible = this.messages.filter((m) => !m.inFlight && m.visibleAt > Date.now());
    if (invisible.length && this.running < this.options.maxConcurrency) {
      this.schedule(Math.min(...invisible.map((m) => m.visibleAt)) - Date.now());
    }
  }

  private deliver(batch: QueuedMessage[], duplicate = false): void {
    this.running += 1;
    const event: SqsEvent = { Records: batch.map((m) => sqsRecord(m, this.arn)) };
    const ids = new Set(batch.map((m) => m.messageId));
    const receiveCounts = batch.map((m) => m.receiveCount);
    void (async () => {
      let failedIds: string[];
      let outcome: DeliveryRecord['outcome'];
      let error: string | undefined;
      try {
        const read = readBatchResponse(await this.consumer!(event), ids);
        failedIds = read.failed;
        error = read.error;
        outcome = failedIds.length === 0 ? 'deleted' : read.error !== undefined ? 'failed' : 'partial';
      } catch (caught) {
        failedIds = [...ids];
        outcome = 'failed';
        error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
      }
      if (!duplicate) {
        for (const message of batch) {
          message.inFlight = false;
          if (failedIds.includes(message.messageId)) {
            message.lastFailure = error ?? 'listed in batchItemFailures';
            message.visibleAt = Date.now() + this.options.visibilityTimeoutMs;
          } else {
            this.remove(message);
          }
        }
      }
      this.deliveries.push({ messageIds: [...ids], receiveCounts, at: new Date(), outcome, retried: duplicate ? [] : failedIds, error });
      this.running -= 1;
      this.pump();
    })();
  }


  private remove(message: QueuedMessage): void {
    const index = this.messages.indexOf(message);
    if (index >= 0) this.messages.splice(index, 1);
  }

  private notifyIdle(): void {
    if (this.messages.length === 0 && this.running === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }
}

/** The record Lambda's event source mapping hands the function for a received message. */
export function sqsRecord(
  message: Pick<QueuedMessage, 'messageId' | 'body' | 'receiveCount' | 'sentAt' | 'firstReceiveAt'>, queueArn: string,
): SqsRecord {
  return {
    messageId: message.messageId,
    receiptHandle: randomBytes(48).toString('base64'),
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(message.sentAt),
      SenderId: 'AIDAEVENTBRIDGELOCAL',
      ApproximateFirstReceiveTimestamp: String(message.firstReceiveAt ?? message.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] || 'eu-west-1',
  };
}

/**
 * Lambda's reading of a partial batch response: nothing, `{}` or an empty or null list deletes every record; a list
 * of the batch's message ids retries those; anything unreadable (not an object, not a list, an id that is empty,
 * missing or not in the batch) fails the whole batch.
 */
export function readBatchResponse(response: unknown, ids: ReadonlySet<string>): { failed: string[]; error?: string } {
  if (response === undefined || response === null) return { failed: [] };
  const all = (error: string) => ({ failed: [...ids], error });
  if (typeof response !== 'object') return all('the response is not a partial batch response');
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failed: [] };
  if (!Array.isArray(list)) return all('batchItemFailures is not a list');
  const failed: string[] = [];
  for (const item of list) {
    const id = typeof item === 'object' && item !== null ? (item as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || !ids.has(id)) return all('batchItemFailures named an item that is not in the batch');
    failed.push(id);
  }
  return { failed };
}

/** Waits until `predicate` holds, polling every `intervalMs` (for tests and the demo). */
export async function until(predicate: () => boolean, timeoutMs: number, what: string, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
