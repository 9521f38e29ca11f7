// The shipment state application through the broker-free driver: cleaning, routing to the
// owning vehicle's task, the event-time join with telemetry, versions, finished shipments and
// delivery examples — and the same results whatever order the two inputs arrive in.
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import type {
  DeliveryExample,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { ChangeLog, FIXTURE_T0 as T0 } from '../clean/shipment-change-fixtures.ts';
import { roadDistanceKm } from '../geo.ts';
import { lineageHeaders } from '../lineage.ts';
import { jsonSerde } from '../runtime/serde.ts';
import { StreamTask } from '../runtime/stream-task.ts';
import { TopologyTestDriver } from '../runtime/topology-test-driver.ts';
import { repartitionTopic } from '../runtime/topology.ts';
import {
  SHIPMENT_STATE_APP_ID,
  SHIPMENTS_BY_OWNER,
  shipmentStateTopology,
  type ShipmentStateTopologyOptions,
} from '../topologies.ts';
import type { EtaPredictor } from './eta-predictor.ts';
import { SHIPMENT_STATE_STORES, type OwnedShipment } from './shipment-state.ts';
import type { ExampleSkipReason } from './trip-checkpoints.ts';
import { VERSION_STRIDE } from './unified-state.ts';

const TOPICS = {
  shipmentsCdc: 'shipments.cdc',
  telemetryClean: 'telemetry.clean',
  shipmentState: 'shipment.state',
  deliveriesCompleted: 'deliveries.completed',
};
const MIN = 60_000;
const REPARTITION = repartitionTopic(SHIPMENT_STATE_APP_ID, SHIPMENTS_BY_OWNER);
const ORIGIN = { lat: 50.9375, lon: 6.9603 };
const DESTINATION = { lat: 51.2277, lon: 6.7735 };

function topology(
  options: Partial<Pick<ShipmentStateTopologyOptions, 'shipmentState' | 'readingHistoryMs'>> = {},
) {
  return shipmentStateTopology({
    topics: TOPICS,
    serdes: {
      shipmentChange: jsonSerde(),
      telemetry: jsonSerde(),
      shipmentState: jsonSerde(),
      deliveryExample: jsonSerde(),
    },
    ...options,
  });
}

function driverFor(
  options: Partial<Pick<ShipmentStateTopologyOptions, 'shipmentState' | 'readingHistoryMs'>> = {},
  driverOptions: { wallClock?: number } = {},
): TopologyTestDriver {
  return new TopologyTestDriver(topology(options), driverOptions);
}

async function sendChange(driver: TopologyTestDriver, change: ShipmentChange): Promise<void> {
  const row = change.after ?? change.before;
  await driver.pipeInput(TOPICS.shipmentsCdc, row?.shipmentId ?? '', change, row?.updatedAt);
}

/** A reading of V-1 `minutes` after T0, `fraction` of the way from origin to destination. */
function telemetry(
  minutes: number,
  fraction = 0.5,
  overrides: Partial<VehicleTelemetry> = {},
): VehicleTelemetry {
  return {
    eventId: `e${overrides.vehicleId ?? 'V-1'}-${minutes}`,
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
    odometerKm: 5_000 + minutes,
    ...overrides,
  };
}

async function sendTelemetry(
  driver: TopologyTestDriver,
  t: VehicleTelemetry,
  headers?: Record<string, string>,
): Promise<void> {
  await driver.pipeInput(TOPICS.telemetryClean, t.vehicleId, t, t.eventTime, headers);
}

async function states(driver: TopologyTestDriver): Promise<UnifiedShipmentState[]> {
  const out = await driver.readOutput<string, UnifiedShipmentState>(TOPICS.shipmentState);
  for (const o of out) expect(o.key).toBe(o.value.shipmentId);
  return out.map((o) => o.value);
}

async function lastStates(driver: TopologyTestDriver): Promise<Map<string, UnifiedShipmentState>> {
  const last = new Map<string, UnifiedShipmentState>();
  for (const s of await states(driver)) last.set(s.shipmentId, s);
  return last;
}

async function lastState(
  driver: TopologyTestDriver,
  shipmentId = 'SHP-1',
): Promise<UnifiedShipmentState> {
  const last = (await lastStates(driver)).get(shipmentId);
  if (!last) throw new Error(`no state for ${shipmentId}`);
  return last;
}

async function examples(driver: TopologyTestDriver): Promise<DeliveryExample[]> {
  return (await driver.readOutput<string, DeliveryExample>(TOPICS.deliveriesCompleted)).map(
    (o) => o.value,
  );
}

/** Per shipment, whether the versions of its states rise strictly in output order. */
function versionsRise(all: readonly UnifiedShipmentState[]): string[] {
  const highest = new Map<string, number>();
  const problems: string[] = [];
  for (const s of all) {
    const before = highest.get(s.shipmentId);
    if (before !== undefined && s.version <= before)
      problems.push(`${s.shipmentId}: ${s.version} after ${before}`);
    highest.set(s.shipmentId, Math.max(before ?? 0, s.version));
  }
  return problems;
}

/** A trip on V-1: assigned at +1, picked up at `pickup`, delivered at `delivered` (minutes). */
function deliveredTrip(log: ChangeLog, pickup: number, delivered: number): ShipmentChange[] {
  return [
    log.insert(),
    log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
    log.update(T0 + pickup * MIN, { status: 'PICKED_UP' }),
    log.update(T0 + pickup * MIN + 1_000, { status: 'IN_TRANSIT' }),
    log.update(T0 + (delivered - 1) * MIN, { status: 'OUT_FOR_DELIVERY' }),
    log.update(T0 + delivered * MIN, { status: 'DELIVERED' }),
  ];
}

type Input =
  | { kind: 'change'; at: number; change: ShipmentChange }
  | { kind: 'reading'; at: number; reading: VehicleTelemetry };

/**
 * Two shipments on V-1 over two hours, a reading a minute: SHP-1 picked up at +20, delivered
 * at +100; SHP-2 assigned at +90, picked up at +105 and still on the road at the end (+120).
 */
function scenario(): Input[] {
  const one = new ChangeLog();
  const two = new ChangeLog();
  const changes: ShipmentChange[] = [
    one.insert(),
    one.update(T0 + 5 * MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
    one.update(T0 + 20 * MIN, { status: 'PICKED_UP' }),
    one.update(T0 + 22 * MIN, { status: 'IN_TRANSIT' }),
    one.update(T0 + 80 * MIN, { status: 'OUT_FOR_DELIVERY' }),
    one.update(T0 + 100 * MIN, { status: 'DELIVERED' }),
    two.insert({ shipmentId: 'SHP-2', createdAt: T0 + 60 * MIN, updatedAt: T0 + 60 * MIN }),
    two.update(T0 + 90 * MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
    two.update(T0 + 105 * MIN, { status: 'PICKED_UP' }),
    two.update(T0 + 107 * MIN, { status: 'IN_TRANSIT' }),
  ];
  // shipments.cdc holds them in commit order, which is event-time order here.
  changes.sort((a, b) => (a.after?.updatedAt ?? 0) - (b.after?.updatedAt ?? 0));
  const inputs: Input[] = changes.map((change) => ({
    kind: 'change',
    at: change.after?.updatedAt ?? 0,
    change,
  }));
  for (let m = 0; m <= 120; m++)
    inputs.push({ kind: 'reading', at: T0 + m * MIN, reading: telemetry(m, m / 120) });
  return inputs;
}

async function run(
  driver: TopologyTestDriver,
  inputs: readonly Input[],
): Promise<TopologyTestDriver> {
  for (const input of inputs)
    if (input.kind === 'change') await sendChange(driver, input.change);
    else await sendTelemetry(driver, input.reading);
  return driver;
}

const byEventTime = (inputs: Input[]): Input[] =>
  [...inputs].sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'change' ? -1 : 1));
const changesFirst = (inputs: Input[]): Input[] => [
  ...inputs.filter((i) => i.kind === 'change'),
  ...inputs.filter((i) => i.kind === 'reading'),
];
const telemetryFirst = (inputs: Input[]): Input[] => [
  ...inputs.filter((i) => i.kind === 'reading'),
  ...inputs.filter((i) => i.kind === 'change'),
];

describe('the shipment state join, on event time', () => {
  it.each([
    ['as live (event-time order)', byEventTime],
    ['as a burst of changes ahead of telemetry', changesFirst],
    ['as a replay with telemetry ahead of changes', telemetryFirst],
  ])('gives the same last states and delivery examples %s', async (_label, order) => {
    const reference = await run(driverFor(), byEventTime(scenario()));
    const driver = await run(driverFor(), order(scenario()));
    expect(await lastStates(driver)).toEqual(await lastStates(reference));
    expect(await examples(driver)).toEqual(await examples(reference));
    expect(versionsRise(await states(driver))).toEqual([]);
  });

  it('shows a delivered shipment at its last reading at or before the delivery, with every checkpoint of its trip', async () => {
    const driver = await run(driverFor(), changesFirst(scenario()));
    const delivered = await lastState(driver, 'SHP-1');
    expect(delivered.status).toBe('DELIVERED');
    expect(delivered.positionTime).toBe(T0 + 100 * MIN);
    expect(delivered.distanceTravelledKm).toBe(80); // odometer +100 − odometer at pickup (+20)
    expect(delivered.version).toBe(6 * VERSION_STRIDE + T0 + 100 * MIN);
    const [example, ...more] = await examples(driver);
    expect(more).toEqual([]);
    // A checkpoint every 5 min from pickup (+20) to delivery (+100): 80 / 5 + 1.
    expect(example?.checkpoints.map((c) => (c.checkpointTime - T0) / MIN)).toEqual([
      20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 100,
    ]);
    expect(example?.checkpoints[0]?.minutesToArrival).toBe(80);
    expect(example?.checkpoints.at(-1)?.distanceTravelledKm).toBe(80);
  });

  it('keeps an active shipment on its vehicle’s latest reading, odometer at pickup from the reading before it', async () => {
    const driver = await run(driverFor(), telemetryFirst(scenario()));
    const active = await lastState(driver, 'SHP-2');
    expect(active.status).toBe('IN_TRANSIT');
    expect(active.positionTime).toBe(T0 + 120 * MIN);
    expect(active.distanceTravelledKm).toBe(15); // +120 − +105
    expect(active.stateUpdatedAt).toBe(T0 + 120 * MIN);
    expect(active.predictedArrival).not.toBeNull();
    expect(active.sourceOffsets).toEqual({ 'shipments.cdc-0': 9, 'telemetry.clean-0': 120 });
  });

  it('states an unassigned shipment from its change alone, keyed by its id, without vehicle data', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    await sendChange(driver, log.insert());
    const state = await lastState(driver);
    expect(state).toMatchObject({
      status: 'CREATED',
      vehicleId: null,
      lat: null,
      positionTime: null,
      predictedArrival: null,
      distanceTravelledKm: 0,
      version: VERSION_STRIDE,
      stateUpdatedAt: T0,
      sourceOffsets: { 'shipments.cdc-0': 0 },
    });
    expect(state.distanceRemainingKm).toBeCloseTo(roadDistanceKm(ORIGIN, DESTINATION), 2);
    // Nothing was routed to a join task for it.
    expect(driver.rawOutput(REPARTITION)).toEqual([]);
  });

  it('cites the telemetry.raw record a clean reading came from (lineage), not telemetry.clean', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendTelemetry(
      driver,
      telemetry(2),
      lineageHeaders({ topic: 'telemetry.raw', partition: 4, offset: 4_711 }) as Record<
        string,
        string
      >,
    );
    expect((await lastState(driver)).sourceOffsets).toEqual({
      'shipments.cdc-0': 1,
      'telemetry.raw-4': 4_711,
    });
  });

  it('emits one state per active shipment of the vehicle on each new reading, and none for a stale one', async () => {
    const stale: VehicleTelemetry[] = [];
    const driver = driverFor({ shipmentState: { onStaleReading: (r) => stale.push(r) } });
    for (const id of ['SHP-1', 'SHP-2']) {
      const log = new ChangeLog();
      await sendChange(driver, log.insert({ shipmentId: id }));
      await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    }
    const before = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(3));
    await sendTelemetry(driver, telemetry(2));
    await sendTelemetry(driver, telemetry(3));
    const after = (await states(driver)).slice(before);
    expect(after.map((s) => s.shipmentId).sort()).toEqual(['SHP-1', 'SHP-2']);
    expect(stale.map((r) => r.eventTime - T0)).toEqual([2 * MIN, 3 * MIN]);
  });

  it('corrects a delivered shipment when earlier readings arrive late, and makes it final on a reading past its end', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    for (const change of deliveredTrip(log, 2, 10)) await sendChange(driver, change);
    expect((await lastState(driver)).positionTime).toBeNull();
    await sendTelemetry(driver, telemetry(5));
    expect((await lastState(driver)).positionTime).toBe(T0 + 5 * MIN);
    expect(await examples(driver)).toEqual([]);
    await sendTelemetry(driver, telemetry(10));
    await sendTelemetry(driver, telemetry(11));
    expect((await lastState(driver)).positionTime).toBe(T0 + 10 * MIN);
    expect((await examples(driver)).map((e) => e.checkpoints.length)).toEqual([2]);
    expect(driver.store<string, string[]>(SHIPMENT_STATE_STORES.vehicleShipments).size).toBe(0);
  });

  it('makes a finished shipment final once the task’s readings pass its end by finishAfterMs, its vehicle silent', async () => {
    const log = new ChangeLog();
    const driver = driverFor({ shipmentState: { finishAfterMs: 30 * MIN } });
    await sendTelemetry(driver, telemetry(0));
    for (const change of [
      log.insert(),
      log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
      log.update(T0 + 10 * MIN, { status: 'CANCELLED' }),
    ])
      await sendChange(driver, change);
    await sendTelemetry(driver, telemetry(39, 0.5, { vehicleId: 'V-2' }));
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).get('V-1')).toEqual(['SHP-1']);
    await sendTelemetry(driver, telemetry(40, 0.5, { vehicleId: 'V-2' }));
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).get('V-1')).toBeUndefined();
    expect(
      driver.store<string, OwnedShipment>(SHIPMENT_STATE_STORES.shipments).get('SHP-1')?.retired,
    ).toBe(true);
  });

  it('makes what waits final when the task has been quiet for quietAfterMs (the end of a bounded input)', async () => {
    const log = new ChangeLog();
    const skipped: ExampleSkipReason[] = [];
    const driver = driverFor(
      { shipmentState: { quietAfterMs: 10_000, onExampleSkipped: (r) => skipped.push(r) } },
      { wallClock: T0 + 200 * MIN },
    );
    for (const change of deliveredTrip(log, 2, 10)) await sendChange(driver, change);
    await sendTelemetry(driver, telemetry(4));
    await driver.advanceWallClock(5_000);
    expect(await examples(driver)).toEqual([]);
    await driver.advanceWallClock(6_000);
    expect((await examples(driver)).map((e) => e.checkpoints.length)).toEqual([1]);
    expect(skipped).toEqual([]);
  });

  it('sends no empty example for a delivery whose trip had no readings, and says why', async () => {
    const log = new ChangeLog();
    const skipped: ExampleSkipReason[] = [];
    const driver = driverFor({ shipmentState: { onExampleSkipped: (r) => skipped.push(r) } });
    await sendTelemetry(driver, telemetry(0));
    for (const change of deliveredTrip(log, 2, 10)) await sendChange(driver, change);
    await sendTelemetry(driver, telemetry(12));
    expect(await examples(driver)).toEqual([]);
    expect(skipped).toEqual(['no-readings']);
  });

  it('hands a reassigned shipment to its new vehicle’s task; the old one stops writing it', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendTelemetry(driver, telemetry(2));
    await sendChange(driver, log.update(T0 + 3 * MIN, { vehicleId: 'V-2' }));
    const moved = await lastState(driver);
    expect(moved.vehicleId).toBe('V-2');
    expect(moved.positionTime).toBeNull();
    const before = (await states(driver)).length;
    await sendTelemetry(driver, telemetry(4));
    expect((await states(driver)).length).toBe(before);
    await sendTelemetry(driver, telemetry(5, 0.2, { vehicleId: 'V-2' }));
    expect((await lastState(driver)).positionTime).toBe(T0 + 5 * MIN);
    expect(versionsRise(await states(driver))).toEqual([]);
    const handoffs = driver
      .rawOutput(REPARTITION)
      .map((r) => JSON.parse(r.value?.toString() ?? '{}') as { kind: string });
    expect(handoffs.map((h) => h.kind)).toContain('handoff');
  });

  it('asks the ETA port for predictions while on the trip only', async () => {
    const asked: number[] = [];
    const predictor: EtaPredictor = {
      predict: (q) => {
        asked.push(q.at);
        return {
          arrival: q.at + 3_600_000,
          low: q.at,
          high: q.at + 7_200_000,
          modelVersion: 'fake-1',
        };
      },
    };
    const log = new ChangeLog();
    const driver = driverFor({ shipmentState: { predictor } });
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendTelemetry(driver, telemetry(2));
    expect(asked).toEqual([]);
    await sendChange(driver, log.update(T0 + 3 * MIN, { status: 'PICKED_UP' }));
    await sendTelemetry(driver, telemetry(4));
    expect(asked).toEqual([T0 + 2 * MIN, T0 + 4 * MIN]);
    expect((await lastState(driver)).modelVersion).toBe('fake-1');
  });

  it('never emits for a redelivered change, and dead-letters an impossible one', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    const created = log.insert();
    await sendChange(driver, created);
    await sendChange(driver, created);
    expect(await states(driver)).toHaveLength(1);
    await sendChange(driver, log.update(T0 + MIN, { status: 'DELIVERED' }));
    const [letter] = driver.deadLetters(TOPICS.shipmentsCdc);
    expect(letter?.headers?.[DLQ_HEADERS.reason]).toBe('impossible-transition');
  });

  it('forgets a deleted shipment', async () => {
    const log = new ChangeLog();
    const driver = driverFor();
    await sendChange(driver, log.insert());
    await sendChange(driver, log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await sendChange(driver, log.delete());
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(0);
    expect(driver.store(SHIPMENT_STATE_STORES.vehicleShipments).size).toBe(0);
  });

  it('forgets finished shipments once their retention has passed', async () => {
    const log = new ChangeLog();
    const driver = driverFor({ shipmentState: { retentionMs: 60 * MIN } });
    for (const change of [
      log.insert(),
      log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }),
      log.update(T0 + 2 * MIN, { status: 'CANCELLED' }),
    ])
      await sendChange(driver, change);
    await sendTelemetry(driver, telemetry(3));
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(1);
    await sendTelemetry(driver, telemetry(63));
    expect(driver.store(SHIPMENT_STATE_STORES.shipments).size).toBe(0);
  });

  it('regression: an aborted transaction rolls the join back (stored objects are never changed in place)', async () => {
    const task = new StreamTask(topology(), 0);
    const offsets = new Map<string, number>();
    const input = async (topic: string, key: string, value: unknown, timestamp: number) => {
      const offset = offsets.get(topic) ?? 0;
      offsets.set(topic, offset + 1);
      await task.process(
        { topic, partition: 0, offset: String(offset) },
        { key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)), timestamp },
      );
    };
    const log = new ChangeLog();
    const routed = (change: ShipmentChange, owned: boolean) => ({
      kind: 'change',
      change,
      source: { topic: TOPICS.shipmentsCdc, partition: 0, offset: 0 },
      owned,
    });
    log.insert();
    await input(
      REPARTITION,
      'V-1',
      routed(log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }), false),
      T0 + MIN,
    );
    await input(
      REPARTITION,
      'V-1',
      routed(log.update(T0 + 2 * MIN, { status: 'PICKED_UP' }), true),
      T0 + 2 * MIN,
    );
    await task.drainOutputs();
    task.commitStores();
    const committed = task
      .store<string, OwnedShipment>(SHIPMENT_STATE_STORES.shipments)
      .get('SHP-1');
    await input(TOPICS.telemetryClean, 'V-1', telemetry(1), T0 + MIN);
    await input(TOPICS.telemetryClean, 'V-1', telemetry(3), T0 + 3 * MIN);
    task.abort();
    expect(task.store(SHIPMENT_STATE_STORES.shipments).get('SHP-1')).toEqual(committed);
    expect(task.versionedStore(SHIPMENT_STATE_STORES.readings).get('V-1')).toBeUndefined();
  });
});
