// Schema evolution against the real registry (Apicurio, Confluent API) on random subjects: BACKWARD
// compatible changes register as new versions and both reader generations read both data
// generations; breaking changes are refused and `continuum schemas check` says which field breaks
// which rule; every platform contract round-trips in the Confluent wire format.
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Command } from 'commander';
import type { CommandEnv } from '../../cli/commands/stack.ts';
import { schemasCommand } from '../../cli/commands/schemas.ts';
import { loadConfig, type Config, type TopicsConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import {
  createSchemaRegistry,
  loadAvroSchema,
  registerValueSchema,
  valueSubject,
} from '../../schemas/event-schemas.ts';
import { RegistryAdmin } from '../../schemas/registry-admin.ts';
import {
  bindingFor,
  checkSchemas,
  platformSchemaBindings,
  registerSchemas,
  type SchemaBinding,
} from '../../schemas/subjects.ts';
import type {
  DeliveryExample,
  EtaModel,
  ShipmentChange,
  UnifiedShipmentState,
  VehicleTelemetry,
} from '../../schemas/types.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const log = createLogger('silent');
const admin = new RegistryAdmin(config.schemaRegistry.url);
const subjects = new Set<string>();

type Json = Record<string, unknown>;
/** A record schema, in the shape both our bindings and the client library accept. */
interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
  doc?: string;
  fields: Json[];
}

/** A binding on a fresh random topic, remembered for cleanup. */
function randomBinding(schemaName: string, schema: RecordSchema): SchemaBinding {
  const topic = uniqueName('test', '.');
  subjects.add(valueSubject(topic));
  return {
    topic,
    subject: valueSubject(topic),
    schemaName,
    schema,
  };
}

function randomTopics(): TopicsConfig {
  const topics: TopicsConfig = {
    partitions: 1,
    shipmentsCdc: uniqueName('test', '.'),
    telemetryRaw: uniqueName('test', '.'),
    telemetryClean: uniqueName('test', '.'),
    shipmentState: uniqueName('test', '.'),
    deliveriesCompleted: uniqueName('test', '.'),
    etaModels: uniqueName('test', '.'),
  };
  for (const b of platformSchemaBindings(topics)) subjects.add(b.subject);
  return topics;
}

/** Runs `continuum schemas <args>` in-process with the platform topics replaced. */
async function runSchemas(
  args: string[],
  topics: TopicsConfig,
): Promise<{ out: string; code: number }> {
  let out = '';
  let code = 0;
  const env: CommandEnv = {
    config: (): Config => ({ ...config, topics }),
    log: () => log,
    out: (text) => {
      out += `${text}\n`;
    },
    setExitCode: (c) => {
      code = c;
    },
  };
  const program = new Command('continuum').exitOverride().addCommand(schemasCommand(env));
  await program.parseAsync(['schemas', ...args], { from: 'user' });
  return { out, code };
}

const parcelV1: RecordSchema = {
  type: 'record',
  name: 'Parcel',
  namespace: 'dev.continuum.test',
  doc: 'Test contract.',
  fields: [
    { name: 'parcelId', type: 'string', doc: 'key' },
    { name: 'weightGrams', type: 'int', doc: 'weight' },
    { name: 'note', type: ['null', 'string'], default: null, doc: 'free text' },
  ],
};

function evolve(schema: RecordSchema, edit: (fields: Json[]) => Json[]): RecordSchema {
  const copy = structuredClone(schema);
  copy.fields = edit(copy.fields);
  return copy;
}

afterAll(async () => {
  for (const subject of subjects) {
    await admin.deleteSubject(subject);
    await admin.deleteCompatibility(subject);
  }
  const left = new Set(await admin.subjects());
  expect([...subjects].filter((s) => left.has(s))).toEqual([]);
});

describe('schema registry: contracts and their evolution', () => {
  test('processes registering a new subject at once all get its one id (Apicurio refuses all but one first config)', async () => {
    const topic = uniqueName('test', '.');
    subjects.add(valueSubject(topic));
    // One client each, as separate processes have: no shared cache hides the race.
    const ids = await Promise.all(
      Array.from({ length: 6 }, () =>
        registerValueSchema(createSchemaRegistry(config), topic, 'VehicleTelemetry'),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    expect(await admin.compatibility(valueSubject(topic))).toBe('BACKWARD');
  });

  test('a compatible change registers as version 2; old and new readers read both generations', async () => {
    const registry = createSchemaRegistry(config);
    const v1 = randomBinding('Parcel', parcelV1);
    const [first] = await registerSchemas(registry, admin, [v1], log);
    expect(first).toMatchObject({ version: 1 });
    expect(first?.error).toBeUndefined();
    expect(await admin.compatibility(v1.subject)).toBe('BACKWARD');

    const parcelV2 = evolve(parcelV1, (f) => [
      ...f,
      { name: 'insured', type: 'boolean', default: false, doc: 'insured?' },
    ]);
    const v2 = { ...v1, schema: parcelV2 };
    const [check] = await checkSchemas(admin, [v2]);
    expect(check).toMatchObject({
      state: 'compatible',
      registryCompatible: true,
      violations: [],
      latestVersion: 1,
    });
    expect(check?.disagreement).toBeUndefined();

    const [second] = await registerSchemas(registry, admin, [v2], log);
    expect(second).toMatchObject({ version: 2 });
    expect(second?.id).not.toBe(first?.id);
    // Idempotent: the same schema again is the same id and version, not a version 3.
    const [again] = await registerSchemas(registry, admin, [v2], log);
    expect(again).toMatchObject({ id: second?.id, version: 2 });
    expect((await admin.latest(v1.subject))?.version).toBe(2);
    const [unchanged] = await checkSchemas(admin, [v2]);
    expect(unchanged?.state).toBe('unchanged');

    const fresh = new SchemaRegistry({ host: config.schemaRegistry.url });
    const newRecord = { parcelId: 'P-1', weightGrams: 1200, note: null, insured: true };
    const newBytes = await registry.encode(second?.id ?? -1, newRecord);
    expect(newBytes[0]).toBe(0);
    expect(newBytes.readInt32BE(1)).toBe(second?.id);
    // An old consumer (reader v1) reads data written with v2: the new field is skipped.
    expect(await fresh.decode(newBytes, { [SchemaType.AVRO]: { readerSchema: parcelV1 } })).toEqual(
      {
        parcelId: 'P-1',
        weightGrams: 1200,
        note: null,
      },
    );
    // A new consumer (reader v2) reads data written with v1: the default fills the gap.
    const oldBytes = await registry.encode(first?.id ?? -1, {
      parcelId: 'P-0',
      weightGrams: 800,
      note: 'fragile',
    });
    expect(oldBytes.readInt32BE(1)).toBe(first?.id);
    expect(await fresh.decode(oldBytes, { [SchemaType.AVRO]: { readerSchema: parcelV2 } })).toEqual(
      {
        parcelId: 'P-0',
        weightGrams: 800,
        note: 'fragile',
        insured: false,
      },
    );
  });

  test('processes starting together register the same new subjects at once: every one succeeds with one id', async () => {
    // `continuum streams`, the CDC source and the seeder all register their contracts on start;
    // started together they race on each new subject's first compatibility rule.
    const bindings = [randomBinding('Parcel', parcelV1), randomBinding('Parcel', parcelV1)];
    const callers = Array.from({ length: 6 }, () =>
      registerSchemas(
        createSchemaRegistry(config),
        new RegistryAdmin(config.schemaRegistry.url),
        bindings,
        log,
      ),
    );
    const outcomes = (await Promise.all(callers)).flat();
    expect(outcomes.map((o) => o.error)).toEqual(outcomes.map(() => undefined));
    for (const binding of bindings) {
      const mine = outcomes.filter((o) => o.binding === binding);
      expect(new Set(mine.map((o) => o.id)).size).toBe(1);
      expect(await admin.compatibility(binding.subject)).toBe('BACKWARD');
      expect(await admin.versions(binding.subject)).toEqual([1]);
    }
  });

  test('a breaking change is refused by the registry, and check explains each broken rule', async () => {
    const registry = createSchemaRegistry(config);
    const v1 = randomBinding('Parcel', parcelV1);
    await registerSchemas(registry, admin, [v1], log);

    const broken = evolve(parcelV1, (f) => [
      ...f.map((field) => (field.name === 'weightGrams' ? { ...field, type: 'string' } : field)),
      { name: 'insured', type: 'boolean', doc: 'no default' },
    ]);
    const v3 = { ...v1, schema: broken };

    const [outcome] = await registerSchemas(registry, admin, [v3], log);
    expect(outcome?.status).toBe(409);
    expect(outcome?.error).toContain('not BACKWARD compatible');
    expect((await admin.latest(v1.subject))?.version).toBe(1);

    const [check] = await checkSchemas(admin, [v3]);
    expect(check).toMatchObject({
      state: 'incompatible',
      registryCompatible: false,
      latestVersion: 1,
    });
    expect(check?.disagreement).toBeUndefined();
    expect(check?.violations.map((v) => [v.path, v.rule])).toEqual([
      ['Parcel.weightGrams', 'type-not-promotable'],
      ['Parcel.insured', 'field-without-default'],
    ]);
    expect(check?.violations[1]?.message).toBe(
      'field `Parcel.insured` was added without a default: records written with the old schema have no value for it (add a default)',
    );
  });

  test('check says so when the registry accepts what the explainer finds breaking (no rule on the subject)', async () => {
    const v1 = randomBinding('Parcel', parcelV1);
    await createSchemaRegistry(config).register(
      { type: SchemaType.AVRO, schema: JSON.stringify(parcelV1) },
      { subject: v1.subject, compatibility: undefined, updateConfig: false },
    );
    await admin.setCompatibility(v1.subject, 'NONE');
    const broken = evolve(parcelV1, (f) => [...f, { name: 'insured', type: 'boolean', doc: 'x' }]);
    const [check] = await checkSchemas(admin, [{ ...v1, schema: broken }]);
    expect(check).toMatchObject({
      state: 'incompatible',
      registryCompatible: true,
      registryLevel: 'NONE',
    });
    expect(check?.violations.map((v) => v.path)).toEqual(['Parcel.insured']);
    expect(check?.disagreement).toContain('the subject has no compatibility rule');
  });

  test('under BACKWARD_TRANSITIVE, check compares with every version and names the one that breaks', async () => {
    const registry = createSchemaRegistry(config);
    const v1 = randomBinding('Parcel', parcelV1);
    // No rule while the history is written: version 2 drops a field version 1 had.
    await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(parcelV1) },
      { subject: v1.subject, compatibility: COMPATIBILITY.NONE, updateConfig: false },
    );
    const withoutWeight = evolve(parcelV1, (f) =>
      f.filter((field) => field.name !== 'weightGrams'),
    );
    await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(withoutWeight) },
      { subject: v1.subject, compatibility: COMPATIBILITY.NONE, updateConfig: false },
    );
    await admin.setCompatibility(v1.subject, 'BACKWARD_TRANSITIVE');
    // Fine against version 2 (the field comes back with a default), not against version 1.
    const weightAsText = evolve(withoutWeight, (f) => [
      ...f,
      { name: 'weightGrams', type: 'string', default: '', doc: 'weight, as text' },
    ]);
    const [check] = await checkSchemas(admin, [{ ...v1, schema: weightAsText }]);
    expect(check).toMatchObject({
      state: 'incompatible',
      registryCompatible: false,
      registryLevel: 'BACKWARD_TRANSITIVE',
      comparedVersions: [1, 2],
    });
    expect(check?.violations.map((v) => [v.version, v.path, v.rule])).toEqual([
      [1, 'Parcel.weightGrams', 'type-not-promotable'],
    ]);
    expect(check?.disagreement).toBeUndefined();
    // And the registry enforces it on registration.
    await expect(
      registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(weightAsText) },
        { subject: v1.subject, compatibility: COMPATIBILITY.BACKWARD_TRANSITIVE },
      ),
    ).rejects.toMatchObject({ status: 409 });
  });

  // The explainer's verdict must be the registry's, change by change.
  const withUnit: RecordSchema = evolve(parcelV1, (f) => [
    ...f,
    {
      name: 'unit',
      type: { type: 'enum', name: 'Unit', symbols: ['G', 'KG'] },
      default: 'G',
      doc: 'unit',
    },
  ]);
  const setUnit = (type: Json) => (f: Json[]) =>
    f.map((field) => (field.name === 'unit' ? { ...field, type } : field));
  const withField = (name: string, patch: Json) => (f: Json[]) =>
    f.map((x) => (x.name === name ? { ...x, ...patch } : x));
  const agreement: [string, (f: Json[]) => Json[], boolean][] = [
    [
      'add a field with a default',
      (f) => [...f, { name: 'x', type: 'long', default: 0, doc: 'x' }],
      true,
    ],
    ['add a field without a default', (f) => [...f, { name: 'x', type: 'long', doc: 'x' }], false],
    ['remove a field', (f) => f.filter((x) => x.name !== 'weightGrams'), true],
    ['promote int → double', withField('weightGrams', { type: 'double' }), true],
    ['change int → string', withField('weightGrams', { type: 'string' }), false],
    ['drop null from a union', withField('note', { type: 'string', default: '' }), false],
    ['drop an enum symbol', setUnit({ type: 'enum', name: 'Unit', symbols: ['G'] }), false],
    [
      'drop an enum symbol, enum default',
      setUnit({ type: 'enum', name: 'Unit', symbols: ['G'], default: 'G' }),
      true,
    ],
    [
      'add an enum symbol',
      setUnit({ type: 'enum', name: 'Unit', symbols: ['G', 'KG', 'LB'] }),
      true,
    ],
    ['rename the enum', setUnit({ type: 'enum', name: 'MassUnit', symbols: ['G', 'KG'] }), false],
    [
      'rename the enum, alias',
      setUnit({ type: 'enum', name: 'MassUnit', aliases: ['Unit'], symbols: ['G', 'KG'] }),
      true,
    ],
  ];
  test.each(agreement)('registry and explainer agree: %s', async (_name, edit, compatible) => {
    const binding = randomBinding('Parcel', withUnit);
    const [registered] = await registerSchemas(createSchemaRegistry(config), admin, [binding], log);
    expect(registered?.error).toBeUndefined();
    const next = evolve(withUnit, edit);
    const [check] = await checkSchemas(admin, [{ ...binding, schema: next }]);
    expect(check?.registryCompatible).toBe(compatible);
    expect(check?.violations.length === 0).toBe(compatible);
    expect(check?.disagreement).toBeUndefined();
  });

  test('`schemas check` and `schemas register` on the platform topics: new, refused, explained', async () => {
    const topics = randomTopics();
    // An older VehicleTelemetry, before odometerKm: the local one adds it without a default.
    const telemetry = loadAvroSchema('VehicleTelemetry');
    const older = {
      ...telemetry,
      fields: (telemetry.fields as Json[]).filter((f) => f.name !== 'odometerKm'),
    };
    const registry = createSchemaRegistry(config);
    await registerSchemas(
      registry,
      admin,
      [{ ...bindingFor(topics.telemetryRaw, 'VehicleTelemetry'), schema: older }],
      log,
    );

    const check = await runSchemas(['check'], topics);
    expect(check.code).toBe(1);
    const rawSubject = valueSubject(topics.telemetryRaw);
    const rows = check.out.split('\n');
    const row = (subject: string): string => rows.find((r) => r.startsWith(subject)) ?? '';
    for (const topic of [
      topics.shipmentsCdc,
      topics.telemetryClean,
      topics.shipmentState,
      topics.deliveriesCompleted,
      topics.etaModels,
    ])
      expect(row(valueSubject(topic))).toContain('new subject, would register version 1');
    expect(row(rawSubject)).toMatch(
      /VehicleTelemetry\s+v1 \(id \d+\)\s+BACKWARD\s+refuses\s+1 violation\(s\)\s+✗ INCOMPATIBLE/,
    );
    expect(check.out).toContain(
      'field `VehicleTelemetry.odometerKm` was added without a default: records written with the old schema have no value for it (add a default)',
    );

    const register = await runSchemas(['register'], topics);
    expect(register.code).toBe(1);
    expect(register.out).toMatch(
      new RegExp(`${rawSubject.replaceAll('.', '\\.')}\\s+VehicleTelemetry\\s+-\\s+-\\s+✗ refused`),
    );
    for (const b of platformSchemaBindings(topics).filter((b) => b.subject !== rawSubject)) {
      expect(row(b.subject)).not.toBe('');
      expect(register.out).toMatch(
        new RegExp(
          `${b.subject.replaceAll('.', '\\.')}\\s+${b.schemaName}\\s+\\d+\\s+1\\s+registered`,
        ),
      );
      expect(await admin.compatibility(b.subject)).toBe('BACKWARD');
    }

    const recheck = await runSchemas(['check', '--json'], topics);
    expect(recheck.code).toBe(1);
    const states = (JSON.parse(recheck.out) as { subject: string; state: string }[]).map((o) => [
      o.subject,
      o.state,
    ]);
    expect(states).toEqual(
      platformSchemaBindings(topics).map((b) => [
        b.subject,
        b.subject === rawSubject ? 'incompatible' : 'unchanged',
      ]),
    );
  });

  test('every platform contract registers and round-trips a record in the Confluent wire format', async () => {
    const topics = randomTopics();
    const registry = createSchemaRegistry(config);
    const outcomes = await registerSchemas(registry, admin, platformSchemaBindings(topics), log);
    expect(outcomes.map((o) => o.error)).toEqual(outcomes.map(() => undefined));

    const t0 = Date.UTC(2026, 10, 25, 9, 0);
    const shipment = {
      shipmentId: 'SHP-000042',
      customerId: 'CUS-7',
      originId: 'DEPOT-1',
      originLat: 52.5,
      originLon: 13.4,
      destinationId: 'CITY-3',
      destinationLat: 53.55,
      destinationLon: 9.99,
      vehicleId: 'VEH-007',
      status: 'IN_TRANSIT' as const,
      weightKg: 12.5,
      promisedAt: t0 + 3_600_000,
      createdAt: t0,
      updatedAt: t0 + 60_000,
      changeSeq: 4,
    };
    const change: ShipmentChange = {
      op: 'UPDATE',
      before: { ...shipment, status: 'PICKED_UP', changeSeq: 3 },
      after: shipment,
      source: {
        lsn: 123456,
        commitLsn: 123500,
        txId: 991,
        table: 'public.shipments',
        snapshot: false,
      },
      commitTime: t0 + 60_500,
    };
    const telemetry: VehicleTelemetry = {
      eventId: 'b9a3b7f0-6f1e-4a53-9d4e-1f0a8f0c1a11',
      vehicleId: 'VEH-007',
      eventTime: t0 + 90_000,
      lat: 52.9,
      lon: 12.1,
      speed: 54,
      speedUnit: 'MPH',
      headingDeg: 301.5,
      fuelPct: 63.2,
      engineTemp: 198.5,
      temperatureUnit: 'FAHRENHEIT',
      odometerKm: 120_431.7,
    };
    const state: UnifiedShipmentState = {
      shipmentId: shipment.shipmentId,
      customerId: shipment.customerId,
      originId: shipment.originId,
      destinationId: shipment.destinationId,
      status: 'IN_TRANSIT',
      promisedAt: shipment.promisedAt,
      createdAt: t0,
      updatedAt: t0 + 60_000,
      vehicleId: 'VEH-007',
      lat: 52.9,
      lon: 12.1,
      positionTime: t0 + 90_000,
      speedKmh: 86.9,
      fuelPct: 63.2,
      engineTempC: null,
      distanceTravelledKm: 101.2,
      distanceRemainingKm: 187.4,
      predictedArrival: t0 + 3_400_000,
      predictionLow: t0 + 3_100_000,
      predictionHigh: t0 + 3_800_000,
      modelVersion: 'baseline-v1',
      version: 17,
      sourceOffsets: { [`${topics.shipmentsCdc}-0`]: 41, [`${topics.telemetryClean}-2`]: 9001 },
      sourceLsn: 123500,
      stateUpdatedAt: t0 + 90_200,
    };
    const example: DeliveryExample = {
      shipmentId: shipment.shipmentId,
      vehicleId: 'VEH-007',
      originId: 'DEPOT-1',
      destinationId: 'CITY-3',
      promisedAt: shipment.promisedAt,
      actualArrival: t0 + 3_500_000,
      checkpoints: [
        {
          checkpointTime: t0 + 90_000,
          distanceRemainingKm: 187.4,
          distanceTravelledKm: 101.2,
          speedKmh: 86.9,
          avgSpeedKmh: 70.1,
          hourOfDay: 9,
          dayOfWeek: 3,
          elapsedMin: 86.6,
          minutesToArrival: 56.8,
        },
      ],
    };
    const model: EtaModel = {
      modelName: 'eta',
      version: 3,
      kind: 'TREE_ENSEMBLE',
      featureNames: ['distanceRemainingKm', 'speedKmh'],
      coefficients: [],
      intercept: 4.5,
      metrics: { mae: 6.2, rmse: 8.9 },
      mlflowRunId: null,
      trainedAt: t0,
      trainingExamples: 5120,
      trees: [
        {
          feature: [0, -1, -1],
          threshold: [42.5, 0, 0],
          left: [1, -1, -1],
          right: [2, -1, -1],
          value: [0, 12.25, 48.5],
        },
      ],
      interval: {
        coverage: 0.9,
        lowerScore: -0.15,
        upperScore: 0.32,
        scaleOffsetMinutes: 20,
        measuredCoverage: 0.897,
      },
    };
    const samples: Record<string, unknown> = {
      ShipmentChange: change,
      VehicleTelemetry: telemetry,
      UnifiedShipmentState: state,
      DeliveryExample: example,
      EtaModel: model,
    };

    const fresh = new SchemaRegistry({ host: config.schemaRegistry.url });
    for (const outcome of outcomes) {
      const sample = samples[outcome.binding.schemaName];
      const bytes = await registry.encode(outcome.id ?? -1, sample);
      expect(bytes[0]).toBe(0); // magic byte
      expect(bytes.readInt32BE(1)).toBe(outcome.id); // schema id, big-endian
      // Only the bytes and the registry URL: the schema comes from the registry by id.
      expect(await fresh.decode(bytes)).toEqual(sample);
      expect(await fresh.getLatestSchemaId(outcome.binding.subject)).toBe(outcome.id);
    }
    // telemetry.raw and telemetry.clean carry the same contract: one schema, one id.
    const byTopic = new Map(outcomes.map((o) => [o.binding.topic, o.id]));
    expect(byTopic.get(topics.telemetryRaw)).toBe(byTopic.get(topics.telemetryClean));
  });
});
