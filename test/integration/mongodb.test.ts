// The telemetry history store over the MongoDB protocol (FerretDB natively): documents written,
// queried with a filter and sort, and the compound index the sink relies on.
import { MongoClient, type Collection } from 'mongodb';
import { loadConfig } from '../../core/config.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
// Explicit per test and hook, whatever the runner's default.
const TIMEOUT_MS = 30_000;

interface TelemetryDoc {
  eventId: string;
  vehicleId: string;
  eventTime: Date;
  speedKmh: number;
}

describe('MongoDB protocol', () => {
  let client: MongoClient | undefined;
  let connected = false;
  let collection: Collection<TelemetryDoc>;
  const collectionName = uniqueName('test_telemetry', '_');

  beforeAll(async () => {
    client = new MongoClient(config.mongodb.url, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    connected = true;
    // The URL carries the database name.
    collection = client.db().collection<TelemetryDoc>(collectionName);
  }, TIMEOUT_MS);

  afterAll(async () => {
    try {
      // Only a connected client created the collection (a failed connect leaves nothing to drop).
      if (connected) await client?.db().collection(collectionName).drop();
    } finally {
      await client?.close();
    }
  }, TIMEOUT_MS);

  test(
    'insertMany, then find with a filter and a sort',
    async () => {
      const base = Date.UTC(2026, 0, 1, 8, 0, 0);
      const docs: TelemetryDoc[] = [
        { eventId: 'e1', vehicleId: 'v1', eventTime: new Date(base), speedKmh: 40 },
        { eventId: 'e2', vehicleId: 'v2', eventTime: new Date(base + 1_000), speedKmh: 90 },
        { eventId: 'e3', vehicleId: 'v1', eventTime: new Date(base + 2_000), speedKmh: 5 },
        { eventId: 'e4', vehicleId: 'v1', eventTime: new Date(base + 3_000), speedKmh: 70 },
        { eventId: 'e5', vehicleId: 'v1', eventTime: new Date(base + 4_000), speedKmh: 55 },
      ];
      const result = await collection.insertMany(docs.map((d) => ({ ...d })));
      expect(result.insertedCount).toBe(docs.length);

      const found = await collection
        .find({ vehicleId: 'v1', speedKmh: { $gte: 10 } }, { projection: { _id: 0 } })
        .sort({ eventTime: -1 })
        .toArray();
      expect(found).toEqual([docs[4], docs[3], docs[0]]);
      expect(await collection.countDocuments({ vehicleId: 'v2' })).toBe(1);
    },
    TIMEOUT_MS,
  );

  test(
    'a compound index is created and listed',
    async () => {
      const name = await collection.createIndex(
        { vehicleId: 1, eventTime: -1 },
        { name: 'vehicle_event_time' },
      );
      expect(name).toBe('vehicle_event_time');
      const indexes = await collection.indexes();
      const index = indexes.find((i) => i.name === 'vehicle_event_time');
      expect(index?.key).toEqual({ vehicleId: 1, eventTime: -1 });
      expect(Object.keys(index?.key ?? {})).toEqual(['vehicleId', 'eventTime']);
      expect(indexes.map((i) => i.name)).toContain('_id_');
    },
    TIMEOUT_MS,
  );
});
