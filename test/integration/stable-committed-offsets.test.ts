// A stream task reads its partition's committed offsets once no transaction can still move them
// (KIP-447's require_stable), on both Kafka adapters of the runtime, against the real broker.
// kafkajs's own OffsetFetch (v4) answers at once with the offsets from before an open
// transaction; a task taking a partition over then processed records a committed transaction
// had already consumed, and wrote their outputs twice (streams/runtime/clients/
// stable-committed-offsets.ts). This test failed so with the kafkajs adapter before.
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import {
  createStreamsClient,
  STREAMS_CLIENT_KINDS,
} from '../../streams/runtime/clients/create-streams-client.ts';
import { createKafka, createTestTopic, deleteTestTopics, withAdmin } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const kafka = createKafka(config, 'stable-offsets');
const log = createLogger('warn');
const topics: string[] = [];

afterAll(async () => {
  await deleteTestTopics(kafka, topics);
});

describe.each(STREAMS_CLIENT_KINDS)('%s adapter: committed offsets', (kind) => {
  it('waits out an open transaction that commits offsets, then returns what it committed', async () => {
    const topic = await createTestTopic(kafka);
    topics.push(topic);
    const groupId = uniqueName('stable-offsets', '-');
    await withAdmin(kafka, (admin) =>
      admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '2' }] }),
    );
    const producer = kafka.producer({
      transactionalId: uniqueName('stable-offsets-tx', '-'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    const client = createStreamsClient(config, kind, log);
    const admin = await client.admin();
    try {
      const transaction = await producer.transaction();
      await transaction.send({ topic, messages: [{ key: 'k', value: 'v' }] });
      await transaction.sendOffsets({
        consumerGroupId: groupId,
        topics: [{ topic, partitions: [{ partition: 0, offset: '5' }] }],
      });
      const fetching = admin.committedOffsets(groupId, [topic], 0);
      // While the transaction is open its offset commit is pending: no answer yet. (A bounded
      // wait, as "no answer" has no event to await; kafkajs's own fetch answered '2' at once.)
      const early = await Promise.race([
        fetching.then((offsets) => offsets.get(topic)),
        delay(2_000).then(() => 'no answer'),
      ]);
      expect(early).toBe('no answer');
      await transaction.commit();
      expect(await fetching).toEqual(new Map([[topic, '5']]));
    } finally {
      await admin.close();
      await producer.disconnect();
    }
  });
});
