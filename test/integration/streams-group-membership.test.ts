// Both Kafka adapters of the stream runtime tell it when the group membership was lost: the
// test's thread stops dead past the session timeout (as a paused process or a long GC would),
// the coordinator expels the member, and when the thread runs again the consumer rejoins under
// a new member id. The runtime must hear onLost before the new assignment, because another
// member may have run its tasks meanwhile (Kafka Streams' handleLostAll).
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createStreamsClient } from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind, StreamsGroupConsumer } from '../../streams/runtime/kafka-port.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('silent');
/** The broker's smallest allowed session (group.min.session.timeout.ms, default 6 s). */
const SESSION_TIMEOUT_MS = 6_000;
const TIMEOUT_MS = 120_000;

/** Blocks the thread: no timer, no socket read, no heartbeat. */
function freezeThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe.each<StreamsClientKind>(['kafkajs', 'platformatic'])(
  'group membership on the %s adapter',
  (kind) => {
    let kafka: Kafka;
    const topics: string[] = [];
    let consumer: StreamsGroupConsumer | undefined;

    beforeAll(() => {
      kafka = createKafka(config, `membership-${kind}`);
    });

    afterAll(async () => {
      await consumer?.stop();
      await deleteTestTopics(kafka, topics);
    }, TIMEOUT_MS);

    test(
      'a member expelled while its thread stood still is told it lost its tasks before it is given partitions again',
      async () => {
        const topic = await createTestTopic(kafka, { partitions: 2 });
        topics.push(topic);
        const events: string[] = [];
        const client = createStreamsClient(config, kind, log);
        consumer = await client.groupConsumer({
          groupId: uniqueName('test-membership'),
          topics: [topic],
          sessionTimeoutMs: SESSION_TIMEOUT_MS,
          onAssigned: (partitions) => {
            events.push(`assigned ${partitions.map((p) => p.partition).join(',')}`);
          },
          onLost: () => events.push('lost'),
          onBatch: () => Promise.resolve(),
          isFatal: () => false,
          onFatal: (err) => events.push(`fatal ${err.message}`),
        });
        await waitFor(() => events.includes('assigned 0,1'), {
          timeoutMs: 60_000,
          description: 'the first assignment',
        });
        // A first join is no loss.
        expect(events).toEqual(['assigned 0,1']);

        freezeThread(SESSION_TIMEOUT_MS + 4_000);

        await waitFor(() => events.length >= 3, {
          timeoutMs: 60_000,
          description: 'the rejoin after the expulsion',
        });
        expect(events.slice(0, 3)).toEqual(['assigned 0,1', 'lost', 'assigned 0,1']);
      },
      TIMEOUT_MS,
    );
  },
);
