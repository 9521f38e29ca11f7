// The compatibility explainer, rule by rule, cross-checked against avsc's schema resolver.
import avro from 'avsc';
import { explainCompatibility, type CompatibilityViolation } from './compatibility.ts';
import { loadAvroSchema, SCHEMA_FILES, type EventSchemaName } from './event-schemas.ts';

type Json = Record<string, unknown>;

const base = (): Json => ({
  type: 'record',
  name: 'Reading',
  namespace: 'dev.continuum.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'speed', type: 'int' },
    { name: 'unit', type: { type: 'enum', name: 'Unit', symbols: ['KMH', 'MPH'] } },
    {
      name: 'position',
      type: {
        type: 'record',
        name: 'Position',
        fields: [
          { name: 'lat', type: 'double' },
          { name: 'lon', type: 'double' },
        ],
      },
    },
    {
      name: 'stops',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Stop',
          fields: [
            { name: 'place', type: 'string' },
            { name: 'minutes', type: 'int' },
          ],
        },
      },
    },
    { name: 'counters', type: { type: 'map', values: 'int' } },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
});

/** A deep copy of `base()` changed by `edit`. */
function evolve(edit: (schema: Json) => void): Json {
  const schema = structuredClone(base());
  edit(schema);
  return schema;
}

function fields(record: Json): Json[] {
  return record.fields as Json[];
}

function field(record: Json, name: string): Json {
  const found = fields(record).find((f) => f.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
}

/** avsc's opinion: can `reader` read data written with `writer`? */
function avscCanRead(reader: Json, writer: Json): boolean {
  try {
    avro.Type.forSchema(reader as avro.Schema).createResolver(
      avro.Type.forSchema(writer as avro.Schema),
    );
    return true;
  } catch {
    return false;
  }
}

function only(violations: CompatibilityViolation[]): CompatibilityViolation {
  expect(violations).toHaveLength(1);
  const [v] = violations;
  if (!v) throw new Error('no violation');
  return v;
}

describe('explainCompatibility', () => {
  test('an unchanged schema is compatible in every direction', () => {
    expect(explainCompatibility(base(), base(), 'FULL')).toEqual([]);
  });

  test('a field added with a default is BACKWARD and FORWARD compatible', () => {
    const next = evolve((s) => fields(s).push({ name: 'odometerKm', type: 'double', default: 0 }));
    expect(explainCompatibility(base(), next, 'FULL')).toEqual([]);
  });

  test('a field added without a default breaks BACKWARD, named with its path', () => {
    const next = evolve((s) => fields(s).push({ name: 'odometerKm', type: 'double' }));
    const v = only(explainCompatibility(base(), next));
    expect(v).toMatchObject({
      direction: 'BACKWARD',
      rule: 'field-without-default',
      path: 'Reading.odometerKm',
    });
    expect(v.message).toBe(
      'field `Reading.odometerKm` was added without a default: records written with the old schema have no value for it (add a default)',
    );
    // Old readers simply skip the new field.
    expect(explainCompatibility(base(), next, 'FORWARD')).toEqual([]);
  });

  test('a removed field is BACKWARD compatible but breaks FORWARD when it had no default', () => {
    const next = evolve((s) => {
      s.fields = fields(s).filter((f) => f.name !== 'speed');
    });
    expect(explainCompatibility(base(), next, 'BACKWARD')).toEqual([]);
    const v = only(explainCompatibility(base(), next, 'FORWARD'));
    expect(v).toMatchObject({ rule: 'field-without-default', path: 'Reading.speed' });
    expect(v.message).toContain('was removed');
  });

  test('a field renamed with an alias still reads old records', () => {
    const next = evolve((s) => {
      Object.assign(field(s, 'speed'), { name: 'speedKmh', aliases: ['speed'] });
    });
    expect(explainCompatibility(base(), next)).toEqual([]);
  });

  test.each([
    ['int', 'long'],
    ['int', 'float'],
    ['int', 'double'],
  ])('%s → %s is a promotion Avro allows', (_from, to) => {
    const next = evolve((s) => {
      field(s, 'speed').type = to;
    });
    expect(explainCompatibility(base(), next)).toEqual([]);
  });

  test.each(['string', 'boolean', 'bytes'])('int → %s is not a promotion', (to) => {
    const next = evolve((s) => {
      field(s, 'speed').type = to;
    });
    const v = only(explainCompatibility(base(), next));
    expect(v).toMatchObject({ rule: 'type-not-promotable', path: 'Reading.speed' });
    expect(v.message).toContain(`changed type from int to ${to}`);
    expect(v.message).toContain('int → long → float → double');
  });

  test('narrowing long → int is refused, widening int → long is not', () => {
    const old = evolve((s) => {
      field(s, 'speed').type = 'long';
    });
    const next = base(); // speed: int
    expect(only(explainCompatibility(old, next)).message).toContain('cannot read a long as a int');
    expect(explainCompatibility(next, old, 'BACKWARD')).toEqual([]);
  });

  test('string ↔ bytes is a promotion both ways', () => {
    const next = evolve((s) => {
      field(s, 'id').type = 'bytes';
    });
    expect(explainCompatibility(base(), next, 'FULL')).toEqual([]);
  });

  test('a removed enum symbol breaks BACKWARD unless the enum has a default', () => {
    const next = evolve((s) => {
      field(s, 'unit').type = { type: 'enum', name: 'Unit', symbols: ['KMH'] };
    });
    const v = only(explainCompatibility(base(), next));
    expect(v).toMatchObject({ rule: 'enum-symbol-missing', path: 'Reading.unit' });
    expect(v.message).toContain('lost symbol(s) MPH');

    const withDefault = evolve((s) => {
      field(s, 'unit').type = { type: 'enum', name: 'Unit', symbols: ['KMH'], default: 'KMH' };
    });
    expect(explainCompatibility(base(), withDefault)).toEqual([]);
  });

  test('an added enum symbol is BACKWARD compatible and breaks FORWARD when the old enum has no default', () => {
    const next = evolve((s) => {
      field(s, 'unit').type = { type: 'enum', name: 'Unit', symbols: ['KMH', 'MPH', 'KNOTS'] };
    });
    expect(explainCompatibility(base(), next)).toEqual([]);
    const v = only(explainCompatibility(base(), next, 'FORWARD'));
    expect(v).toMatchObject({ direction: 'FORWARD', rule: 'enum-symbol-missing' });
    expect(v.message).toContain('gained symbol(s) KNOTS');
  });

  test('dropping null from a union breaks BACKWARD; adding it breaks FORWARD', () => {
    const notNull = evolve((s) => {
      Object.assign(field(s, 'note'), { type: 'string', default: '' });
    });
    const v = only(explainCompatibility(base(), notNull));
    expect(v).toMatchObject({ rule: 'union-branch-missing', path: 'Reading.note' });
    expect(v.message).toContain('is no longer nullable');

    const nullable = evolve((s) => {
      Object.assign(field(s, 'id'), { type: ['null', 'string'], default: null });
    });
    expect(explainCompatibility(base(), nullable)).toEqual([]);
    expect(only(explainCompatibility(base(), nullable, 'FORWARD')).message).toContain(
      'became nullable',
    );
  });

  test('a removed union branch other than null is named', () => {
    const old = evolve((s) => {
      field(s, 'note').type = ['null', 'string', 'long'];
    });
    const v = only(explainCompatibility(old, base()));
    expect(v.rule).toBe('union-branch-missing');
    expect(v.message).toContain('lost its long branch');
  });

  test('a writer type still readable by one branch of a new union is compatible', () => {
    const next = evolve((s) => {
      Object.assign(field(s, 'speed'), { type: ['null', 'long'], default: null });
    });
    expect(explainCompatibility(base(), next)).toEqual([]);
  });

  test('a record renamed without an alias is refused; with an alias it reads old records', () => {
    const renamed = evolve((s) => {
      (field(s, 'position').type as Json).name = 'Location';
    });
    const v = only(explainCompatibility(base(), renamed));
    expect(v).toMatchObject({ rule: 'name-mismatch', path: 'Reading.position' });
    expect(v.message).toContain('renamed from Position to Location without an alias');

    const aliased = evolve((s) => {
      Object.assign(field(s, 'position').type as Json, {
        name: 'Location',
        aliases: ['Position'],
      });
    });
    expect(explainCompatibility(base(), aliased)).toEqual([]);
  });

  test('nested records, arrays of records and maps are followed, with their paths', () => {
    const next = evolve((s) => {
      fields(field(s, 'position').type as Json).push({ name: 'altitudeM', type: 'double' });
      const stop = (field(s, 'stops').type as Json).items as Json;
      field(stop, 'minutes').type = 'string';
      field(s, 'counters').type = { type: 'map', values: 'boolean' };
    });
    const found = explainCompatibility(base(), next);
    expect(found.map((v) => [v.path, v.rule])).toEqual([
      ['Reading.position.altitudeM', 'field-without-default'],
      ['Reading.stops[].minutes', 'type-not-promotable'],
      ['Reading.counters{}', 'type-not-promotable'],
    ]);
  });

  test('a recursive schema is compared without looping', () => {
    const list = (extra: Json[]): Json => ({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'value', type: 'long' },
        { name: 'next', type: ['null', 'Node'], default: null },
        ...extra,
      ],
    });
    expect(explainCompatibility(list([]), list([]), 'FULL')).toEqual([]);
    const v = only(explainCompatibility(list([]), list([{ name: 'label', type: 'string' }])));
    expect(v.path).toBe('Node.label');
  });

  test('FULL reports both directions', () => {
    const next = evolve((s) => {
      fields(s).push({ name: 'odometerKm', type: 'double' });
      s.fields = fields(s).filter((f) => f.name !== 'speed');
    });
    expect(explainCompatibility(base(), next, 'FULL').map((v) => [v.direction, v.path])).toEqual([
      ['BACKWARD', 'Reading.odometerKm'],
      ['FORWARD', 'Reading.speed'],
    ]);
  });

  test('a real contract: removing a shipment status is reported at every place it is read', () => {
    const old = loadAvroSchema('ShipmentChange');
    const next = structuredClone(old) as unknown as Json;
    const visit = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Json;
      if (obj.type === 'enum' && obj.name === 'ShipmentStatus') {
        obj.symbols = (obj.symbols as string[]).filter((s) => s !== 'EXCEPTION');
        delete obj.default;
      }
      Object.values(obj).forEach(visit);
    };
    visit(next);
    const found = explainCompatibility(old, next);
    expect(found.map((v) => [v.path, v.rule])).toEqual([
      ['ShipmentChange.before.status', 'enum-symbol-missing'],
      ['ShipmentChange.after.status', 'enum-symbol-missing'],
    ]);
  });

  test.each(Object.keys(SCHEMA_FILES) as EventSchemaName[])(
    'the platform schema %s is FULL compatible with itself',
    (name) => {
      const schema = loadAvroSchema(name);
      expect(explainCompatibility(schema, schema, 'FULL')).toEqual([]);
    },
  );

  // The explainer and avsc must agree on compatible/incompatible for every kind of change.
  const crossChecks: [string, (s: Json) => void][] = [
    ['add with default', (s) => fields(s).push({ name: 'x', type: 'long', default: 0 })],
    ['add without default', (s) => fields(s).push({ name: 'x', type: 'long' })],
    ['remove a field', (s) => (s.fields = fields(s).filter((f) => f.name !== 'id'))],
    ['int → long', (s) => (field(s, 'speed').type = 'long')],
    ['int → string', (s) => (field(s, 'speed').type = 'string')],
    ['string → bytes', (s) => (field(s, 'id').type = 'bytes')],
    [
      'drop an enum symbol',
      (s) => (field(s, 'unit').type = { type: 'enum', name: 'Unit', symbols: ['KMH'] }),
    ],
    [
      'add an enum symbol',
      (s) => (field(s, 'unit').type = { type: 'enum', name: 'Unit', symbols: ['KMH', 'MPH', 'X'] }),
    ],
    ['drop null', (s) => Object.assign(field(s, 'note'), { type: 'string', default: '' })],
    [
      'make nullable',
      (s) => Object.assign(field(s, 'id'), { type: ['null', 'string'], default: null }),
    ],
    ['rename a record', (s) => ((field(s, 'position').type as Json).name = 'Location')],
    [
      'rename a record with an alias',
      (s) =>
        Object.assign(field(s, 'position').type as Json, {
          name: 'Location',
          aliases: ['Position'],
        }),
    ],
    [
      'nested field without default',
      (s) => fields(field(s, 'position').type as Json).push({ name: 'alt', type: 'double' }),
    ],
    [
      'map values int → boolean',
      (s) => (field(s, 'counters').type = { type: 'map', values: 'boolean' }),
    ],
  ];

  test.each(crossChecks)('agrees with avsc both ways: %s', (_name, edit) => {
    const old = base();
    const next = evolve(edit);
    expect(explainCompatibility(old, next, 'BACKWARD').length === 0).toBe(avscCanRead(next, old));
    expect(explainCompatibility(old, next, 'FORWARD').length === 0).toBe(avscCanRead(old, next));
  });
});
