import type { VehicleTelemetry } from '../schemas/types.ts';
import {
  injectFaults,
  NO_FAULTS,
  truncateEncoding,
  type FaultContext,
  type FaultOptions,
} from './faults.ts';
import { Random } from './random.ts';
import { SeedStatistics } from './statistics.ts';
import { celsiusToFahrenheit, fahrenheitToCelsius, kmhToMph, mphToKmh, round } from './units.ts';
import { haversineKm } from './world.ts';

const reading: VehicleTelemetry = {
  eventId: '00000000-0000-4000-8000-000000000000',
  vehicleId: 'veh-001',
  eventTime: 1_000_000,
  lat: 50.9375,
  lon: 6.9603,
  speed: 100,
  speedUnit: 'KMH',
  headingDeg: 90,
  fuelPct: 50,
  engineTemp: 90,
  temperatureUnit: 'CELSIUS',
  odometerKm: 1000,
};

function context(options: Partial<FaultOptions>, canTruncate = false): FaultContext {
  return {
    rng: new Random(3),
    options: { ...NO_FAULTS, ...options },
    telemetryIntervalMs: 10_000,
    canTruncate,
    statistics: new SeedStatistics(),
  };
}

describe('units', () => {
  test.each([
    [100, 62.137],
    [0, 0],
    [-5, -3.107],
  ])('%d km/h is %d mph and back', (kmh, mph) => {
    expect(round(kmhToMph(kmh), 3)).toBe(mph);
    expect(mphToKmh(kmhToMph(kmh))).toBeCloseTo(kmh, 9);
  });

  test.each([
    [90, 194],
    [-40, -40],
    [0, 32],
    [100, 212],
  ])('%d °C is %d °F and back', (c, f) => {
    expect(celsiusToFahrenheit(c)).toBeCloseTo(f, 9);
    expect(fahrenheitToCelsius(f)).toBeCloseTo(c, 9);
  });
});

describe('injectFaults', () => {
  test('no faults: the reading goes out unchanged, on time, once', () => {
    const ctx = context({});
    expect(injectFaults(reading, ctx)).toEqual([
      { kind: 'event', releaseAt: reading.eventTime, event: reading },
    ]);
    expect(ctx.statistics.faultsTotal).toBe(0);
  });

  test('units: speed in MPH and temperature in °F, converted, and counted', () => {
    const ctx = context({ mph: 1, fahrenheit: 1 });
    const [out] = injectFaults(reading, ctx);
    expect(out).toMatchObject({
      kind: 'event',
      event: { speed: 62.1, speedUnit: 'MPH', engineTemp: 194, temperatureUnit: 'FAHRENHEIT' },
    });
    expect(ctx.statistics.faults['unit-mph']).toBe(1);
    expect(ctx.statistics.faults['unit-fahrenheit']).toBe(1);
  });

  test('a GPS jump moves the reported position 5–50 km', () => {
    const ctx = context({ gpsJump: 1 });
    for (let i = 0; i < 50; i++) {
      const [out] = injectFaults(reading, ctx);
      if (out?.kind !== 'event') throw new Error('expected an event');
      const km = haversineKm(reading, out.event);
      expect(km).toBeGreaterThanOrEqual(4.99);
      expect(km).toBeLessThanOrEqual(50.01);
    }
  });

  test('impossible values are one of fuel 140 %, speed -5, engine 400 °C', () => {
    const ctx = context({ impossibleValue: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const [out] = injectFaults(reading, ctx);
      if (out?.kind !== 'event') throw new Error('expected an event');
      const e = out.event;
      const which =
        e.fuelPct === 140
          ? 'fuel'
          : e.speed === -5
            ? 'speed'
            : e.engineTemp === 400
              ? 'temp'
              : 'none';
      seen.add(which);
    }
    expect([...seen].sort()).toEqual(['fuel', 'speed', 'temp']);
    expect(ctx.statistics.faults['impossible-value']).toBe(60);
  });

  test('late readings are held back by the late delay; out-of-order ones by 1.5–3.5 intervals', () => {
    const late = injectFaults(reading, context({ late: 1, lateDelayMs: 600_000 }));
    expect(late[0]?.releaseAt).toBe(reading.eventTime + 600_000);
    const ctx = context({ outOfOrder: 1 });
    for (let i = 0; i < 30; i++) {
      const delay = (injectFaults(reading, ctx)[0]?.releaseAt ?? 0) - reading.eventTime;
      expect([15_000, 25_000, 35_000]).toContain(delay);
    }
  });

  test('a duplicate is the same event (same id) once more; malformed payloads are extra raw bytes', () => {
    const ctx = context({ duplicate: 1, malformed: 1 });
    const out = injectFaults(reading, ctx);
    const events = out.flatMap((o) => (o.kind === 'event' ? [o.event] : []));
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual(events[1]);
    const raw = out.filter((o) => o.kind === 'raw');
    expect(raw).toHaveLength(1);
    expect(ctx.statistics.faults.duplicate).toBe(1);
  });

  test('malformed payloads never start with the Confluent magic byte 0; truncation needs an encoder', () => {
    const ctx = context({ malformed: 1 });
    for (let i = 0; i < 100; i++) {
      for (const o of injectFaults(reading, ctx))
        if (o.kind === 'raw') expect(o.value[0]).not.toBe(0);
    }
    expect(ctx.statistics.faults['malformed-truncated']).toBe(0);
    const withEncoder = context({ malformed: 1 }, true);
    for (let i = 0; i < 60; i++) injectFaults(reading, withEncoder);
    expect(withEncoder.statistics.faults['malformed-truncated']).toBeGreaterThan(0);
  });

  test('truncateEncoding keeps the 5-byte header and cuts the body short', () => {
    const encoded = Buffer.concat([Buffer.from([0, 0, 0, 0, 9]), Buffer.alloc(40, 7)]);
    for (const f of [0, 0.2, 0.5, 0.99, 1]) {
      const cut = truncateEncoding(encoded, f);
      expect(cut.subarray(0, 5)).toEqual(encoded.subarray(0, 5));
      expect(cut.length).toBeGreaterThan(5);
      expect(cut.length).toBeLessThan(encoded.length);
    }
  });
});
