// The pure parts of the pipeline benchmark: its arithmetic, options, and that its generated input
// is what the platform's topologies expect (broker-free, through the TopologyTestDriver).
import { loadConfig } from '../core/config.ts';
import type { ShipmentWrite } from '../seeder/shipment-store.ts';
import type {
  DeliveryExample,
  EtaModel,
  Shipment,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../schemas/types.ts';
import { jsonSerde } from '../streams/runtime/serde.ts';
import { TopologyTestDriver } from '../streams/runtime/topology-test-driver.ts';
import {
  shipmentStateTopology,
  streamTopics,
  telemetryCleanTopology,
} from '../streams/topologies.ts';
import {
  BenchOptionsError,
  PIPELINE_BENCH_DEFAULTS,
  resolvePipelineBenchOptions,
} from './pipeline-options.ts';
import {
  fleetVehicle,
  freshnessReading,
  freshnessShipmentId,
  freshnessShipments,
  simulatePipelineInput,
  toShipmentChanges,
  VehicleEventClock,
} from './pipeline-records.ts';
import {
  parseOffset,
  mean,
  percentile,
  recordsDue,
  roundRobin,
  summarizeLatencies,
} from './pipeline-stats.ts';

describe('percentile and summarizeLatencies', () => {
  it('takes the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts before it summarizes', () => {
    expect(summarizeLatencies([30, 10, 20, 40])).toEqual({ count: 4, p50: 20, p99: 40, max: 40 });
  });
});

describe('parseOffset', () => {
  it('reads kafkajs offsets, where -1 means none', () => {
    expect(parseOffset('-1')).toBeUndefined();
    expect(parseOffset('')).toBeUndefined();
    expect(parseOffset('42')).toBe(42n);
  });
});

describe('recordsDue', () => {
  it('owes rate × elapsed, rounded down', () => {
    expect(recordsDue(1_000, 0)).toBe(0);
    expect(recordsDue(1_000, 2_500)).toBe(2_500);
    expect(recordsDue(333, 1_000)).toBe(333);
    expect(recordsDue(10, 99)).toBe(0);
    expect(recordsDue(10, -5)).toBe(0);
  });
});

describe('mean', () => {
  it('averages, and is NaN for nothing', () => {
    expect(mean([2, 4, 9])).toBe(5);
    expect(mean([])).toBeNaN();
  });
});

describe('roundRobin', () => {
  it('goes round the items in order', () => {
    const next = roundRobin(['a', 'b', 'c']);
    expect(Array.from({ length: 7 }, () => next())).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('needs an item', () => {
    expect(() => roundRobin([])).toThrow(RangeError);
  });
});

describe('resolvePipelineBenchOptions', () => {
  it('fills in the defaults and coerces command-line strings', () => {
    expect(resolvePipelineBenchOptions(undefined)).toEqual(PIPELINE_BENCH_DEFAULTS);
    expect(
      resolvePipelineBenchOptions({ records: '5000', rows: ['freshness'], graceMs: undefined }),
    ).toEqual({ ...PIPELINE_BENCH_DEFAULTS, records: 5_000, rows: ['freshness'] });
  });

  it('names the option and what would be valid', () => {
    expect(() => resolvePipelineBenchOptions({ clients: ['rdkafka'] })).toThrow(BenchOptionsError);
    expect(() => resolvePipelineBenchOptions({ clients: ['rdkafka'] })).toThrow(/--clients/);
    expect(() => resolvePipelineBenchOptions({ partitions: '0' })).toThrow(/--partitions/);
    expect(() => resolvePipelineBenchOptions({ freshnessSeconds: 'soon' })).toThrow(
      /--freshness-seconds/,
    );
  });
});

function row(overrides: Partial<Shipment> = {}): Shipment {
  return {
    shipmentId: 'SHP-1',
    customerId: 'C-1',
    originId: 'DEPOT-CGN',
    originLat: 50.9,
    originLon: 6.9,
    destinationId: 'DUS',
    destinationLat: 51.2,
    destinationLon: 6.8,
    vehicleId: null,
    status: 'CREATED',
    weightKg: 100,
    promisedAt: 5_000,
    createdAt: 1_000,
    updatedAt: 1_000,
    changeSeq: 1,
    ...overrides,
  };
}

describe('toShipmentChanges', () => {
  it('turns store writes into CDC changes with before images and growing WAL positions', () => {
    const assigned = row({ status: 'ASSIGNED', vehicleId: 'V-1', updatedAt: 2_000, changeSeq: 2 });
    const transactions: ShipmentWrite[][] = [
      [
        { op: 'insert', shipment: row() },
        { op: 'insert', shipment: row({ shipmentId: 'SHP-2' }) },
      ],
      [
        { op: 'update', shipment: assigned, previousStatus: 'CREATED' },
        {
          op: 'ground-truth',
          truth: {
            shipmentId: 'SHP-9',
            seed: 1,
            vehicleId: null,
            finalStatus: 'CANCELLED',
            createdAt: 0,
            promisedAt: 0,
            pickedUpAt: null,
            arrivedAt: null,
            routeKm: null,
            exceptionCount: 0,
          },
        },
      ],
    ];
    const changes = toShipmentChanges(transactions);
    expect(changes.map((c) => [c.op, c.after?.shipmentId, c.before?.status ?? null])).toEqual([
      ['INSERT', 'SHP-1', null],
      ['INSERT', 'SHP-2', null],
      ['UPDATE', 'SHP-1', 'CREATED'],
    ]);
    expect(changes[2]?.commitTime).toBe(2_000);
    const [a, b, c] = changes.map((ch) => ch.source);
    expect(a?.commitLsn).toBe(b?.commitLsn);
    expect(a?.txId).toBe(b?.txId);
    expect(a!.lsn).toBeLessThan(b!.lsn);
    expect(b!.commitLsn).toBeLessThan(c!.lsn);
    expect(c!.lsn).toBeLessThan(c!.commitLsn);
  });
});

describe('simulatePipelineInput', () => {
  it('gives the requested count of telemetry, malformed records and shipment changes in time order', async () => {
    const inputs = await simulatePipelineInput(3_000);
    expect(inputs).toHaveLength(3_000);
    const kinds = new Set(inputs.map((i) => i.kind));
    expect(kinds).toEqual(new Set(['telemetry', 'telemetry-raw', 'shipment-change']));
    const times = inputs.map((i) => i.timestamp);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });
});

/** The join on JSON serdes, on the platform's default topics. */
function joinDriver(): TopologyTestDriver {
  return new TopologyTestDriver(
    shipmentStateTopology({
      topics: streamTopics(loadConfig({}).topics),
      serdes: {
        shipmentChange: jsonSerde<ShipmentChange>(),
        telemetry: jsonSerde<VehicleTelemetry>(),
        shipmentState: jsonSerde<UnifiedShipmentState>(),
        deliveryExample: jsonSerde<DeliveryExample>(),
        etaModel: jsonSerde<EtaModel>(),
      },
    }),
  );
}

describe('freshness fixtures through the platform topologies', () => {
  const topics = streamTopics(loadConfig({}).topics);

  it('make the join emit one shipment.state record per reading, stamped with its event time', async () => {
    const vehicles = 3;
    const t0 = Date.UTC(2026, 0, 5, 8, 0);
    const clean = new TopologyTestDriver(
      telemetryCleanTopology({
        topics,
        telemetrySerde: jsonSerde<VehicleTelemetry>(),
        clean: { graceMs: 0 },
      }),
    );
    const join = joinDriver();
    for (const change of freshnessShipments(vehicles, t0)) {
      await join.pipeInput(topics.shipmentsCdc, change.after?.shipmentId, change, t0);
    }
    const before = (await join.readOutput(topics.shipmentState)).length;

    const readings = Array.from({ length: 4 * vehicles }, (_, seq) =>
      freshnessReading(seq % vehicles, seq, t0 + 10 + seq * 20, t0),
    );
    for (const r of readings)
      await clean.pipeInput(topics.telemetryRaw, r.vehicleId, r, r.eventTime);
    const cleaned = await clean.readOutput<string, VehicleTelemetry>(topics.telemetryClean);
    expect(cleaned).toHaveLength(readings.length);
    expect(clean.deadLetters()).toHaveLength(0);

    for (const c of cleaned)
      await join.pipeInput(topics.telemetryClean, c.key, c.value, c.timestamp);
    const states = (
      await join.readOutput<string, UnifiedShipmentState>(topics.shipmentState)
    ).slice(before);
    expect(states.map((s) => s.timestamp)).toEqual(readings.map((r) => r.eventTime));
    // What the api-lookup benchmark's freshness probes look for: the reading's vehicle's
    // shipment, positioned at the reading's event time.
    expect(states.map((s) => [s.value.shipmentId, s.value.positionTime])).toEqual(
      readings.map((r, seq) => [freshnessShipmentId(seq % vehicles), r.eventTime]),
    );
    expect(states.every((s) => s.value.status === 'IN_TRANSIT')).toBe(true);
    expect(join.deadLetters()).toHaveLength(0);
  });
});

describe('VehicleEventClock', () => {
  it("stamps the wall clock, and 1 ms past a vehicle's last reading when the clock has not moved past it", () => {
    const clock = new VehicleEventClock();
    expect(clock.next(0, 1_000)).toBe(1_000);
    expect(clock.next(1, 1_000)).toBe(1_000);
    expect(clock.next(0, 1_000)).toBe(1_001);
    expect(clock.next(0, 1_000)).toBe(1_002);
    expect(clock.next(0, 1_500)).toBe(1_500);
    expect(clock.next(1, 999)).toBe(1_001);
  });

  it('gives one shipment.state record per reading when a late feed stamps two fleet cycles with one time', async () => {
    const vehicles = 2;
    const t0 = Date.UTC(2026, 0, 5, 8, 0);
    const topics = streamTopics(loadConfig({}).topics);
    const statesFor = async (stamp: (vehicle: number) => number): Promise<number> => {
      const join = joinDriver();
      for (const change of freshnessShipments(vehicles, t0))
        await join.pipeInput(topics.shipmentsCdc, change.after?.shipmentId, change, t0);
      const before = (await join.readOutput(topics.shipmentState)).length;
      for (let seq = 0; seq < 2 * vehicles; seq++) {
        const r = freshnessReading(seq % vehicles, seq, stamp(seq % vehicles), t0);
        await join.pipeInput(topics.telemetryClean, r.vehicleId, r, r.eventTime);
      }
      return (await join.readOutput(topics.shipmentState)).length - before;
    };
    const now = t0 + 60_000;
    // One wall-clock time for both cycles: the join takes each vehicle's second reading for a
    // redelivery of the first.
    expect(await statesFor(() => now)).toBe(vehicles);
    const clock = new VehicleEventClock();
    expect(await statesFor((vehicle) => clock.next(vehicle, now))).toBe(2 * vehicles);
  });
});

describe('fleetVehicle', () => {
  it('goes round the vehicles that are not reserved', () => {
    expect(Array.from({ length: 7 }, (_, seq) => fleetVehicle(seq, 5, 2))).toEqual([
      2, 3, 4, 2, 3, 4, 2,
    ]);
    expect(Array.from({ length: 3 }, (_, seq) => fleetVehicle(seq, 3))).toEqual([0, 1, 2]);
  });

  it('needs a vehicle left over', () => {
    expect(() => fleetVehicle(0, 3, 3)).toThrow(RangeError);
  });
});
