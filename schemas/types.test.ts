// The .avsc contracts are valid, documented Avro, and the interfaces in types.ts match them field
// for field; the drift check itself is shown to fail on drifted copies of either side.
import { readdirSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import avro from 'avsc';
import { repoRoot } from '../core/paths.ts';
import { parseAvroSchema, recordsOf } from './avro-model.ts';
import { loadAvroSchema, SCHEMA_FILES, type EventSchemaName } from './event-schemas.ts';
import { findTypeDrift } from './type-drift.ts';

const avroDir = nodePath.join(repoRoot, 'schemas', 'avro');
const typesSource = readFileSync(nodePath.join(repoRoot, 'schemas', 'types.ts'), 'utf8');
const names = Object.keys(SCHEMA_FILES) as EventSchemaName[];
const allSchemas = (): unknown[] => names.map((n) => loadAvroSchema(n));

/** types.ts with `from` replaced by `to`; fails loudly if `from` is not there (a stale test). */
function drifted(from: string, to: string): string {
  expect(typesSource).toContain(from);
  return typesSource.replace(from, to);
}

describe('Avro contracts', () => {
  test('every .avsc file is listed in SCHEMA_FILES and every entry exists', () => {
    const files = readdirSync(avroDir).filter((f) => f.endsWith('.avsc'));
    expect([...files].sort()).toEqual(Object.values(SCHEMA_FILES).sort());
  });

  test.each(names)('%s parses with avsc and round-trips a sample record', (name) => {
    const type = avro.Type.forSchema(loadAvroSchema(name) as avro.Schema);
    const sample: unknown = type.random();
    expect(type.isValid(sample)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });

  test.each(names)('%s is a record named as its SCHEMA_FILES key, in dev.continuum.*', (name) => {
    const schema = loadAvroSchema(name);
    expect(schema.type).toBe('record');
    expect(schema.name).toBe(name);
    expect(schema.namespace).toMatch(/^dev\.continuum\./);
    expect(schema.doc).toBeTruthy();
  });

  test.each(names)('%s has a doc on every field of every record', (name) => {
    const undocumented = recordsOf(parseAvroSchema(loadAvroSchema(name))).flatMap((r) =>
      r.fields.filter((f) => !f.doc?.trim()).map((f) => `${r.name}.${f.name}`),
    );
    expect(undocumented).toEqual([]);
  });

  test.each(names)('%s: time fields are timestamp-millis longs', (name) => {
    const wrong: string[] = [];
    for (const record of recordsOf(parseAvroSchema(loadAvroSchema(name)))) {
      for (const field of record.fields) {
        if (
          !/(At|Time)$|^(actualArrival|predictedArrival|predictionLow|predictionHigh)$/.test(
            field.name,
          )
        )
          continue;
        const t =
          field.type.kind === 'union'
            ? field.type.branches.find((b) => !(b.kind === 'primitive' && b.type === 'null'))
            : field.type;
        const ok =
          t?.kind === 'primitive' && t.type === 'long' && t.logicalType === 'timestamp-millis';
        if (!ok) wrong.push(`${record.name}.${field.name}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('types.ts matches the Avro contracts', () => {
  test('no drift between schemas/types.ts and schemas/avro/*.avsc', () => {
    expect(findTypeDrift(allSchemas(), typesSource)).toEqual([]);
  });

  test('a field missing from an interface is reported with its name', () => {
    const text = drifted('  odometerKm: number;\n', '');
    expect(findTypeDrift(allSchemas(), text)).toEqual([
      {
        path: 'VehicleTelemetry.odometerKm',
        problem: 'in the Avro schema (double) but missing from interface VehicleTelemetry',
      },
    ]);
  });

  test('a field only in TypeScript is reported', () => {
    const text = drifted(
      '  odometerKm: number;\n',
      '  odometerKm: number;\n  odometerMiles: number;\n',
    );
    expect(findTypeDrift(allSchemas(), text)).toEqual([
      {
        path: 'VehicleTelemetry.odometerMiles',
        problem: 'in interface VehicleTelemetry but not in the Avro schema',
      },
    ]);
  });

  test('a field only in Avro is reported (the other side drifting)', () => {
    const schemas = allSchemas();
    const telemetry = structuredClone(loadAvroSchema('VehicleTelemetry'));
    telemetry.fields = [
      ...(telemetry.fields ?? []),
      { name: 'driverId', type: 'string', doc: 'x' },
    ];
    schemas[names.indexOf('VehicleTelemetry')] = telemetry;
    expect(findTypeDrift(schemas, typesSource).map((d) => d.path)).toEqual([
      'VehicleTelemetry.driverId',
    ]);
  });

  test('nullability differences are reported both ways', () => {
    const lostNull = drifted('  mlflowRunId: string | null;', '  mlflowRunId: string;');
    expect(findTypeDrift(allSchemas(), lostNull)).toEqual([
      {
        path: 'EtaModel.mlflowRunId',
        problem:
          'nullable in Avro (union [null, string]) but not in TypeScript (string): add `| null`',
      },
    ]);
    const extraNull = drifted('  sourceLsn: number;', '  sourceLsn: number | null;');
    expect(findTypeDrift(allSchemas(), extraNull).map((d) => d.path)).toEqual([
      'UnifiedShipmentState.sourceLsn',
    ]);
  });

  test('a basic type difference is reported', () => {
    const text = drifted('  trainingExamples: number;', '  trainingExamples: string;');
    expect(findTypeDrift(allSchemas(), text)).toEqual([
      {
        path: 'EtaModel.trainingExamples',
        problem: 'Avro type long needs a TypeScript number, found string',
      },
    ]);
  });

  test('enum symbols are compared with the `as const` arrays', () => {
    const text = drifted("  'CANCELLED',\n] as const;", "  'CANCELLED',\n  'LOST',\n] as const;");
    const found = findTypeDrift(allSchemas(), text);
    // SHIPMENT_STATUSES feeds Shipment.status and UnifiedShipmentState.status.
    expect(found).toEqual([
      {
        path: 'Shipment.status',
        problem: 'enum symbol(s) LOST in TypeScript but not in Avro',
      },
      {
        path: 'UnifiedShipmentState.status',
        problem: 'enum symbol(s) LOST in TypeScript but not in Avro',
      },
    ]);
    const fewer = drifted(
      "['BASELINE', 'LINEAR_REGRESSION', 'TREE_ENSEMBLE']",
      "['BASELINE', 'TREE_ENSEMBLE']",
    );
    expect(findTypeDrift(allSchemas(), fewer)).toEqual([
      {
        path: 'EtaModel.kind',
        problem: 'enum symbol(s) LINEAR_REGRESSION in Avro but missing in TypeScript',
      },
    ]);
  });

  test('arrays, maps and nested records are compared inside', () => {
    const text = drifted('  coefficients: number[];', '  coefficients: string[];')
      .replace(
        '  sourceOffsets: Record<string, number>;',
        '  sourceOffsets: Record<string, string>;',
      )
      .replace('  checkpoints: DeliveryCheckpoint[];', '  checkpoints: DeliveryCheckpoint;');
    expect(findTypeDrift(allSchemas(), text).map((d) => [d.path, d.problem])).toEqual([
      [
        'UnifiedShipmentState.sourceOffsets{}',
        'Avro type long needs a TypeScript number, found string',
      ],
      [
        'DeliveryExample.checkpoints',
        'Avro type array<record DeliveryCheckpoint> needs a TypeScript array, found interface DeliveryCheckpoint',
      ],
      ['EtaModel.coefficients[]', 'Avro type double needs a TypeScript number, found string'],
    ]);
  });

  test('an optional property and a missing interface are reported', () => {
    const optional = drifted('  headingDeg: number;', '  headingDeg?: number;');
    expect(findTypeDrift(allSchemas(), optional).map((d) => d.path)).toEqual([
      'VehicleTelemetry.headingDeg',
    ]);
    const renamed = drifted('export interface SourcePosition {', 'export interface WalPosition {');
    expect(findTypeDrift(allSchemas(), renamed).map((d) => d.problem)).toContain(
      'no interface SourcePosition in types.ts',
    );
  });
});
