import { createHash } from 'node:crypto';
import { LocalQueue, SqsEvent, until } from '../../local/servers/sqs-queue';

function queue(options: ConstructorParameters<typeof LocalQueue>[0] = {}): LocalQueue {
  return new LocalQueue({ visibilityTimeoutMs: 20, batchingWindowMs: 5, ...options });
}

test('delivers messages in Lambda SQS event shape and deletes them on success', async () => {
  const q = queue();
  const events: SqsEvent[] = [];
  q.setConsumer(async (e) => {
    events.push(e);
    return {};
  });
  const id = q.send('{"a":1}');
  await until(() => q.depth === 0 && q.deliveries.length === 1, 2000, 'the delivery');
  expect(events[0].Records).toHaveLength(1);
  expect(events[0].Records[0]).toMatchObject({
    messageId: id,
    body: '{"a":1}',
    eventSource: 'aws:sqs',
    awsRegion: 'eu-west-1',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:local-completion-queue',
    attributes: { ApproximateReceiveCount: '1' },
    md5OfBody: createHash('md5').update('{"a":1}').digest('hex'),
  });
  expect(q.deliveries[0].outcome).toBe('deleted');
  q.close();
});

test('batches up to batchSize records', async () => {
  const q = queue({ batchSize: 3, batchingWindowMs: 30, maxConcurrency: 1 });
  const sizes: number[] = [];
  q.setConsumer(async (e) => {
    sizes.push(e.Records.length);
  });
  for (let i = 0; i < 7; i++) q.send(String(i));
  await q.whenIdle();
  expect(sizes).toEqual([3, 3, 1]);
  q.close();
});

test('only the records in batchItemFailures come back, with a higher receive count', async () => {
  const q = queue();
  const counts = new Map<string, string[]>();
  q.setConsumer(async (e) => {
    for (const r of e.Records) counts.set(r.body, [...counts.get(r.body) ?? [], r.attributes.ApproximateReceiveCount]);
    const retry = e.Records.filter((r) => r.body === 'retry' && r.attributes.ApproximateReceiveCount === '1');
    return { batchItemFailures: retry.map((r) => ({ itemIdentifier: r.messageId })) };
  });
  q.send('ok');
  q.send('retry');
  await q.whenIdle();
  expect(counts.get('ok')).toEqual(['1']);
  expect(counts.get('retry')).toEqual(['1', '2']);
  expect(q.deadLetters).toEqual([]);
  q.close();
});

test('a consumer error or an unknown itemIdentifier fails the whole batch; maxReceiveCount moves a message to the DLQ', async () => {
  const q = queue({ maxReceiveCount: 3 });
  let calls = 0;
  q.setConsumer(async () => {
    calls += 1;
    if (calls % 2) throw new Error('boom');
    return { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] };
  });
  q.send('poison');
  await until(() => q.deadLetters.length === 1, 5000, 'the dead letter');
  expect(calls).toBe(3);
  expect(q.deadLetters[0]).toMatchObject({ body: 'poison', receiveCount: 3 });
  expect(q.deliveries.map((d) => d.outcome)).toEqual(['failed', 'failed', 'failed']);
  expect(q.deliveries[0].error).toBe('Error: boom');
  expect(q.deliveries[1].error).toMatch(/not in the batch/);
  q.close();
});

test('duplicateDeliveries hands every message to the consumer twice', async () => {
  const q = queue({ duplicateDeliveries: true });
  const bodies: string[] = [];
  q.setConsumer(async (e) => {
    bodies.push(...e.Records.map((r) => r.body));
  });
  q.send('x');
  await until(() => bodies.length === 2 && q.depth === 0, 2000, 'two deliveries');
  expect(bodies).toEqual(['x', 'x']);
  q.close();
});

test('a message is not received again while its invocation runs, however long it takes', async () => {
  const q = queue({ visibilityTimeoutMs: 5 });
  let receives = 0;
  q.setConsumer(async () => {
    receives += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return {};
  });
  q.send('slow');
  await q.whenIdle();
  expect(receives).toBe(1);
  q.close();
});

test('an answer Lambda cannot read as a partial batch response fails the whole batch', async () => {
  const q = queue({ maxReceiveCount: 2 });
  q.setConsumer(async () => ({ batchItemFailures: 'all of them' }));
  q.send('a');
  await until(() => q.deadLetters.length === 1, 5000, 'the dead letter');
  expect(q.deliveries.map((d) => d.error)).toEqual(['batchItemFailures is not a list', 'batchItemFailures is not a list']);
  q.close();
});
