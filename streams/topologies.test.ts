// The two stream applications as wired: their topics, internal topics, and outputs that encode
// with the platform's Avro contracts (through avsc, as the registry serde does, minus the registry).
import avro from 'avsc';
import { loadConfig } from '../core/config.ts';
import { loadAvroSchema, type EventSchemaName } from '../schemas/event-schemas.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import { ChangeLog, FIXTURE_T0 as T0 } from './clean/shipment-change-fixtures.ts';
import type { Serde } from './runtime/serde.ts';
import { TopologyTestDriver } from './runtime/topology-test-driver.ts';
import {
  SHIPMENT_STATE_APP_ID,
  shipmentStateTopology,
  streamTopics,
  TELEMETRY_CLEAN_APP_ID,
  telemetryCleanTopology,
} from './topologies.ts';

const topics = streamTopics(loadConfig({}).topics);
const MIN = 60_000;

/** Plain Avro binary (no registry framing): enough to prove values fit the contract. */
function avroSerde<T>(name: EventSchemaName): Serde<T> {
  const type = avro.Type.forSchema(loadAvroSchema(name) as avro.Schema);
  return {
    serialize: (value) => type.toBuffer(value),
    deserialize: (bytes) => type.fromBuffer(bytes ?? Buffer.alloc(0)) as T,
  };
}

const avroSerdes = () => ({
  shipmentChange: avroSerde<ShipmentChange>('ShipmentChange'),
  telemetry: avroSerde<VehicleTelemetry>('VehicleTelemetry'),
  shipmentState: avroSerde<UnifiedShipmentState>('UnifiedShipmentState'),
  deliveryExample: avroSerde<DeliveryExample>('DeliveryExample'),
  etaModel: avroSerde<EtaModel>('EtaModel'),
});

function reading(minutes: number, overrides: Partial<VehicleTelemetry> = {}): VehicleTelemetry {
  return {
    eventId: `e${minutes}`,
    vehicleId: 'V-1',
    eventTime: T0 + minutes * MIN,
    lat: 50.9375 + minutes * 0.01,
    lon: 6.9603 - minutes * 0.006,
    speed: 40,
    speedUnit: 'MPH',
    headingDeg: 340,
    fuelPct: 70,
    engineTemp: 190,
    temperatureUnit: 'FAHRENHEIT',
    odometerKm: 5_000 + minutes,
    ...overrides,
  };
}

describe('streamTopics', () => {
  it('takes the topic names from the configuration', () => {
    const config = loadConfig({ CONTINUUM_TOPIC_TELEMETRY_RAW: 'raw.x' });
    expect(streamTopics(config.topics)).toEqual({
      shipmentsCdc: 'shipments.cdc',
      telemetryRaw: 'raw.x',
      telemetryClean: 'telemetry.clean',
      shipmentState: 'shipment.state',
      deliveriesCompleted: 'deliveries.completed',
      etaModels: 'eta.models',
    });
  });
});

describe('telemetryCleanTopology', () => {
  it('reads telemetry.raw, writes telemetry.clean and owns three changelogs', () => {
    const topology = telemetryCleanTopology({
      topics,
      telemetrySerde: avroSerde('VehicleTelemetry'),
    });
    expect(topology.applicationId).toBe(TELEMETRY_CLEAN_APP_ID);
    expect(topology.inputTopics()).toEqual(['telemetry.raw']);
    expect(topology.sinks().map((s) => s.topic)).toEqual(['telemetry.clean']);
    expect(topology.internalTopics()).toEqual([
      { topic: 'continuum-telemetry-clean-telemetry-seen-events-changelog', compacted: true },
      { topic: 'continuum-telemetry-clean-telemetry-vehicles-changelog', compacted: true },
      { topic: 'continuum-telemetry-clean-telemetry-watermark-changelog', compacted: true },
    ]);
  });

  it('cleans Avro telemetry end to end', async () => {
    const driver = new TopologyTestDriver(
      telemetryCleanTopology({ topics, telemetrySerde: avroSerde('VehicleTelemetry') }),
    );
    for (const m of [0, 1, 2])
      await driver.pipeInput(topics.telemetryRaw, 'V-1', reading(m), T0 + m * MIN);
    const out = await driver.readOutput<string, VehicleTelemetry>(topics.telemetryClean);
    expect(out.map((o) => o.value)).toEqual([
      {
        ...reading(0),
        speed: 64.37,
        speedUnit: 'KMH',
        engineTemp: 87.78,
        temperatureUnit: 'CELSIUS',
      },
      {
        ...reading(1),
        speed: 64.37,
        speedUnit: 'KMH',
        engineTemp: 87.78,
        temperatureUnit: 'CELSIUS',
      },
    ]);
  });
});

describe('shipmentStateTopology', () => {
  it('reads shipments.cdc, telemetry.clean and its repartition; writes state and delivery examples', () => {
    const topology = shipmentStateTopology({ topics, serdes: avroSerdes() });
    expect(topology.applicationId).toBe(SHIPMENT_STATE_APP_ID);
    expect(topology.inputTopics().sort()).toEqual([
      'continuum-shipment-state-shipments-by-owner-repartition',
      'shipments.cdc',
      'telemetry.clean',
    ]);
    expect(
      topology
        .sinks()
        .filter((s) => !s.internal)
        .map((s) => s.topic)
        .sort(),
    ).toEqual(['deliveries.completed', 'shipment.state']);
    expect(
      topology
        .internalTopics()
        .map((t) => t.topic)
        .sort(),
    ).toEqual([
      'continuum-shipment-state-join-pending-changes-changelog',
      'continuum-shipment-state-join-shipments-changelog',
      'continuum-shipment-state-join-trips-changelog',
      'continuum-shipment-state-join-vehicle-readings-changelog',
      'continuum-shipment-state-join-vehicle-shipments-changelog',
      'continuum-shipment-state-shipment-owners-changelog',
      'continuum-shipment-state-shipments-by-owner-repartition',
      'continuum-shipment-state-shipments-lifecycle-changelog',
    ]);
    // The versioned readings' changelog keeps their history from compaction.
    expect(
      topology.internalTopics().find((t) => t.topic.endsWith('-join-vehicle-readings-changelog'))
        ?.configs,
    ).toEqual({ 'min.compaction.lag.ms': String(24 * 3_600_000) });
  });

  it('writes states and a delivery example that fit their Avro contracts', async () => {
    const driver = new TopologyTestDriver(shipmentStateTopology({ topics, serdes: avroSerdes() }));
    const log = new ChangeLog();
    const change = async (c: ShipmentChange) =>
      driver.pipeInput(topics.shipmentsCdc, 'SHP-1', c, c.after?.updatedAt ?? T0);
    const telemetry = async (m: number) =>
      driver.pipeInput(
        topics.telemetryClean,
        'V-1',
        { ...reading(m), speed: 60, speedUnit: 'KMH', engineTemp: 88, temperatureUnit: 'CELSIUS' },
        T0 + m * MIN,
      );
    await change(log.insert());
    await change(log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await telemetry(2);
    await change(log.update(T0 + 3 * MIN, { status: 'PICKED_UP' }));
    for (const m of [4, 10, 16]) await telemetry(m);
    await change(log.update(T0 + 17 * MIN, { status: 'IN_TRANSIT' }));
    await change(log.update(T0 + 18 * MIN, { status: 'OUT_FOR_DELIVERY' }));
    await change(log.update(T0 + 20 * MIN, { status: 'DELIVERED' }));
    // The vehicle's next reading shows nothing older can come: the delivery is final.
    await telemetry(21);

    const states = await driver.readOutput<string, UnifiedShipmentState>(topics.shipmentState);
    expect(states.map((s) => s.value.status)).toEqual([
      'CREATED',
      'ASSIGNED',
      'ASSIGNED',
      'PICKED_UP',
      'PICKED_UP',
      'PICKED_UP',
      'PICKED_UP',
      'IN_TRANSIT',
      'OUT_FOR_DELIVERY',
      'DELIVERED',
    ]);
    expect(states.at(-1)?.value).toMatchObject({ distanceTravelledKm: 14, distanceRemainingKm: 0 });
    const [example, ...more] = await driver.readOutput<string, DeliveryExample>(
      topics.deliveriesCompleted,
    );
    expect(more).toEqual([]);
    expect(
      example?.value.checkpoints.map((c) => [(c.checkpointTime - T0) / MIN, c.minutesToArrival]),
    ).toEqual([
      [4, 16],
      [10, 10],
      [16, 4],
    ]);
    expect(driver.deadLetters()).toEqual([]);
  });
});

describe('event time', () => {
  it('comes from the telemetry value, not from how the producer stamped the record', async () => {
    const driver = new TopologyTestDriver(
      telemetryCleanTopology({ topics, telemetrySerde: avroSerdes().telemetry }),
    );
    // Record timestamps 0 (a producer that stamps nothing useful); event times in the values.
    await driver.pipeInput(topics.telemetryRaw, 'V-1', reading(0), 0);
    await driver.pipeInput(topics.telemetryRaw, 'V-1', reading(1), 0);
    expect(driver.streamTime).toBe(T0 + MIN);
  });

  it("of a shipment change is the row's updated_at, on the same clock as telemetry", async () => {
    const driver = new TopologyTestDriver(shipmentStateTopology({ topics, serdes: avroSerdes() }));
    const log = new ChangeLog();
    const committedLater = T0 + 3_600_000;
    await driver.pipeInput(topics.shipmentsCdc, 'SHP-1', log.insert(), committedLater);
    await driver.pipeInput(
      topics.shipmentsCdc,
      'SHP-1',
      log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
      committedLater,
    );
    const states = await driver.readOutput<string, UnifiedShipmentState>(topics.shipmentState);
    expect(states.map((s) => s.timestamp)).toEqual([T0, T0 + MIN]);
  });
});

describe('shipmentStateTopology with eta.models', () => {
  const model = (overrides: Partial<EtaModel> = {}): EtaModel => ({
    modelName: 'eta',
    version: 3,
    kind: 'LINEAR_REGRESSION',
    featureNames: ['distanceRemainingKm'],
    coefficients: [2],
    intercept: 1,
    metrics: { rmse: 2 },
    mlflowRunId: 'run-1',
    trainedAt: T0,
    trainingExamples: 120,
    trees: [],
    interval: null,
    ...overrides,
  });

  async function onTrip(driver: TopologyTestDriver): Promise<void> {
    const log = new ChangeLog();
    await driver.pipeInput(topics.shipmentsCdc, 'SHP-1', log.insert());
    await driver.pipeInput(
      topics.shipmentsCdc,
      'SHP-1',
      log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
    );
    await driver.pipeInput(
      topics.shipmentsCdc,
      'SHP-1',
      log.update(T0 + 2 * MIN, { status: 'PICKED_UP' }),
    );
  }

  const clean = (m: number): VehicleTelemetry => ({
    ...reading(m),
    speed: 60,
    speedUnit: 'KMH',
    engineTemp: 88,
    temperatureUnit: 'CELSIUS',
  });

  it('reads the model topic into a global store and predicts with the published model', async () => {
    const topology = shipmentStateTopology({ topics, serdes: avroSerdes() });
    expect(topology.globalStoreFor(topics.etaModels)?.name).toBe('eta-models');
    expect(topology.inputTopics()).not.toContain(topics.etaModels);
    const driver = new TopologyTestDriver(topology);
    await onTrip(driver);
    await driver.pipeInput(topics.telemetryClean, 'V-1', clean(3));
    await driver.pipeInput(topics.etaModels, 'eta', model());
    await driver.pipeInput(topics.telemetryClean, 'V-1', clean(4));

    const states = await driver.readOutput<string, UnifiedShipmentState>(topics.shipmentState);
    const [before, after] = states.slice(-2).map((s) => s.value);
    expect(before?.modelVersion).toBe('baseline-v1');
    expect(after?.modelVersion).toBe('eta-v3');
    const remaining = after?.distanceRemainingKm ?? Number.NaN;
    const minutes = 1 + 2 * remaining;
    // The prediction uses the distance the state shows, rounded to metres (as checkpoints hold it).
    expect(after?.predictedArrival).toBe(Math.round(T0 + 4 * MIN + minutes * MIN));
    // ± 1.28 RMSE of 2 minutes
    expect((after?.predictionHigh ?? 0) - (after?.predictedArrival ?? 0)).toBe(
      Math.round(1.28 * 2 * MIN),
    );
    expect(driver.deadLetters()).toEqual([]);
  });

  it('keeps the baseline while the published model is one it cannot evaluate', async () => {
    const driver = new TopologyTestDriver(shipmentStateTopology({ topics, serdes: avroSerdes() }));
    await onTrip(driver);
    await driver.pipeInput(
      topics.etaModels,
      'eta',
      model({ featureNames: ['rainfallMm'], coefficients: [1] }),
    );
    await driver.pipeInput(topics.telemetryClean, 'V-1', clean(3));
    const states = await driver.readOutput<string, UnifiedShipmentState>(topics.shipmentState);
    expect(states.at(-1)?.value.modelVersion).toBe('baseline-v1');
  });

  it('without an eta.models topic the join has no global store and uses the baseline', () => {
    const { etaModels: _none, ...rest } = topics;
    const topology = shipmentStateTopology({ topics: rest, serdes: avroSerdes() });
    expect([...topology.globalStores.keys()]).toEqual([]);
  });
});
