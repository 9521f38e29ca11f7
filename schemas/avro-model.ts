// Avro schema JSON → a resolved tree (named references replaced by the type they name), shared by
// the compatibility explainer and the type-drift check, which must see through references.
import { ContinuumError } from '../core/errors.ts';

export const AVRO_PRIMITIVES = [
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
] as const;
export type AvroPrimitive = (typeof AVRO_PRIMITIVES)[number];

interface Named {
  /** Unqualified name, e.g. `Shipment`. */
  name: string;
  /** Namespace-qualified name, e.g. `dev.continuum.shipment.Shipment`. */
  fullName: string;
  aliases: string[];
}

export interface AvroField {
  name: string;
  aliases: string[];
  doc: string | undefined;
  type: AvroNode;
  hasDefault: boolean;
  default: unknown;
}

export type AvroNode =
  | { kind: 'primitive'; type: AvroPrimitive; logicalType: string | undefined }
  | (Named & { kind: 'record'; doc: string | undefined; fields: AvroField[] })
  | (Named & { kind: 'enum'; symbols: string[]; default: string | undefined })
  | (Named & { kind: 'fixed'; size: number })
  | { kind: 'array'; items: AvroNode }
  | { kind: 'map'; values: AvroNode }
  | { kind: 'union'; branches: AvroNode[] };

export type AvroRecordNode = Extract<AvroNode, { kind: 'record' }>;

/** A schema that is not valid Avro as far as this model reads it; `path` says where. */
export class AvroSchemaError extends ContinuumError {
  override readonly code = 'AVRO_SCHEMA_INVALID';
  readonly path: string;

  constructor(message: string, path: string) {
    super(`${path}: ${message}`, { context: { path } });
    this.path = path;
  }
}

function isPrimitive(name: string): name is AvroPrimitive {
  return (AVRO_PRIMITIVES as readonly string[]).includes(name);
}

function qualify(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Parses one self-contained schema (JSON text or the parsed object). */
export function parseAvroSchema(schema: unknown): AvroNode {
  const json: unknown = typeof schema === 'string' ? JSON.parse(schema) : schema;
  const named = new Map<string, AvroNode>();

  const parse = (node: unknown, namespace: string | undefined, path: string): AvroNode => {
    if (typeof node === 'string') {
      if (isPrimitive(node)) return { kind: 'primitive', type: node, logicalType: undefined };
      const found = named.get(qualify(node, namespace)) ?? named.get(node);
      if (!found) throw new AvroSchemaError(`unknown type name "${node}"`, path);
      return found;
    }
    if (Array.isArray(node)) {
      return {
        kind: 'union',
        branches: node.map((b, i) => parse(b, namespace, `${path}<${i}>`)),
      };
    }
    if (!node || typeof node !== 'object') {
      throw new AvroSchemaError(`not a type: ${JSON.stringify(node)}`, path);
    }
    const obj = node as Record<string, unknown>;
    const type = obj.type;
    const logicalType = typeof obj.logicalType === 'string' ? obj.logicalType : undefined;
    if (typeof type === 'string' && isPrimitive(type)) {
      return { kind: 'primitive', type, logicalType };
    }
    if (type === 'array') return { kind: 'array', items: parse(obj.items, namespace, `${path}[]`) };
    if (type === 'map') return { kind: 'map', values: parse(obj.values, namespace, `${path}{}`) };
    if (type === 'record' || type === 'error' || type === 'enum' || type === 'fixed') {
      if (typeof obj.name !== 'string') throw new AvroSchemaError(`a ${type} needs a name`, path);
      const ownNamespace = typeof obj.namespace === 'string' ? obj.namespace : namespace;
      const fullName = qualify(obj.name, ownNamespace);
      const innerNamespace = fullName.includes('.')
        ? fullName.slice(0, fullName.lastIndexOf('.'))
        : undefined;
      const base: Named = {
        name: shortName(fullName),
        fullName,
        aliases: stringArray(obj.aliases).map((a) => qualify(a, innerNamespace)),
      };
      if (named.has(fullName)) throw new AvroSchemaError(`"${fullName}" is defined twice`, path);
      if (type === 'enum') {
        const node: AvroNode = {
          ...base,
          kind: 'enum',
          symbols: stringArray(obj.symbols),
          default: typeof obj.default === 'string' ? obj.default : undefined,
        };
        named.set(fullName, node);
        return node;
      }
      if (type === 'fixed') {
        const node: AvroNode = { ...base, kind: 'fixed', size: Number(obj.size) };
        named.set(fullName, node);
        return node;
      }
      const record: AvroRecordNode = {
        ...base,
        kind: 'record',
        doc: typeof obj.doc === 'string' ? obj.doc : undefined,
        fields: [],
      };
      // Registered before its fields are read: a record may refer to itself.
      named.set(fullName, record);
      if (!Array.isArray(obj.fields))
        throw new AvroSchemaError(`record ${fullName} has no fields array`, path);
      for (const raw of obj.fields as unknown[]) {
        const field = (raw ?? {}) as Record<string, unknown>;
        if (typeof field.name !== 'string')
          throw new AvroSchemaError(`a field of ${fullName} has no name`, path);
        const fieldPath = `${path === '' ? record.name : path}.${field.name}`;
        record.fields.push({
          name: field.name,
          aliases: stringArray(field.aliases),
          doc: typeof field.doc === 'string' ? field.doc : undefined,
          type: parse(field.type, innerNamespace, fieldPath),
          hasDefault: 'default' in field,
          default: field.default,
        });
      }
      return record;
    }
    if (typeof type === 'string' || Array.isArray(type) || (type && typeof type === 'object')) {
      // `{"type": "SomeName"}` or `{"type": {...}}`: a wrapped reference or type.
      return parse(type, namespace, path);
    }
    throw new AvroSchemaError(`unknown type ${JSON.stringify(type)}`, path);
  };

  return parse(json, undefined, '');
}

/** How a type reads in a message: `long (timestamp-millis)`, `record Shipment`, `union [null, string]`. */
export function describeAvro(node: AvroNode): string {
  switch (node.kind) {
    case 'primitive':
      return node.logicalType ? `${node.type} (${node.logicalType})` : node.type;
    case 'record':
    case 'enum':
    case 'fixed':
      return `${node.kind} ${node.name}`;
    case 'array':
      return `array<${describeAvro(node.items)}>`;
    case 'map':
      return `map<${describeAvro(node.values)}>`;
    case 'union':
      return `union [${node.branches.map(describeAvro).join(', ')}]`;
  }
}

/** Every record reachable from `root` (itself included), each once. */
export function recordsOf(root: AvroNode): AvroRecordNode[] {
  const seen = new Set<AvroNode>();
  const records: AvroRecordNode[] = [];
  const visit = (node: AvroNode): void => {
    if (seen.has(node)) return;
    seen.add(node);
    if (node.kind === 'record') {
      records.push(node);
      for (const f of node.fields) visit(f.type);
    } else if (node.kind === 'array') visit(node.items);
    else if (node.kind === 'map') visit(node.values);
    else if (node.kind === 'union') node.branches.forEach(visit);
  };
  visit(root);
  return records;
}
