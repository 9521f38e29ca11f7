// Explains, field by field, why a new schema is not BACKWARD (or FORWARD) compatible with the old
// one, following Avro's schema-resolution rules. The registry only answers yes/no; this says why.
import {
  describeAvro,
  parseAvroSchema,
  type AvroField,
  type AvroNode,
  type AvroPrimitive,
} from './avro-model.ts';

export const COMPATIBILITY_LEVELS = ['BACKWARD', 'FORWARD', 'FULL'] as const;
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];
export type CompatibilityDirection = 'BACKWARD' | 'FORWARD';

export const COMPATIBILITY_RULES = [
  'field-without-default',
  'type-not-promotable',
  'enum-symbol-missing',
  'union-branch-missing',
  'name-mismatch',
  'fixed-size-mismatch',
] as const;
export type CompatibilityRule = (typeof COMPATIBILITY_RULES)[number];

export interface CompatibilityViolation {
  /** BACKWARD: the new schema reads old records. FORWARD: the old schema reads new records. */
  direction: CompatibilityDirection;
  rule: CompatibilityRule;
  /** Where, from the root record: `ShipmentChange.before.status`, `DeliveryExample.checkpoints[].speedKmh`. */
  path: string;
  message: string;
}

/** Avro's promotions: a writer's type → the reader types that can read it. */
const PROMOTIONS: Readonly<Record<AvroPrimitive, readonly AvroPrimitive[]>> = {
  null: ['null'],
  boolean: ['boolean'],
  int: ['int', 'long', 'float', 'double'],
  long: ['long', 'float', 'double'],
  float: ['float', 'double'],
  double: ['double'],
  bytes: ['bytes', 'string'],
  string: ['string', 'bytes'],
};

const PROMOTION_HINT = 'Avro only promotes int → long → float → double and string ↔ bytes';

interface Context {
  direction: CompatibilityDirection;
  /** Record pairs already being compared: recursive types would otherwise never end. */
  visiting: Set<string>;
}

/** Wording that depends on who reads what. */
function voice(direction: CompatibilityDirection): {
  reader: string;
  oldOf: (r: string, w: string) => string;
  newOf: (r: string, w: string) => string;
} {
  return direction === 'BACKWARD'
    ? {
        reader: 'consumers on the new schema reading records written with the old one',
        oldOf: (_r, w) => w,
        newOf: (r) => r,
      }
    : {
        reader: 'consumers still on the old schema reading records written with the new one',
        oldOf: (r) => r,
        newOf: (_r, w) => w,
      };
}

function isNull(node: AvroNode): boolean {
  return node.kind === 'primitive' && node.type === 'null';
}

function namesMatch(
  reader: { name: string; fullName: string; aliases: string[] },
  writer: { name: string; fullName: string },
): boolean {
  // As Avro's Java SchemaCompatibility (the registry's checker): unqualified names, or an alias.
  return (
    reader.name === writer.name ||
    reader.aliases.includes(writer.fullName) ||
    reader.aliases.includes(writer.name)
  );
}

/** Same kind of type (and same name for named types): the branch a union resolution would pick. */
function sameShape(reader: AvroNode, writer: AvroNode): boolean {
  if (reader.kind !== writer.kind) return false;
  if (reader.kind === 'primitive' && writer.kind === 'primitive')
    return reader.type === writer.type;
  if (
    (reader.kind === 'record' || reader.kind === 'enum' || reader.kind === 'fixed') &&
    (writer.kind === 'record' || writer.kind === 'enum' || writer.kind === 'fixed')
  )
    return namesMatch(reader, writer);
  return true;
}

function pickReaderBranch(
  branches: readonly AvroNode[],
  writer: AvroNode,
  ctx: Context,
  path: string,
): AvroNode | undefined {
  return (
    branches.find((b) => sameShape(b, writer)) ??
    branches.find((b) => readViolations(b, writer, path, ctx).length === 0)
  );
}

function violation(
  ctx: Context,
  rule: CompatibilityRule,
  path: string,
  message: string,
): CompatibilityViolation {
  return { direction: ctx.direction, rule, path, message };
}

function typeChanged(
  reader: AvroNode,
  writer: AvroNode,
  path: string,
  ctx: Context,
): CompatibilityViolation {
  const v = voice(ctx.direction);
  const from = v.oldOf(describeAvro(reader), describeAvro(writer));
  const to = v.newOf(describeAvro(reader), describeAvro(writer));
  return violation(
    ctx,
    'type-not-promotable',
    path,
    `field \`${path}\` changed type from ${from} to ${to}: ${v.reader} cannot read a ${describeAvro(writer)} as a ${describeAvro(reader)} (${PROMOTION_HINT}; add a new field with a default instead)`,
  );
}

function findWriterField(readerField: AvroField, writerFields: readonly AvroField[]) {
  return (
    writerFields.find((w) => w.name === readerField.name) ??
    writerFields.find((w) => readerField.aliases.includes(w.name))
  );
}

/** Everything that stops `reader` from reading data written with `writer`. */
function readViolations(
  reader: AvroNode,
  writer: AvroNode,
  path: string,
  ctx: Context,
): CompatibilityViolation[] {
  const v = voice(ctx.direction);

  if (writer.kind === 'union') {
    const out: CompatibilityViolation[] = [];
    for (const branch of writer.branches) {
      if (reader.kind === 'union') {
        const target = pickReaderBranch(reader.branches, branch, ctx, path);
        out.push(
          ...(target
            ? readViolations(target, branch, path, ctx)
            : [unionBranchMissing(path, branch, ctx)]),
        );
        continue;
      }
      const inner = readViolations(reader, branch, path, ctx);
      if (inner.length === 0) continue;
      // The branch is still there but changed inside: report what changed, not a lost branch.
      out.push(...(sameShape(reader, branch) ? inner : [unionBranchMissing(path, branch, ctx)]));
    }
    return out;
  }

  if (reader.kind === 'union') {
    const target = pickReaderBranch(reader.branches, writer, ctx, path);
    return target
      ? readViolations(target, writer, path, ctx)
      : [typeChanged(reader, writer, path, ctx)];
  }

  if (reader.kind === 'primitive' && writer.kind === 'primitive') {
    return PROMOTIONS[writer.type].includes(reader.type)
      ? []
      : [typeChanged(reader, writer, path, ctx)];
  }

  if (reader.kind === 'array' && writer.kind === 'array')
    return readViolations(reader.items, writer.items, `${path}[]`, ctx);
  if (reader.kind === 'map' && writer.kind === 'map')
    return readViolations(reader.values, writer.values, `${path}{}`, ctx);

  if (
    (reader.kind === 'record' && writer.kind === 'record') ||
    (reader.kind === 'enum' && writer.kind === 'enum') ||
    (reader.kind === 'fixed' && writer.kind === 'fixed')
  ) {
    if (!namesMatch(reader, writer)) {
      const from = v.oldOf(reader.name, writer.name);
      const to = v.newOf(reader.name, writer.name);
      const fix =
        ctx.direction === 'BACKWARD'
          ? `add "aliases": ["${writer.fullName}"] to ${reader.name}`
          : 'a rename can only be BACKWARD-compatible, through an alias in the new schema';
      return [
        violation(
          ctx,
          'name-mismatch',
          path,
          `${reader.kind} \`${path}\` was renamed from ${from} to ${to} without an alias: ${v.reader} do not recognise ${writer.name} (${fix})`,
        ),
      ];
    }
  }

  if (reader.kind === 'fixed' && writer.kind === 'fixed') {
    return reader.size === writer.size
      ? []
      : [
          violation(
            ctx,
            'fixed-size-mismatch',
            path,
            `fixed \`${path}\` changed size from ${v.oldOf(String(reader.size), String(writer.size))} to ${v.newOf(String(reader.size), String(writer.size))} bytes: ${v.reader} would misread every value`,
          ),
        ];
  }

  if (reader.kind === 'enum' && writer.kind === 'enum') {
    const unknown = writer.symbols.filter((s) => !reader.symbols.includes(s));
    if (unknown.length === 0 || reader.default !== undefined) return [];
    const list = unknown.join(', ');
    const message =
      ctx.direction === 'BACKWARD'
        ? `enum \`${path}\` (${reader.name}) lost symbol(s) ${list} and has no default: records written with the old schema may hold them (keep the symbols, or give the enum a "default" symbol)`
        : `enum \`${path}\` (${reader.name}) gained symbol(s) ${list}: consumers still on the old schema cannot read them because the old enum has no "default" symbol`;
    return [violation(ctx, 'enum-symbol-missing', path, message)];
  }

  if (reader.kind === 'record' && writer.kind === 'record') {
    const key = `${reader.fullName}|${writer.fullName}`;
    if (ctx.visiting.has(key)) return [];
    ctx.visiting.add(key);
    try {
      const out: CompatibilityViolation[] = [];
      for (const field of reader.fields) {
        const fieldPath = `${path}.${field.name}`;
        const written = findWriterField(field, writer.fields);
        if (written) {
          out.push(...readViolations(field.type, written.type, fieldPath, ctx));
        } else if (!field.hasDefault) {
          out.push(
            violation(
              ctx,
              'field-without-default',
              fieldPath,
              ctx.direction === 'BACKWARD'
                ? `field \`${fieldPath}\` was added without a default: records written with the old schema have no value for it (add a default)`
                : `field \`${fieldPath}\` was removed, and the old schema gives it no default: consumers still on the old schema cannot read new records, which lack it (keep the field)`,
            ),
          );
        }
      }
      return out;
    } finally {
      ctx.visiting.delete(key);
    }
  }

  return [typeChanged(reader, writer, path, ctx)];
}

function unionBranchMissing(path: string, branch: AvroNode, ctx: Context): CompatibilityViolation {
  if (isNull(branch)) {
    return violation(
      ctx,
      'union-branch-missing',
      path,
      ctx.direction === 'BACKWARD'
        ? `field \`${path}\` is no longer nullable: records written with the old schema may hold null there (keep "null" in the union)`
        : `field \`${path}\` became nullable: consumers still on the old schema cannot read a null there`,
    );
  }
  const what = describeAvro(branch);
  return violation(
    ctx,
    'union-branch-missing',
    path,
    ctx.direction === 'BACKWARD'
      ? `union \`${path}\` lost its ${what} branch: records written with the old schema may hold a ${what} there (keep the branch)`
      : `union \`${path}\` gained a ${what} branch: consumers still on the old schema cannot read a ${what} there`,
  );
}

function rootName(node: AvroNode): string {
  return node.kind === 'record' || node.kind === 'enum' || node.kind === 'fixed'
    ? node.name
    : describeAvro(node);
}

/**
 * Every way `newSchema` breaks `level` compatibility with `oldSchema` (the registered one).
 * BACKWARD: the new schema must read data written with the old; FORWARD: the old must read data
 * written with the new; FULL: both. An empty list means compatible. Schemas: JSON text or object.
 */
export function explainCompatibility(
  oldSchema: unknown,
  newSchema: unknown,
  level: CompatibilityLevel = 'BACKWARD',
): CompatibilityViolation[] {
  const previous = parseAvroSchema(oldSchema);
  const next = parseAvroSchema(newSchema);
  const out: CompatibilityViolation[] = [];
  if (level === 'BACKWARD' || level === 'FULL') {
    out.push(
      ...readViolations(next, previous, rootName(next), {
        direction: 'BACKWARD',
        visiting: new Set(),
      }),
    );
  }
  if (level === 'FORWARD' || level === 'FULL') {
    out.push(
      ...readViolations(previous, next, rootName(previous), {
        direction: 'FORWARD',
        visiting: new Set(),
      }),
    );
  }
  return out;
}
