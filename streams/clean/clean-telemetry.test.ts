// CleanTelemetryProcessor through the broker-free driver: validation, units, dedupe,
// reordering within grace, lateness beyond it, GPS jumps.
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import type { VehicleTelemetry } from '../../schemas/types.ts';
import { jsonSerde } from '../runtime/serde.ts';
import { StreamTask } from '../runtime/stream-task.ts';
import { TopologyTestDriver } from '../runtime/topology-test-driver.ts';
import { lineageOf } from '../lineage.ts';
import { telemetryCleanTopology } from '../topologies.ts';
import {
  CLEAN_TELEMETRY_STORES,
  type CleanTelemetryOptions,
  type VehicleReorderState,
} from './clean-telemetry.ts';

const RAW = 'telemetry.raw';
const CLEAN = 'telemetry.clean';
const T0 = Date.UTC(2026, 0, 5, 8, 0);
const SEC = 1_000;

function driverFor(
  clean: Partial<CleanTelemetryOptions> = {},
  driver: { wallClock?: number } = {},
): TopologyTestDriver {
  return new TopologyTestDriver(
    telemetryCleanTopology({
      topics: { telemetryRaw: RAW, telemetryClean: CLEAN },
      telemetrySerde: jsonSerde<VehicleTelemetry>(),
      clean: { graceMs: 30 * SEC, ...clean },
    }),
    driver,
  );
}

/** A reading `seconds` after T0, driving north at 72 km/h (0.02 km/s ≈ 0.00018° of latitude). */
function reading(
  seconds: number,
  overrides: Partial<VehicleTelemetry> = {},
  vehicleId = 'V-1',
): VehicleTelemetry {
  return {
    eventId: `${vehicleId}-e${seconds}`,
    vehicleId,
    eventTime: T0 + seconds * SEC,
    lat: 50.9 + seconds * 0.00018,
    lon: 6.9,
    speed: 72,
    speedUnit: 'KMH',
    headingDeg: 0,
    fuelPct: 80,
    engineTemp: 90,
    temperatureUnit: 'CELSIUS',
    odometerKm: 1000 + seconds * 0.02,
    ...overrides,
  };
}

async function send(driver: TopologyTestDriver, event: VehicleTelemetry): Promise<void> {
  await driver.pipeInput(RAW, event.vehicleId, event, event.eventTime);
}

async function cleanIds(driver: TopologyTestDriver): Promise<string[]> {
  return (await driver.readOutput<string, VehicleTelemetry>(CLEAN)).map((o) => o.value.eventId);
}

function rejections(
  driver: TopologyTestDriver,
): { reason: string; message: string; value: VehicleTelemetry }[] {
  return driver.deadLetters(RAW).map((letter) => ({
    reason: String(letter.headers?.[DLQ_HEADERS.errorCode]),
    message: String(letter.headers?.[DLQ_HEADERS.errorMessage]),
    value: JSON.parse(letter.value?.toString() ?? 'null') as VehicleTelemetry,
  }));
}

describe('CleanTelemetryProcessor', () => {
  it('holds readings for the grace period, then releases them keyed by vehicle with event-time timestamps', async () => {
    const driver = driverFor();
    await send(driver, reading(0));
    await send(driver, reading(10));
    expect(await cleanIds(driver)).toEqual([]);
    await send(driver, reading(30)); // watermark T0+30 s: the reading at 0 is 30 s behind
    await send(driver, reading(40));
    const out = await driver.readOutput<string, VehicleTelemetry>(CLEAN);
    expect(out.map((o) => [o.key, o.value.eventId, o.timestamp])).toEqual([
      ['V-1', 'V-1-e0', T0],
      ['V-1', 'V-1-e10', T0 + 10 * SEC],
    ]);
  });

  it('puts out-of-order readings within the grace period back in event-time order', async () => {
    const driver = driverFor();
    for (const s of [0, 10, 30, 20, 40, 50, 60, 70, 80]) await send(driver, reading(s));
    expect(await cleanIds(driver)).toEqual([
      'V-1-e0',
      'V-1-e10',
      'V-1-e20',
      'V-1-e30',
      'V-1-e40',
      'V-1-e50',
    ]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('dead-letters a reading older than one already released as late, with the original bytes', async () => {
    const driver = driverFor();
    for (const s of [0, 10, 20, 30, 40, 50]) await send(driver, reading(s));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10', 'V-1-e20']);
    const late = reading(15, { eventId: 'V-1-late' });
    await send(driver, late);
    const [rejected, ...more] = rejections(driver);
    expect(more).toEqual([]);
    expect(rejected?.value).toEqual(late);
    expect(rejected?.message).toMatch(/^V-1 event V-1-late .* arrived 35000 ms behind event time/);
    expect(driver.deadLetters(RAW)[0]?.headers?.[DLQ_HEADERS.errorClass]).toBe(
      'RecordRejectedError',
    );
    // Out of order but not behind what was released: held, then released in its place.
    await send(driver, reading(25));
    await send(driver, reading(60));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10', 'V-1-e20', 'V-1-e25', 'V-1-e30']);
    expect(driver.deadLetters()).toHaveLength(1);
  });

  it('drops a redelivered event id within the window and counts it, whether held or released', async () => {
    const duplicates: string[] = [];
    const driver = driverFor({ onDuplicate: (e) => duplicates.push(e.eventId) });
    await send(driver, reading(0));
    await send(driver, reading(10));
    await send(driver, reading(0)); // still held
    await send(driver, reading(40));
    await send(driver, reading(10)); // already released
    await send(driver, reading(80));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10', 'V-1-e40']);
    expect(duplicates).toEqual(['V-1-e0', 'V-1-e10']);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('forgets event ids older than the dedupe window as event time passes them (time index, no sweep)', async () => {
    const driver = driverFor({ dedupeWindowMs: 60 * SEC });
    await send(driver, reading(0));
    expect(driver.store<string, number>(CLEAN_TELEMETRY_STORES.seen).get('V-1-e0')).toBe(T0);
    for (let s = 10; s <= 120; s += 10) await send(driver, reading(s));
    const seen = driver.store<string, number>(CLEAN_TELEMETRY_STORES.seen);
    expect(seen.get('V-1-e0')).toBeUndefined();
    expect(seen.get('V-1-e120')).toBe(T0 + 120 * SEC);
    // The window is 60 s behind the newest event (120 s): 60, 70, … 120 remain.
    expect(seen.size).toBe(7);
  });

  it('releases a silent vehicle once other vehicles move event time past its grace period', async () => {
    const driver = driverFor();
    await send(driver, reading(0, {}, 'V-2'));
    for (const s of [10, 20, 30, 40, 50]) await send(driver, reading(s));
    const out = await driver.readOutput<string, VehicleTelemetry>(CLEAN);
    expect(out.filter((o) => o.key === 'V-2').map((o) => o.value.eventId)).toEqual(['V-2-e0']);
  });

  it('normalizes MPH and °F to km/h and °C', async () => {
    const driver = driverFor();
    await send(
      driver,
      reading(0, { speed: 50, speedUnit: 'MPH', engineTemp: 194, temperatureUnit: 'FAHRENHEIT' }),
    );
    await send(driver, reading(10, { speed: 72.5 }));
    await send(driver, reading(60));
    const [mph, kmh] = (await driver.readOutput<string, VehicleTelemetry>(CLEAN)).map(
      (o) => o.value,
    );
    expect(mph).toMatchObject({
      speed: 80.47,
      speedUnit: 'KMH',
      engineTemp: 90,
      temperatureUnit: 'CELSIUS',
    });
    expect(kmh).toMatchObject({
      speed: 72.5,
      speedUnit: 'KMH',
      engineTemp: 90,
      temperatureUnit: 'CELSIUS',
    });
  });

  it.each([
    ['fuel above 100 %', { fuelPct: 140 }, /fuel 140 % outside \[0, 100\]/],
    ['negative speed', { speed: -5 }, /speed -5 km\/h outside \[0, 250\]/],
    [
      'speed above 250 km/h after MPH conversion',
      { speed: 160, speedUnit: 'MPH' as const },
      /speed 257.5 km\/h/,
    ],
    ['engine at 400 °C', { engineTemp: 400 }, /engine temperature 400 °C/],
    [
      'engine at 400 °C sent as °F',
      { engineTemp: 752, temperatureUnit: 'FAHRENHEIT' as const },
      /engine temperature 400 °C/,
    ],
    ['engine below -40 °C', { engineTemp: -41 }, /engine temperature -41 °C/],
    ['latitude beyond the pole', { lat: 91 }, /lat 91° outside \[-90, 90\]/],
    ['longitude beyond the date line', { lon: -181 }, /lon -181°/],
    ['heading above 360°', { headingDeg: 361 }, /heading 361°/],
    ['a negative odometer', { odometerKm: -1 }, /odometer -1 km outside/],
  ])('dead-letters %s as an impossible value', async (_name, overrides, message) => {
    const driver = driverFor();
    await send(driver, reading(0, overrides));
    await send(driver, reading(60));
    const [rejected, ...more] = rejections(driver);
    expect(more).toEqual([]);
    expect(rejected?.message).toMatch(message);
    expect(rejected?.reason).toBe('RECORD_REJECTED');
    expect(driver.store<string, number>(CLEAN_TELEMETRY_STORES.seen).get('V-1-e0')).toBeUndefined();
  });

  it('accepts the edges of every range', async () => {
    const driver = driverFor();
    await send(driver, reading(0, { speed: 0, fuelPct: 0, engineTemp: -40, headingDeg: 0 }));
    await send(driver, reading(10, { speed: 250, fuelPct: 100, engineTemp: 150, headingDeg: 360 }));
    await send(driver, reading(60));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10']);
  });

  it('dead-letters a GPS jump and keeps judging later readings against the real track', async () => {
    const driver = driverFor();
    await send(driver, reading(0));
    await send(driver, reading(10, { lat: 51.2, eventId: 'V-1-jump' })); // ~33 km in 10 s
    await send(driver, reading(20));
    await send(driver, reading(60));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e20']);
    const [rejected, ...more] = rejections(driver);
    expect(more).toEqual([]);
    expect(rejected?.value.eventId).toBe('V-1-jump');
    expect(rejected?.message).toMatch(
      /V-1 event V-1-jump: 3\d\.\d+ km from the reading at .* implies \d+ km\/h \(max 300\)/,
    );
  });

  it('judges an out-of-order reading against the reading before it in event time', async () => {
    const driver = driverFor({ maxImpliedSpeedKmh: 150 });
    const kmNorth = (km: number) => ({ lat: 50.9 + km / 111.195 });
    await send(driver, reading(0, kmNorth(0)));
    await send(driver, reading(20, kmNorth(0.8)));
    // 0.1 km in 10 s after e0 (36 km/h); against e20 it would be 0.7 km in 10 s (252 km/h).
    await send(driver, reading(10, kmNorth(0.1)));
    await send(driver, reading(60, kmNorth(1.6)));
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10', 'V-1-e20']);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('relocates a vehicle whose reference reading was the jump, after consecutive rejections', async () => {
    const driver = driverFor({ relocateAfterJumps: 3 });
    await send(driver, reading(0, { lat: 52.5, eventId: 'V-1-bad-first' })); // nothing to judge it against
    for (const s of [10, 20, 30, 40, 50, 60, 120]) await send(driver, reading(s));
    expect(rejections(driver).map((r) => r.value.eventId)).toEqual(['V-1-e10', 'V-1-e20']);
    expect(await cleanIds(driver)).toEqual([
      'V-1-bad-first',
      'V-1-e30',
      'V-1-e40',
      'V-1-e50',
      'V-1-e60',
    ]);
  });

  it('dead-letters a reading keyed by another vehicle', async () => {
    const driver = driverFor();
    await driver.pipeInput(RAW, 'V-9', reading(0), T0);
    expect(rejections(driver)[0]?.message).toBe('event V-1-e0 of vehicle V-1 was keyed "V-9"');
  });

  it('regression: an aborted transaction rolls back the reorder buffer (stored objects are never changed in place)', async () => {
    const task = new StreamTask(
      telemetryCleanTopology({
        topics: { telemetryRaw: RAW, telemetryClean: CLEAN },
        telemetrySerde: jsonSerde<VehicleTelemetry>(),
      }),
      0,
    );
    const input = (offset: number, event: VehicleTelemetry) =>
      task.process(
        { topic: RAW, partition: 0, offset: String(offset) },
        {
          key: Buffer.from(event.vehicleId),
          value: Buffer.from(JSON.stringify(event)),
          timestamp: event.eventTime,
        },
      );
    await input(0, reading(0));
    await task.drainOutputs();
    task.commitStores();
    await input(1, reading(10));
    task.abort();
    expect(
      task.store<string, VehicleReorderState>(CLEAN_TELEMETRY_STORES.vehicles).get('V-1'),
    ).toEqual({
      lastReleased: null,
      pending: [reading(0)],
      sources: [{ topic: RAW, partition: 0, offset: 0 }],
      jumpStreak: 0,
    });
  });

  it('names the telemetry.raw record each clean reading came from (lineage headers)', async () => {
    const driver = driverFor();
    for (const s of [0, 10, 40]) await send(driver, reading(s));
    const out = await driver.readOutput<string, VehicleTelemetry>(CLEAN);
    expect(out.map((o) => [o.value.eventId, lineageOf(o.headers)])).toEqual([
      ['V-1-e0', { topic: RAW, partition: 0, offset: 0 }],
      ['V-1-e10', { topic: RAW, partition: 0, offset: 1 }],
    ]);
  });

  it('dead-letters a far-future reading as future, leaving dedupe and reordering of the rest as they were', async () => {
    const now = T0 + 3_600 * SEC;
    const valid = [0, 20, 10, 20, 50, 45, 90, 130].map((s) => reading(s));
    const run = async (withFuture: boolean) => {
      const driver = driverFor({}, { wallClock: now });
      for (const [i, event] of valid.entries()) {
        if (withFuture && i === 3)
          await send(driver, reading(30 * 24 * 3_600, { eventId: 'bad-clock' }));
        await send(driver, event);
      }
      return driver;
    };
    const clean = await run(false);
    const withFuture = await run(true);
    expect(await cleanIds(withFuture)).toEqual(await cleanIds(clean));
    expect(await cleanIds(clean)).toEqual([
      'V-1-e0',
      'V-1-e10',
      'V-1-e20',
      'V-1-e45',
      'V-1-e50',
      'V-1-e90',
    ]);
    expect(rejections(withFuture).map((r) => [r.value.eventId, r.reason])).toEqual([
      ['bad-clock', 'RECORD_REJECTED'],
    ]);
    const [letter] = withFuture.deadLetters(RAW);
    expect(letter?.headers?.[DLQ_HEADERS.reason]).toBe('future');
    expect(letter?.headers?.[DLQ_HEADERS.stage]).toBe('extract-timestamp');
    expect(withFuture.streamTime).toBe(T0 + 130 * SEC);
  });

  it('releases everything it holds once the task has been quiet for quietAfterMs of wall clock', async () => {
    const driver = driverFor({ quietAfterMs: 10 * SEC }, { wallClock: T0 + 3_600 * SEC });
    for (const s of [0, 10, 20]) await send(driver, reading(s));
    expect(await cleanIds(driver)).toEqual([]);
    await driver.advanceWallClock(9 * SEC);
    expect(await cleanIds(driver)).toEqual([]);
    await driver.advanceWallClock(2 * SEC);
    expect(await cleanIds(driver)).toEqual(['V-1-e0', 'V-1-e10', 'V-1-e20']);
    // Released is final: an older reading now is late.
    await send(driver, reading(15));
    expect(rejections(driver).map((r) => r.value.eventId)).toEqual(['V-1-e15']);
  });
});
