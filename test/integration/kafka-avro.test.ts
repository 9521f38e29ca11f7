// An Avro record registered in the schema registry (Apicurio's Confluent API), produced in the
// Confluent wire format by an idempotent producer, consumed and decoded by a fresh registry client.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import {
  createKafka,
  createTestTopic,
  deleteTestTopics,
  waitForMessages,
} from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook: group joins and topic creation take seconds on a cold broker.
const KAFKA_TIMEOUT_MS = 90_000;

const telemetrySchema = {
  type: 'record',
  name: 'VehicleTelemetry',
  namespace: 'continuum.test',
  doc: 'One position report of a vehicle (integration-test copy of the real schema).',
  fields: [
    { name: 'eventId', type: 'string', doc: 'unique per report, for deduplication' },
    { name: 'vehicleId', type: 'string' },
    {
      name: 'eventTime',
      type: { type: 'long', logicalType: 'timestamp-millis' },
      doc: 'when the vehicle measured it',
    },
    { name: 'lat', type: 'double' },
    { name: 'lon', type: 'double' },
    { name: 'speedKmh', type: ['null', 'double'], default: null },
  ],
};

/** Soft delete first: the Confluent API refuses a permanent delete of a live subject. */
async function deleteSubject(subject: string): Promise<void> {
  for (const query of ['', '?permanent=true']) {
    const url = `${config.schemaRegistry.url}/subjects/${encodeURIComponent(subject)}${query}`;
    const response = await fetch(url, { method: 'DELETE' });
    if (!response.ok) {
      throw new Error(`DELETE ${url} answered ${response.status}: ${await response.text()}`);
    }
  }
}

describe('Kafka + schema registry (Avro, Confluent wire format)', () => {
  let kafka: Kafka;
  const topics: string[] = [];
  const subjects: string[] = [];

  beforeAll(() => {
    kafka = createKafka(config, 'avro');
  }, KAFKA_TIMEOUT_MS);

  afterAll(async () => {
    try {
      await deleteTestTopics(kafka, topics);
    } finally {
      for (const subject of subjects) await deleteSubject(subject);
    }
  }, KAFKA_TIMEOUT_MS);

  test(
    'a registered record round-trips through a topic and decodes with a new registry client',
    async () => {
      const topic = await createTestTopic(kafka, { partitions: 1 });
      topics.push(topic);
      const subject = `${topic}-value`;

      const registry = new SchemaRegistry({ host: config.schemaRegistry.url });
      const { id } = await registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(telemetrySchema) },
        { subject },
      );
      subjects.push(subject);
      expect(Number.isInteger(id)).toBe(true);

      const sent = {
        eventId: uniqueName('evt'),
        vehicleId: 'vehicle-42',
        eventTime: Date.now(),
        lat: 52.520008,
        lon: 13.404954,
        speedKmh: 63.5,
      };
      const value = await registry.encode(id, sent);

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        await producer.send({ topic, acks: -1, messages: [{ key: sent.vehicleId, value }] });
      } finally {
        await producer.disconnect();
      }

      const [message, ...rest] = await waitForMessages(kafka, topic, {
        count: 1,
        fromBeginning: true,
      });
      expect(rest).toHaveLength(0);
      expect(message?.key?.toString()).toBe(sent.vehicleId);
      const bytes = message?.value;
      if (!bytes) throw new Error('consumed message has no value');
      expect(bytes[0]).toBe(0); // magic byte
      expect(bytes.readInt32BE(1)).toBe(id); // schema id, big-endian
      expect(Buffer.compare(bytes, value)).toBe(0);

      // Only the URL: the schema must come from the registry by the id in the message.
      const freshRegistry = new SchemaRegistry({ host: config.schemaRegistry.url });
      const decoded: unknown = await freshRegistry.decode(bytes);
      expect(decoded).toEqual(sent);
      expect(await freshRegistry.getLatestSchemaId(subject)).toBe(id);
    },
    KAFKA_TIMEOUT_MS,
  );
});
