// The composition root: the platform's applications as `continuum streams`, the pipeline
// benchmark and the test harness all build them.
import { loadConfig } from '../core/config.ts';
import type { VehicleTelemetry } from '../schemas/types.ts';
import { platformTopologies, streamsRuntimeOptions } from './platform-streams.ts';
import type { ProcessorCallbacks } from './processor-metrics.ts';
import { jsonSerde } from './runtime/serde.ts';
import { TopologyTestDriver } from './runtime/topology-test-driver.ts';
import { streamTopics } from './topologies.ts';

const config = loadConfig({});
const topics = streamTopics(config.topics);
const serde = jsonSerde<never>();
const serdes = {
  telemetry: serde,
  shipmentChange: serde,
  shipmentState: serde,
  deliveryExample: serde,
  etaModel: serde,
};

describe('platformTopologies', () => {
  it('builds both applications in pipeline order under the prefix, or the ones asked for', () => {
    const both = platformTopologies({
      prefix: 'acme',
      topics,
      serdes,
      streams: config.streams,
      modelName: 'eta',
    });
    expect(both.map((t) => t.applicationId)).toEqual([
      'acme-telemetry-clean',
      'acme-shipment-state',
    ]);
    expect(both[1]?.inputTopics()).toEqual(
      expect.arrayContaining([topics.shipmentsCdc, topics.telemetryClean]),
    );
    const join = platformTopologies({
      prefix: 'acme',
      topics,
      serdes,
      streams: config.streams,
      modelName: 'eta',
      apps: ['shipment-state'],
    });
    expect(join.map((t) => t.applicationId)).toEqual(['acme-shipment-state']);
  });

  it('wires the callbacks that count what processors drop, and applies cleaner overrides', async () => {
    let duplicates = 0;
    const callbacks: ProcessorCallbacks = {
      onDuplicateReading: () => (duplicates += 1),
      onDuplicateChange: () => undefined,
      onStaleReading: () => undefined,
      onExampleSkipped: () => undefined,
    };
    const [clean] = platformTopologies({
      prefix: 'acme',
      topics,
      serdes: { ...serdes, telemetry: jsonSerde<VehicleTelemetry>() },
      streams: config.streams,
      modelName: 'eta',
      callbacks,
      clean: { graceMs: 0 },
      apps: ['telemetry-clean'],
    });
    if (!clean) throw new Error('no cleaning topology');
    const driver = new TopologyTestDriver(clean);
    const t = Date.UTC(2026, 0, 5, 8, 0);
    const reading: VehicleTelemetry = {
      eventId: 'e1',
      vehicleId: 'V-1',
      eventTime: t,
      lat: 50.9,
      lon: 6.9,
      speed: 40,
      speedUnit: 'KMH',
      headingDeg: 0,
      fuelPct: 70,
      engineTemp: 90,
      temperatureUnit: 'CELSIUS',
      odometerKm: 5_000,
    };
    await driver.pipeInput(topics.telemetryRaw, 'V-1', reading, t);
    await driver.pipeInput(topics.telemetryRaw, 'V-1', reading, t);
    expect(duplicates).toBe(1);
    // Grace 0: released at once, not held for the platform's default 60 s.
    expect(await driver.readOutput(topics.telemetryClean)).toHaveLength(1);
  });
});

describe('streamsRuntimeOptions', () => {
  it('takes the runtime settings from the configuration', () => {
    const streams = loadConfig({
      CONTINUUM_STREAMS_COMMIT_INTERVAL_MS: '250',
      CONTINUUM_STREAMS_STORES: 'disk',
    }).streams;
    expect(streamsRuntimeOptions(streams)).toMatchObject({
      commitIntervalMs: 250,
      persistentStores: true,
      stateDir: streams.stateDir,
      maxTransactionRecords: streams.maxTransactionRecords,
    });
    expect(streamsRuntimeOptions(config.streams).persistentStores).toBe(false);
  });
});
