// Finds where the TypeScript interfaces (read with the compiler API) and the Avro schemas disagree:
// a field on one side only, a nullability or a basic-type difference, enum symbols that differ.
import ts from 'typescript';
import { describeAvro, parseAvroSchema, recordsOf, type AvroNode } from './avro-model.ts';

export interface TypeDrift {
  /** `Record.field`, `Record.list[]`, `Record.map{}`; the record name for a missing interface. */
  path: string;
  problem: string;
}

/** The TypeScript side, reduced to what Avro can express. */
type Shape =
  | { kind: 'string' | 'number' | 'boolean' | 'bytes' }
  | { kind: 'enum'; symbols: string[] }
  | { kind: 'record'; name: string }
  | { kind: 'array'; items: Typed }
  | { kind: 'map'; values: Typed }
  | { kind: 'unsupported'; text: string };
interface Typed {
  shape: Shape;
  nullable: boolean;
}

interface Declarations {
  interfaces: Map<string, ts.InterfaceDeclaration>;
  aliases: Map<string, ts.TypeNode>;
  constArrays: Map<string, string[]>;
}

function collectDeclarations(source: ts.SourceFile): Declarations {
  const d: Declarations = { interfaces: new Map(), aliases: new Map(), constArrays: new Map() };
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) d.interfaces.set(statement.name.text, statement);
    else if (ts.isTypeAliasDeclaration(statement))
      d.aliases.set(statement.name.text, statement.type);
    else if (ts.isVariableStatement(statement)) {
      for (const decl of statement.declarationList.declarations) {
        // `export const X = ['A', 'B'] as const;`
        const init = decl.initializer;
        if (
          ts.isIdentifier(decl.name) &&
          init &&
          ts.isAsExpression(init) &&
          ts.isArrayLiteralExpression(init.expression)
        ) {
          const symbols = init.expression.elements.filter(ts.isStringLiteral).map((e) => e.text);
          d.constArrays.set(decl.name.text, symbols);
        }
      }
    }
  }
  return d;
}

function unwrap(node: ts.TypeNode): ts.TypeNode {
  let n = node;
  while (
    ts.isParenthesizedTypeNode(n) ||
    (ts.isTypeOperatorNode(n) && n.operator === ts.SyntaxKind.ReadonlyKeyword)
  )
    n = n.type;
  return n;
}

function isNullType(node: ts.TypeNode): boolean {
  return ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword;
}

function shapeOf(node: ts.TypeNode, d: Declarations, source: ts.SourceFile, depth = 0): Typed {
  const n = unwrap(node);
  const unsupported = (): Typed => ({
    shape: { kind: 'unsupported', text: n.getText(source) },
    nullable: false,
  });
  if (depth > 20) return unsupported();

  if (ts.isUnionTypeNode(n)) {
    const rest = n.types.filter((t) => !isNullType(t));
    const nullable = rest.length < n.types.length;
    if (
      rest.length > 0 &&
      rest.every((t) => ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal))
    ) {
      const symbols = rest.map((t) => ((t as ts.LiteralTypeNode).literal as ts.StringLiteral).text);
      return { shape: { kind: 'enum', symbols }, nullable };
    }
    const [only] = rest;
    if (rest.length !== 1 || !only) return unsupported();
    const inner = shapeOf(only, d, source, depth + 1);
    return { shape: inner.shape, nullable: nullable || inner.nullable };
  }
  switch (n.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { shape: { kind: 'string' }, nullable: false };
    case ts.SyntaxKind.NumberKeyword:
    case ts.SyntaxKind.BigIntKeyword:
      return { shape: { kind: 'number' }, nullable: false };
    case ts.SyntaxKind.BooleanKeyword:
      return { shape: { kind: 'boolean' }, nullable: false };
  }
  if (ts.isLiteralTypeNode(n) && ts.isStringLiteral(n.literal))
    return { shape: { kind: 'enum', symbols: [n.literal.text] }, nullable: false };
  if (ts.isArrayTypeNode(n))
    return {
      shape: { kind: 'array', items: shapeOf(n.elementType, d, source, depth + 1) },
      nullable: false,
    };
  // `(typeof SHIPMENT_STATUSES)[number]`
  if (ts.isIndexedAccessTypeNode(n) && unwrap(n.indexType).kind === ts.SyntaxKind.NumberKeyword) {
    const object = unwrap(n.objectType);
    if (ts.isTypeQueryNode(object) && ts.isIdentifier(object.exprName)) {
      const symbols = d.constArrays.get(object.exprName.text);
      if (symbols) return { shape: { kind: 'enum', symbols }, nullable: false };
    }
    return unsupported();
  }
  if (ts.isTypeLiteralNode(n)) {
    const [member] = n.members;
    if (n.members.length === 1 && member && ts.isIndexSignatureDeclaration(member) && member.type)
      return {
        shape: { kind: 'map', values: shapeOf(member.type, d, source, depth + 1) },
        nullable: false,
      };
    return unsupported();
  }
  if (ts.isTypeReferenceNode(n) && ts.isIdentifier(n.typeName)) {
    const name = n.typeName.text;
    const args = n.typeArguments ?? [];
    const [first, second] = args;
    if ((name === 'Array' || name === 'ReadonlyArray') && first)
      return {
        shape: { kind: 'array', items: shapeOf(first, d, source, depth + 1) },
        nullable: false,
      };
    if (name === 'Record' && second && first && unwrap(first).kind === ts.SyntaxKind.StringKeyword)
      return {
        shape: { kind: 'map', values: shapeOf(second, d, source, depth + 1) },
        nullable: false,
      };
    if (name === 'Buffer' || name === 'Uint8Array')
      return { shape: { kind: 'bytes' }, nullable: false };
    if (d.interfaces.has(name)) return { shape: { kind: 'record', name }, nullable: false };
    const alias = d.aliases.get(name);
    if (alias) return shapeOf(alias, d, source, depth + 1);
  }
  return unsupported();
}

function describeShape(t: Typed): string {
  const s = t.shape;
  const base =
    s.kind === 'enum'
      ? `enum [${s.symbols.join(', ')}]`
      : s.kind === 'record'
        ? `interface ${s.name}`
        : s.kind === 'array'
          ? `array of ${describeShape(s.items)}`
          : s.kind === 'map'
            ? `Record<string, ${describeShape(s.values)}>`
            : s.kind === 'unsupported'
              ? `\`${s.text}\` (not a type the check understands)`
              : s.kind;
  return t.nullable ? `${base} | null` : base;
}

/** The Avro side: a union with null is a nullable version of its other branch. */
function avroTyped(node: AvroNode): { node: AvroNode; nullable: boolean } {
  if (node.kind !== 'union') return { node, nullable: false };
  const rest = node.branches.filter((b) => !(b.kind === 'primitive' && b.type === 'null'));
  const [only] = rest;
  if (rest.length === 1 && only)
    return { node: only, nullable: rest.length < node.branches.length };
  return { node, nullable: rest.length < node.branches.length };
}

/** The basic type a TypeScript field must have for an Avro type. */
function expectedKind(node: AvroNode): Shape['kind'] | 'union' {
  switch (node.kind) {
    case 'primitive':
      switch (node.type) {
        case 'string':
          return 'string';
        case 'boolean':
          return 'boolean';
        case 'bytes':
          return 'bytes';
        case 'null':
          return 'unsupported';
        default:
          return 'number'; // int, long, float, double — and timestamp-millis, epoch ms
      }
    case 'fixed':
      return 'bytes';
    default:
      return node.kind;
  }
}

function compareTypes(
  path: string,
  avroNode: AvroNode,
  tsType: Typed,
  out: TypeDrift[],
  pending: string[],
): void {
  const avro = avroTyped(avroNode);
  if (avro.nullable !== tsType.nullable) {
    out.push({
      path,
      problem: avro.nullable
        ? `nullable in Avro (${describeAvro(avroNode)}) but not in TypeScript (${describeShape(tsType)}): add \`| null\``
        : `nullable in TypeScript (${describeShape(tsType)}) but not in Avro (${describeAvro(avroNode)})`,
    });
  }
  const expected = expectedKind(avro.node);
  const shape = tsType.shape;
  if (expected !== shape.kind) {
    out.push({
      path,
      problem: `Avro type ${describeAvro(avro.node)} needs a TypeScript ${expected === 'union' ? 'union' : expected}, found ${describeShape(tsType)}`,
    });
    return;
  }
  if (avro.node.kind === 'enum' && shape.kind === 'enum') {
    const missing = avro.node.symbols.filter((s) => !shape.symbols.includes(s));
    const extra = shape.symbols.filter(
      (s) => !(avro.node as { symbols: string[] }).symbols.includes(s),
    );
    if (missing.length > 0)
      out.push({
        path,
        problem: `enum symbol(s) ${missing.join(', ')} in Avro but missing in TypeScript`,
      });
    if (extra.length > 0)
      out.push({
        path,
        problem: `enum symbol(s) ${extra.join(', ')} in TypeScript but not in Avro`,
      });
  } else if (avro.node.kind === 'record' && shape.kind === 'record') {
    if (avro.node.name !== shape.name)
      out.push({
        path,
        problem: `Avro record ${avro.node.name} but TypeScript interface ${shape.name}`,
      });
    else pending.push(shape.name);
  } else if (avro.node.kind === 'array' && shape.kind === 'array') {
    compareTypes(`${path}[]`, avro.node.items, shape.items, out, pending);
  } else if (avro.node.kind === 'map' && shape.kind === 'map') {
    compareTypes(`${path}{}`, avro.node.values, shape.values, out, pending);
  }
}

/**
 * Compares every record of `schemas` (Avro JSON text or objects) with the same-named interface in
 * `typesSource` (the text of a .ts file). An empty list means they agree.
 */
export function findTypeDrift(
  schemas: readonly unknown[],
  typesSource: string,
  fileName = 'types.ts',
): TypeDrift[] {
  const source = ts.createSourceFile(fileName, typesSource, ts.ScriptTarget.Latest, true);
  const d = collectDeclarations(source);
  const out: TypeDrift[] = [];
  const compared = new Set<string>();
  for (const schema of schemas) {
    for (const record of recordsOf(parseAvroSchema(schema))) {
      if (compared.has(record.name)) continue;
      compared.add(record.name);
      const iface = d.interfaces.get(record.name);
      if (!iface) {
        out.push({ path: record.name, problem: `no interface ${record.name} in ${fileName}` });
        continue;
      }
      const members = new Map<string, ts.PropertySignature>();
      for (const m of iface.members) {
        if (ts.isPropertySignature(m) && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name)))
          members.set(m.name.text, m);
      }
      const pending: string[] = [];
      for (const field of record.fields) {
        const path = `${record.name}.${field.name}`;
        const member = members.get(field.name);
        if (!member) {
          out.push({
            path,
            problem: `in the Avro schema (${describeAvro(field.type)}) but missing from interface ${record.name}`,
          });
          continue;
        }
        if (member.questionToken)
          out.push({
            path,
            problem:
              'optional (`?`) in TypeScript, but Avro always has the field: use `| null` for absence',
          });
        if (!member.type) {
          out.push({ path, problem: 'has no type annotation in TypeScript' });
          continue;
        }
        compareTypes(path, field.type, shapeOf(member.type, d, source), out, pending);
      }
      for (const name of members.keys()) {
        if (!record.fields.some((f) => f.name === name))
          out.push({
            path: `${record.name}.${name}`,
            problem: `in interface ${record.name} but not in the Avro schema`,
          });
      }
    }
  }
  return out;
}
