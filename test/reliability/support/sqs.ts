/**
 * The completion queue of the reliability scenarios: the local SQS stand-in (`local/servers/sqs-queue.ts`) with the
 * construct's redrive policy, in compressed time — a failed message is received again after 10 ms instead of the
 * visibility timeout, and batches are not held back by a batching window.
 */
import { LocalQueue, LocalQueueOptions, SqsConsumer } from '../../../local/servers/sqs-queue';

/** What the outcome helpers read of a queue. */
export interface QueueRecord {
  readonly deadLetters: readonly { readonly body: string }[];
  readonly deliveries: readonly { readonly retried: readonly string[]; readonly receiveCounts: readonly number[] }[];
}

/** A queue delivering to `consumer`. */
export function completionQueue(consumer: SqsConsumer, options: LocalQueueOptions = {}): LocalQueue {
  const queue = new LocalQueue({ batchingWindowMs: 0, visibilityTimeoutMs: 10, ...options });
  queue.setConsumer(consumer);
  return queue;
}
