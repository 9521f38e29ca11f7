// A replay's backlog: 1,000,000 records in ONE partition, processed exactly-once by the streams
// runtime on each Kafka client adapter, with the store in memory and on disk (LMDB), beside kafkajs copying the same records in one
// transaction per fetched batch. The topology is the anchor of bench/README.md (JSON telemetry →
// a reading over 200 km/h dead-lettered → latest reading per vehicle in a changelogged store →
// output). Each row checks what it measured: outputs = inputs − dead letters, and the dead
// letters are exactly the poison and the too-fast readings that were written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { createKafkaClient } from '../core/kafka-client.ts';
import { dlqTopic } from '../core/topics.ts';
import { waitFor } from '../core/wait-for.ts';
import { createStreamsClient } from '../streams/runtime/clients/create-streams-client.ts';
import {
  RecordRejectedError,
  type Processor,
  type ProcessorContext,
} from '../streams/runtime/processor.ts';
import { jsonSerde, stringSerde } from '../streams/runtime/serde.ts';
import type { KeyValueStore } from '../streams/runtime/state-store.ts';
import { StreamsApplication } from '../streams/runtime/streams-application.ts';
import { TopologyBuilder, type Topology } from '../streams/runtime/topology.ts';
import type { BenchContext, BenchFigure, Benchmark } from './benchmark.ts';
import { buildKafkaStreamsPeer, peakRssOf, startKafkaStreamsPeer } from './kafka-streams-peer.ts';
import { BenchProgress, benchProgressOptions } from './bench-progress.ts';
import {
  BenchScope,
  CopyHop,
  PipelineBenchError,
  produceAll,
  RssSampler,
  waitForDrain,
  type OutboundRecord,
} from './pipeline-kafka.ts';
import { mebibytes } from './pipeline-stats.ts';

const DEFAULT_RECORDS = 1_000_000;
const VEHICLES = 1_000;
/** Every this many records one is not JSON (a deserialize dead letter). */
const POISON_EVERY = 100_000;
/** Every this many records one reading is too fast (a process dead letter). */
const TOO_FAST_EVERY = 997;
const PHASE_TIMEOUT_MS = 900_000;

export interface Reading {
  vehicleId: string;
  eventTime: number;
  lat: number;
  lon: number;
  speed: number;
  fuelPct: number;
  odometerKm: number;
  note: string;
}

export const backlogBenchmark: Benchmark = {
  name: 'backlog',
  run: (ctx) => runBacklog(ctx),
};

/** The anchor topology: too-fast readings dead-lettered, the latest per vehicle kept and sent on. */
export function anchorTopology(applicationId: string, input: string, output: string): Topology {
  const serdes = { key: stringSerde, value: jsonSerde<Reading>() };
  return new TopologyBuilder(applicationId)
    .addSource('telemetry', input, serdes)
    .addProcessor(
      'latest',
      (): Processor<string, Reading, string, Reading> => {
        let context!: ProcessorContext<string, Reading>;
        let latest!: KeyValueStore<string, Reading>;
        return {
          init: (c) => {
            context = c;
            latest = c.getStateStore('latest-reading');
          },
          process: (record) => {
            if (record.value.speed > 200)
              throw new RecordRejectedError('too-fast', `${record.value.speed} km/h`);
            latest.put(record.key, record.value);
            context.forward(record);
          },
        };
      },
      ['telemetry'],
    )
    .addStateStore({ name: 'latest-reading', serdes }, ['latest'])
    .addSink('out', output, serdes, ['latest'])
    .build();
}

function backlogRecords(
  topic: string,
  count: number,
): {
  records: OutboundRecord[];
  poison: number;
  tooFast: number;
} {
  const start = Date.now() - 30 * 86_400_000;
  const records: OutboundRecord[] = [];
  let poison = 0;
  let tooFast = 0;
  for (let i = 0; i < count; i++) {
    const vehicleId = `V-${i % VEHICLES}`;
    let value: Buffer;
    if (i % POISON_EVERY === POISON_EVERY - 1) {
      poison += 1;
      value = Buffer.from('{"vehicleId": "cut sh');
    } else {
      const fast = i % TOO_FAST_EVERY === TOO_FAST_EVERY - 1;
      if (fast) tooFast += 1;
      const reading: Reading = {
        vehicleId,
        eventTime: start + i * 10,
        lat: 50 + (i % 1000) / 10_000,
        lon: 7 + (i % 777) / 10_000,
        speed: fast ? 250 : 40 + (i % 60),
        fuelPct: 50 + (i % 50),
        odometerKm: 10_000 + i / 100,
        note: 'a replayed reading of the anchor benchmark',
      };
      value = Buffer.from(JSON.stringify(reading));
    }
    records.push({ topic, message: { key: vehicleId, value, partition: 0 } });
  }
  return { records, poison, tooFast };
}

/** Committed (read_committed) records of a one-partition topic, counted, not kept. */
async function countCommitted(kafka: Kafka, topic: string, groupId: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  // Asked again while the broker answers with a retriable refusal (one run stopped on a
  // NOT_LEADER_OR_FOLLOWER here, on a one-broker cluster, right after the row's transactions).
  const [end] = await waitFor(() => admin.fetchTopicOffsets(topic), {
    timeoutMs: 60_000,
    description: `${topic}'s end offsets`,
  }).finally(() => admin.disconnect());
  const high = BigInt(end?.high ?? '0');
  let count = 0;
  let position = 0n;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        count += batch.messages.length;
        position = BigInt(batch.lastOffset()) + 1n;
        return Promise.resolve();
      },
    });
    // The last offset may be a transaction marker, which no batch hands over.
    await waitFor(() => position >= high - 1n, {
      timeoutMs: PHASE_TIMEOUT_MS,
      intervalMs: 200,
      description: `${topic} read to its end`,
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}

/** A row counts only if every input came out: as an output, or as one of the expected dead letters. */
function checkAccounted(
  row: string,
  n: { written: number; letters: number; total: number; rejected: number },
): void {
  if (n.written !== n.total - n.rejected || n.letters !== n.rejected)
    throw new PipelineBenchError(
      `${row}: ${n.written} outputs and ${n.letters} dead letters for ${n.total} inputs, expected ${n.total - n.rejected} and ${n.rejected}`,
      { context: { row, ...n } },
    );
}

async function runBacklog(ctx: BenchContext): Promise<BenchFigure[]> {
  const log = ctx.log.child({ bench: 'backlog' });
  const quiet = log.child({}, { level: 'warn' });
  const total = Math.max(10_000, Math.round(DEFAULT_RECORDS * ctx.scale));
  const kafka = createKafkaClient(ctx.config, 'bench-backlog', quiet);
  const scope = new BenchScope(kafka, ctx.config.schemaRegistry.url, log);
  const progress = benchProgressOptions(log);
  await scope.admin.connect();
  const figures: BenchFigure[] = [];
  const stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-bench-backlog-'));
  try {
    const input = scope.topic('backlog.input');
    await scope.createTopics([input], 1);
    const { records, poison, tooFast } = backlogRecords(input, total);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const bar = new BenchProgress('backlog: writing input', total, progress);
      await produceAll(producer, records, bar);
      bar.stop();
    } finally {
      await producer.disconnect();
    }
    records.length = 0;

    // Baseline: kafkajs copies the same backlog, one transaction per fetched batch.
    const copy = scope.topic('backlog.copy');
    await scope.createTopics([copy], 1);
    const hopGroup = scope.group('backlog-copy');
    const hop = new CopyHop(kafka, hopGroup, [input], copy, quiet);
    const hopStarted = Date.now();
    await hop.start();
    let baselineSeconds: number;
    try {
      const drained = await waitForDrain(
        scope.admin,
        [[{ groupId: hopGroup, topic: input, transactional: false }]],
        {
          timeoutMs: PHASE_TIMEOUT_MS,
          description: `kafkajs copying ${total} records`,
          progress: new BenchProgress('backlog: kafkajs copy', total, progress),
        },
      );
      baselineSeconds = (drained - hopStarted) / 1000;
    } finally {
      await hop.stop();
    }
    const baseline = {
      name: 'kafkajs transactional copy, same backlog',
      value: total / baselineSeconds,
    };

    const rows = (['memory', 'disk'] as const).flatMap((stores) =>
      (['kafkajs', 'platformatic'] as const).map((client) => ({ client, stores })),
    );
    for (const { client, stores } of rows) {
      const row = `${client}-${stores}`;
      const applicationId = scope.name(`backlog-${row}`);
      const output = scope.topic(`backlog.${row}.output`);
      await scope.createTopics([output], 1);
      const topology = anchorTopology(applicationId, input, output);
      await scope.prepare(topology, 1);
      const app = new StreamsApplication({
        topology,
        client: createStreamsClient(ctx.config, client, quiet),
        log: quiet,
        guarantee: 'exactly-once',
        metricsRegistry: new Registry(),
        persistentStores: stores === 'disk',
        stateDir,
      });
      const lettersBefore = await countCommitted(
        kafka,
        dlqTopic(input),
        scope.group(`count-dlq-before-${row}`),
      );
      const rss = new RssSampler();
      const startedAt = Date.now();
      let seconds: number;
      try {
        await app.start();
        const drained = await waitForDrain(
          scope.admin,
          [[{ groupId: applicationId, topic: input, transactional: false }]],
          {
            timeoutMs: PHASE_TIMEOUT_MS,
            description: `${client}, stores in ${stores}: ${total} records of one partition, exactly-once`,
            progress: new BenchProgress(`backlog: ${client}, stores in ${stores}`, total, progress),
          },
        );
        seconds = (drained - startedAt) / 1000;
      } finally {
        await app.stop();
      }
      const peak = rss.stop();
      const written = await countCommitted(kafka, output, scope.group(`count-${row}`));
      const letters = await countCommitted(kafka, dlqTopic(input), scope.group(`count-dlq-${row}`));
      // Both clients dead-letter into the same DLQ: this row's letters are those it added.
      const rejected = poison + tooFast;
      const ownLetters = letters - lettersBefore;
      checkAccounted(`${client}, stores in ${stores}`, {
        written,
        letters: ownLetters,
        total,
        rejected,
      });
      figures.push({
        name: `backlog of ${total.toLocaleString('en-US')} records in one partition, exactly-once, ${client}, store in ${stores}`,
        value: total / seconds,
        unit: 'events/s',
        baseline,
        notes: `${written} outputs + ${rejected} dead letters (${poison} undecodable, ${tooFast} too fast) = inputs; default transaction bounds`,
      });
      figures.push({
        name: `backlog peak RSS, ${client}, store in ${stores}`,
        value: mebibytes(peak),
        unit: 'MiB',
      });
    }
    // Kafka Streams 4.1.1 on the same backlog with the same topology (bench/peers/kafka-streams).
    const classpath = buildKafkaStreamsPeer(ctx.config, log);
    for (const store of ['in-memory', 'rocksdb'] as const) {
      const applicationId = scope.group(`backlog-ks-${store}`);
      const output = scope.topic(`backlog.ks-${store}.output`);
      const dlq = scope.topic(`backlog.ks-${store}.dlq`);
      await scope.createTopics([output, dlq], 1);
      // Created here (as Kafka Streams would) so that the scope deletes it afterwards.
      await scope.createTopics(
        [{ topic: `${applicationId}-latest-reading-changelog`, compacted: true }],
        1,
      );
      const child = startKafkaStreamsPeer(classpath, {
        bootstrap: ctx.config.kafka.brokers.join(','),
        applicationId,
        input,
        output,
        dlq,
        store,
        stateDir: nodePath.join(stateDir, `kafka-streams-${store}`),
      });
      let stderr = '';
      child.stderr?.on(
        'data',
        (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)),
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const startedAt = Date.now();
      let seconds: number;
      let peak: number;
      try {
        const drained = await Promise.race([
          waitForDrain(
            scope.admin,
            [[{ groupId: applicationId, topic: input, transactional: false }]],
            {
              timeoutMs: PHASE_TIMEOUT_MS,
              description: `Kafka Streams (${store}): ${total} records of one partition, exactly-once`,
              progress: new BenchProgress(`backlog: Kafka Streams, ${store}`, total, progress),
            },
          ),
          exited.then(() => {
            throw new PipelineBenchError(
              `Kafka Streams (${store}) exited early: ${stderr.trim()}`,
              {
                context: { store },
              },
            );
          }),
        ]);
        seconds = (drained - startedAt) / 1000;
        peak = peakRssOf(child.pid);
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
      const written = await countCommitted(kafka, output, scope.group(`count-ks-${store}`));
      const letters = await countCommitted(kafka, dlq, scope.group(`count-ks-dlq-${store}`));
      const rejected = poison + tooFast;
      checkAccounted(`Kafka Streams (${store})`, { written, letters, total, rejected });
      figures.push({
        name: `backlog of ${total.toLocaleString('en-US')} records in one partition, exactly-once, Kafka Streams 4.1.1, store ${store}`,
        value: total / seconds,
        unit: 'events/s',
        baseline,
        notes: `exactly_once_v2, one stream thread, default commit interval (100 ms); time from JVM start; ${written} outputs + ${rejected} dead letters = inputs`,
      });
      figures.push({
        name: `backlog peak RSS, Kafka Streams 4.1.1, store ${store}`,
        value: mebibytes(peak),
        unit: 'MiB',
        notes: 'VmHWM of the JVM (its own process)',
      });
    }
    return figures;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
    await scope.cleanup();
    await scope.admin.disconnect();
  }
}
