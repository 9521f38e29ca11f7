// The shipment state application through the broker-free driver: cleaning, re-keying by
// vehicle, the join with telemetry, versions, terminal statuses and delivery examples.
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import type {
  DeliveryExample,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { ChangeLog, FIXTURE_T0 as T0, shipmentRow } from '../clean/shipment-change-fixtures.ts';
import { roadDistanceKm } from '../geo.ts';
import { jsonSerde } from '../runtime/serde.ts';
import { StreamTask } from '../runtime/stream-task.ts';
import { TopologyTestDriver } from '../runtime/topology-test-driver.ts';
import { shipmentStateTopology, type ShipmentStateTopologyOptions } from '../topologies.ts';
import type { EtaPredictor } from './eta-predictor.ts';
import type { RoutedShipmentChange } from './key-by-vehicle.ts';
import { SHIPMENT_STATE_STORES, VERSION_STRIDE, type ShipmentJoinState } from './shipment-state.ts';

const TOPICS = {
  shipmentsCdc: 'shipments.cdc',
  telemetryClean: 'telemetry.clean',
  shipmentState: 'shipment.state',
  deliveriesCompleted: 'deliveries.completed',
};
const MIN = 60_000;
const ORIGIN = { lat: 50.9375, lon: 6.9603 };
const DESTINATION = { lat: 51.2277, lon: 6.7735 };

function driverFor(
  options: Partial<Pick<ShipmentStateTopologyOptions, 'shipmentState' | 'deliveryExamples'>> = {},
): TopologyTestDriver {
  return new TopologyTestDriver(
    shipmentStateTopology({
      topics: TOPICS,
      serdes: {
        shipmentChange: jsonSerde(),
        telemetry: jsonSerde(),
        shipmentState: jsonSerde(),
        deliveryExample: jsonSerde(),
      },
      ...options,
    }),
  );
}

async function sendChange(driver: TopologyTestDriver, change: ShipmentChange): Promise<void> {
  const id = (change.after ?? change.before)?.shipmentId ?? '';
  await driver.pipeInput(
    TOPICS.shipmentsCdc,
    id,
    change,
    (change.after ?? change.before)?.updatedAt,
  );
}

/** A reading `minutes` after T0, `fraction` of the way from origin to destination. */
function telemetry(
  minutes: number,
  fraction: number,
  overrides: Partial<VehicleTelemetry> = {},
): VehicleTelemetry {
  return {
    eventId: `e${minutes}`,
    vehicleId: 'V-1',
    eventTime: T0 + minutes * MIN,
    lat: ORIGIN.lat + (DESTINATION.lat - ORIGIN.lat) * fraction,
    lon: ORIGIN.lon + (DESTINATION.lon - ORIGIN.lon) * fraction,
    speed: 60,
    speedUnit: 'KMH',
    headingDeg: 340,
    fuelPct: 70,
    engineTemp: 88,
    temperatureUnit: 'CELSIUS',
    odometerKm: 5_000,
    ...overrides,
  };
}

async function sendTelemetry(driver: TopologyTestDriver, t: VehicleTelemetry): Promise<void> {
  await driver.pipeInput(TOPICS.telemetryClean, t.vehicleId, t, t.eventTime);
}

async function states(driver: TopologyTestDriver): Promise<UnifiedShipmentState[]> {
  const out = await driver.readOutput<string, UnifiedShipmentState>(TOPICS.shipmentState);
  for (const o of out) expect(o.key).toBe(o.value.shipmentId);
  return out.map((o) => o.value);
}

async function lastState(
  driver: TopologyTestDriver,
  shipmentId = 'SHP-1',
): Promise<UnifiedShipmentState> {
  const mine = (await states(driver)).filter((s) => s.shipmentId === shipmentId);
  const last = mine.at(-1);
  if (!last) throw new Error(`no state for ${shipmentId}`);
  return last;
}

describe('shipment state join', () => {
  it('emits the state of an unassigned shipment keyed by its id, without vehicle data', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    const insert = log.insert();
    await sendChange(driver, insert);
    expect(await states(driver)).toEqual([
      {
        shipmentId: 'SHP-1',
        customerId: 'C-1',
        originId: 'DEPOT-CGN',
        destinationId: 'DUS',
        status: 'CREATED',
        promisedAt: T0 + 4 * 3_600_000,
        createdAt: T0,
        updatedAt: T0,
        vehicleId: null,
        lat: null,
        lon: null,
        positionTime: null,
        speedKmh: null,
        fuelPct: null,
        engineTempC: null,
        distanceTravelledKm: 0,
        distanceRemainingKm: Math.round(roadDistanceKm(ORIGIN, DESTINATION) * 1000) / 1000,
        predictedArrival: null,
        predictionLow: null,
        predictionHigh: null,
        modelVersion: null,
        version: 1 * VERSION_STRIDE,
        sourceOffsets: { 'shipments.cdc-0': 0 },
        sourceLsn: insert.source.commitLsn,
        stateUpdatedAt: T0,
      },
    ]);
    // Unassigned shipments are not kept: telemetry cannot reach them.
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(0);
  });

  it('joins an assigned shipment with its vehicle: position, distances, ETA, offsets, rising versions', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await sendChange(driver, log.insert());
    await sendTelemetry(driver, telemetry(0, 0, { odometerKm: 4_990 })); // no shipment yet: no state
    expect(await states(driver)).toHaveLength(1);

    await sendChange(driver, log.update(T0 + 1 * MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    const assigned = await lastState(driver);
    expect(assigned).toMatchObject({
      status: 'ASSIGNED',
      vehicleId: 'V-1',
      lat: ORIGIN.lat,
      positionTime: T0,
      speedKmh: 60,
      fuelPct: 70,
      engineTempC: 88,
      distanceTravelledKm: 0,
      predictedArrival: null,
      sourceOffsets: { 'shipments.cdc-0': 1, 'telemetry.clean-0': 0 },
    });

    await sendTelemetry(driver, telemetry(2, 0, { odometerKm: 5_000 }));
    await sendChange(driver, log.update(T0 + 3 * MIN, { status: 'PICKED_UP' }));
    await sendChange(driver, log.update(T0 + 4 * MIN, { status: 'IN_TRANSIT' }));
    await sendTelemetry(driver, telemetry(20, 0.5, { odometerKm: 5_021.5, speed: 90 }));
    const moving = await lastState(driver);
    const remaining = roadDistanceKm(telemetry(20, 0.5), DESTINATION);
    const minutesLeft = (remaining / 90) * 60;
    expect(moving).toMatchObject({
      status: 'IN_TRANSIT',
      positionTime: T0 + 20 * MIN,
      speedKmh: 90,
      distanceTravelledKm: 21.5,
      modelVersion: 'baseline-v1',
      sourceOffsets: { 'shipments.cdc-0': 3, 'telemetry.clean-0': 2 },
      stateUpdatedAt: T0 + 20 * MIN,
    });
    expect(moving.distanceRemainingKm).toBeCloseTo(remaining, 3);
    expect(moving.predictedArrival).toBe(Math.round(T0 + 20 * MIN + minutesLeft * MIN));
    expect(moving.predictionHigh! - moving.predictedArrival!).toBe(
      Math.round(minutesLeft * MIN * 0.2 + 5 * MIN),
    );

    const versions = (await states(driver)).map((s) => s.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions).toEqual([
      1 * VERSION_STRIDE,
      2 * VERSION_STRIDE,
      2 * VERSION_STRIDE + 1,
      3 * VERSION_STRIDE,
      4 * VERSION_STRIDE,
      4 * VERSION_STRIDE + 1,
    ]);
  });

  it('emits one state per active shipment of the vehicle on each reading', async () => {
    const driver = driverFor();
    for (const id of ['SHP-1', 'SHP-2']) {
      const log = new ChangeLog();
      await sendChange(driver, log.insert({ shipmentId: id }));
      await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    }
    const before = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(2, 0.1));
    const after = (await states(driver)).slice(before);
    expect(after.map((s) => [s.shipmentId, s.positionTime])).toEqual([
      ['SHP-1', T0 + 2 * MIN],
      ['SHP-2', T0 + 2 * MIN],
    ]);
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).get('V-1')).toEqual([
      'SHP-1',
      'SHP-2',
    ]);
  });

  it('emits the final state of a delivered shipment, then drops it from its vehicle', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await sendChange(
      driver,
      log.snapshot({ status: 'OUT_FOR_DELIVERY', vehicleId: 'V-1', changeSeq: 6 }),
    );
    await sendTelemetry(driver, telemetry(10, 0.95));
    expect((await lastState(driver)).sourceLsn).toBe(0); // the contract: 0 for snapshot reads
    const deliver = log.update(T0 + 12 * MIN, { status: 'DELIVERED' });
    await sendChange(driver, deliver);
    const delivered = await lastState(driver);
    expect(delivered).toMatchObject({
      sourceLsn: deliver.source.commitLsn,
      status: 'DELIVERED',
      distanceRemainingKm: 0,
      predictedArrival: null,
      version: 7 * VERSION_STRIDE,
    });
    const count = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(13, 1));
    expect(await states(driver)).toHaveLength(count);
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(0);
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).size).toBe(0);
  });

  it('moves a reassigned shipment to its new vehicle and stops following the old one', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendChange(driver, log.update(T0 + 2 * MIN, { vehicleId: 'V-2' }));
    const count = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(3, 0));
    expect(await states(driver)).toHaveLength(count);
    await sendTelemetry(driver, telemetry(3, 0, { vehicleId: 'V-2', lat: 50 }));
    expect(await lastState(driver)).toMatchObject({
      vehicleId: 'V-2',
      lat: 50,
      version: 3 * VERSION_STRIDE + 1,
    });
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).all()).toEqual([
      ['V-2', ['SHP-1']],
    ]);
  });

  it('routes changes by vehicle, with a detach to the old key whenever the key changes', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendChange(driver, log.update(T0 + 2 * MIN, { vehicleId: 'V-2' }));
    await sendChange(driver, log.update(T0 + 3 * MIN, { status: 'PICKED_UP' }));
    await sendChange(driver, log.delete());
    const routed = driver
      .rawOutput('continuum-shipment-state-shipments-by-vehicle-repartition')
      .map((r) => {
        const value = JSON.parse(r.value?.toString() ?? '{}') as RoutedShipmentChange;
        return `${r.key?.toString()} ${value.kind} #${(value.change.after ?? value.change.before)?.changeSeq} @${value.source.topic}-${value.source.partition}:${value.source.offset}`;
      });
    expect(routed).toEqual([
      'SHP-1 change #1 @shipments.cdc-0:0',
      'SHP-1 detach #2 @shipments.cdc-0:1',
      'V-1 change #2 @shipments.cdc-0:1',
      'V-1 detach #3 @shipments.cdc-0:2',
      'V-2 change #3 @shipments.cdc-0:2',
      'V-2 change #4 @shipments.cdc-0:3',
      'V-2 detach #4 @shipments.cdc-0:4',
    ]);
  });

  it('asks the ETA port for predictions while on the trip', async () => {
    const queries: number[] = [];
    const predictor: EtaPredictor = {
      predict: (q) => {
        queries.push(q.distanceTravelledKm);
        return { arrival: q.at + 1, low: q.at, high: q.at + 2, modelVersion: 'fake-7' };
      },
    };
    const driver = driverFor({ shipmentState: { predictor } });
    const log = new ChangeLog();
    await sendChange(driver, log.snapshot({ status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendTelemetry(driver, telemetry(1, 0, { odometerKm: 100 }));
    expect(queries).toEqual([]);
    await sendChange(driver, log.update(T0 + 2 * MIN, { status: 'PICKED_UP' }));
    await sendTelemetry(driver, telemetry(5, 0.1, { odometerKm: 104 }));
    expect(queries).toEqual([0, 4]);
    expect(await lastState(driver)).toMatchObject({
      predictedArrival: T0 + 5 * MIN + 1,
      predictionLow: T0 + 5 * MIN,
      predictionHigh: T0 + 5 * MIN + 2,
      modelVersion: 'fake-7',
    });
  });

  it('never emits for a redelivered change, and dead-letters an impossible one', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    const insert = log.insert();
    await sendChange(driver, insert);
    await sendChange(driver, insert);
    await sendChange(driver, log.update(T0 + MIN, { status: 'DELIVERED' }));
    expect((await states(driver)).map((s) => s.status)).toEqual(['CREATED']);
    expect(
      driver.deadLetters(TOPICS.shipmentsCdc).map((l) => l.headers?.[DLQ_HEADERS.errorMessage]),
    ).toEqual(['SHP-1: CREATED → DELIVERED is not allowed']);
  });

  it('drops a deleted shipment', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await sendChange(driver, log.snapshot({ status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendChange(driver, log.delete());
    const count = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(1, 0));
    expect(await states(driver)).toHaveLength(count);
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(0);
  });
});

describe('shipment state join, transactions', () => {
  it('regression: an aborted transaction rolls back the per-shipment counters (stored objects are never changed in place)', async () => {
    const task = new StreamTask(
      shipmentStateTopology({
        topics: TOPICS,
        serdes: {
          shipmentChange: jsonSerde(),
          telemetry: jsonSerde(),
          shipmentState: jsonSerde(),
          deliveryExample: jsonSerde(),
        },
      }),
      0,
    );
    const log = new ChangeLog();
    const change = log.snapshot({ status: 'IN_TRANSIT', vehicleId: 'V-1' });
    const routed = {
      kind: 'change',
      change,
      source: { topic: TOPICS.shipmentsCdc, partition: 0, offset: 0 },
    };
    await task.process(
      {
        topic: 'continuum-shipment-state-shipments-by-vehicle-repartition',
        partition: 0,
        offset: '0',
      },
      { key: Buffer.from('V-1'), value: Buffer.from(JSON.stringify(routed)), timestamp: T0 },
    );
    await task.drainOutputs();
    await task.commitStores();
    const stored = () =>
      task.store<string, ShipmentJoinState>(SHIPMENT_STATE_STORES.shipments).get('SHP-1');
    expect(stored()).toMatchObject({ emittedSinceChange: 1, odometerAtPickupKm: null });
    const t = telemetry(1, 0.5, { odometerKm: 777 });
    await task.process(
      { topic: TOPICS.telemetryClean, partition: 0, offset: '0' },
      { key: Buffer.from('V-1'), value: Buffer.from(JSON.stringify(t)), timestamp: t.eventTime },
    );
    expect(stored()).toMatchObject({ emittedSinceChange: 2, odometerAtPickupKm: 777 });
    task.abort();
    expect(stored()).toMatchObject({ emittedSinceChange: 1, odometerAtPickupKm: null });
  });
});

describe('delivery examples', () => {
  async function trip(
    driver: TopologyTestDriver,
    finalStatus: 'DELIVERED' | 'CANCELLED',
  ): Promise<void> {
    const log = new ChangeLog();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendTelemetry(driver, telemetry(2, 0, { odometerKm: 1_000 }));
    await sendChange(driver, log.update(T0 + 3 * MIN, { status: 'PICKED_UP' }));
    await sendChange(driver, log.update(T0 + 4 * MIN, { status: 'IN_TRANSIT' }));
    // A reading a minute for 30 minutes, 1 km a minute.
    for (let m = 4; m <= 34; m += 1)
      await sendTelemetry(
        driver,
        telemetry(m, (m - 3) / 31, { odometerKm: 1_000 + (m - 3), speed: 60 }),
      );
    if (finalStatus === 'CANCELLED') {
      await sendChange(driver, log.update(T0 + 35 * MIN, { status: 'EXCEPTION' }));
      await sendChange(driver, log.update(T0 + 36 * MIN, { status: 'CANCELLED' }));
      return;
    }
    await sendChange(driver, log.update(T0 + 35 * MIN, { status: 'OUT_FOR_DELIVERY' }));
    await sendChange(driver, log.update(T0 + 38 * MIN, { status: 'DELIVERED' }));
  }

  it('writes a delivered trip with a labelled checkpoint every interval of event time', async () => {
    const driver = driverFor({ deliveryExamples: { checkpointIntervalMs: 10 * MIN } });
    await trip(driver, 'DELIVERED');
    const out = await driver.readOutput<string, DeliveryExample>(TOPICS.deliveriesCompleted);
    expect(out).toHaveLength(1);
    const [example] = out;
    expect(example?.key).toBe('SHP-1');
    const row = shipmentRow();
    expect(example?.value).toMatchObject({
      shipmentId: 'SHP-1',
      vehicleId: 'V-1',
      originId: row.originId,
      destinationId: row.destinationId,
      promisedAt: row.promisedAt,
      actualArrival: T0 + 38 * MIN,
    });
    const checkpoints = example?.value.checkpoints ?? [];
    // The first on-trip state carries the pre-pickup reading (minute 2): checkpoints start at
    // the first reading after pickup (minute 4), then every 10 minutes.
    expect(checkpoints.map((c) => (c.checkpointTime - T0) / MIN)).toEqual([4, 14, 24, 34]);
    expect(checkpoints.map((c) => c.minutesToArrival)).toEqual([34, 24, 14, 4]);
    expect(checkpoints[1]).toMatchObject({
      distanceTravelledKm: 11,
      speedKmh: 60,
      elapsedMin: 11,
      avgSpeedKmh: 60,
      // Monday 08:14 UTC.
      hourOfDay: 8,
      dayOfWeek: 1,
    });
    expect(checkpoints[1]?.distanceRemainingKm).toBeCloseTo(
      roadDistanceKm(telemetry(14, 11 / 31), DESTINATION),
      3,
    );
  });

  it('writes nothing for a cancelled trip and forgets it', async () => {
    const driver = driverFor();
    await trip(driver, 'CANCELLED');
    expect(await driver.readOutput(TOPICS.deliveriesCompleted)).toEqual([]);
    expect(driver.store('delivery-trips').size).toBe(0);
  });
});
