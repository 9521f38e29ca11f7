// The sink runner against a real broker when the store is slow: a flush that outlasts the
// group's session keeps the membership (heartbeats while it runs), and one that loses it (no
// heartbeats) rejoins from the committed offsets instead of stopping. Either way every record
// reaches the store, and the runner reports no error.
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import type { Sink, SinkRecord } from '../../connectors/sinks/sink.ts';
import { SinkRunner } from '../../connectors/sinks/sink-runner.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('silent');
const RECORDS = 2_000;
const SESSION_MS = 6_000;

/** Keeps what it is given; its first flush takes longer than the group's session. */
class SlowSink implements Sink<string> {
  readonly name = 'slow';
  readonly stored = new Set<string>();
  private pending: string[] = [];
  private slowFlushes = 1;

  add(record: SinkRecord<string>): void {
    this.pending.push(record.value);
  }

  async flush(): Promise<{ written: number }> {
    if (this.slowFlushes > 0) {
      this.slowFlushes -= 1;
      await new Promise((resolve) => setTimeout(resolve, SESSION_MS * 2));
    }
    for (const value of this.pending) this.stored.add(value);
    const written = this.pending.length;
    this.pending = [];
    return { written };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('sink runner with a store slower than the group session', () => {
  let kafka: Kafka;
  let topic: string;

  beforeAll(async () => {
    kafka = createKafka(config, 'sink-runner');
    topic = await createTestTopic(kafka, { partitions: 2 });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: RECORDS }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    await deleteTestTopics(kafka, [topic]);
  });

  it.each([
    ['keeps its membership by heartbeating while the flush runs', 1_000, 0],
    ['rejoins from the committed offsets when the flush cost it its membership', 600_000, 1],
  ])(
    '%s',
    async (_label, heartbeatIntervalMs, minRestarts) => {
      const sink = new SlowSink();
      const registry = new Registry();
      const runner = new SinkRunner<string>({
        kafka,
        topic,
        groupId: uniqueName('test-sink-slow'),
        sink,
        decode: (bytes) => Promise.resolve(bytes.toString()),
        log,
        metricsRegistry: registry,
        sessionTimeoutMs: SESSION_MS,
        heartbeatIntervalMs,
      });
      await runner.start();
      try {
        await waitFor(() => sink.stored.size === RECORDS, {
          timeoutMs: 120_000,
          intervalMs: 250,
          description: `all ${RECORDS} records stored (${sink.stored.size} so far)`,
        });
        expect(runner.error).toBeUndefined();
        const restarts =
          (await registry.getSingleMetric('continuum_sink_restarts_total')?.get())?.values[0]
            ?.value ?? 0;
        if (minRestarts === 0) expect(restarts).toBe(0);
        else expect(restarts).toBeGreaterThanOrEqual(minRestarts);
      } finally {
        await runner.stop();
      }
    },
    150_000,
  );
});
