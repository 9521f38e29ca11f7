// Subject bindings and the decisions of `checkSchemas` (new / unchanged / compatible /
// incompatible, and honest disagreement) against an in-memory registry of our own port.
import type { TopicsConfig } from '../core/config.ts';
import type { RegisteredVersion } from './registry-admin.ts';
import {
  bindingFor,
  checkSchemas,
  platformSchemaBindings,
  type CheckRegistry,
} from './subjects.ts';

const topics: TopicsConfig = {
  partitions: 3,
  shipmentsCdc: 'shipments.cdc',
  telemetryRaw: 'telemetry.raw',
  telemetryClean: 'telemetry.clean',
  shipmentState: 'shipment.state',
  deliveriesCompleted: 'deliveries.completed',
  etaModels: 'eta.models',
};

/** Versions per subject, levels per subject, and a scripted answer to compatibility tests. */
class InMemoryRegistry implements CheckRegistry {
  readonly history = new Map<string, RegisteredVersion[]>();
  readonly levels = new Map<string, string>();
  answer = true;
  readonly asked: (number | 'latest')[] = [];

  add(subject: string, schema: unknown): void {
    const list = this.history.get(subject) ?? [];
    list.push({
      subject,
      version: list.length + 1,
      id: 100 + list.length,
      schema: JSON.stringify(schema),
    });
    this.history.set(subject, list);
  }

  latest(subject: string): Promise<RegisteredVersion | undefined> {
    return Promise.resolve(this.history.get(subject)?.at(-1));
  }
  compatibility(subject: string): Promise<string | undefined> {
    return Promise.resolve(this.levels.get(subject));
  }
  lookup(subject: string, schema: unknown): Promise<RegisteredVersion | undefined> {
    const text = JSON.stringify(schema);
    return Promise.resolve(this.history.get(subject)?.find((v) => v.schema === text));
  }
  isCompatible(
    _subject: string,
    _schema: unknown,
    version: number | 'latest' = 'latest',
  ): Promise<boolean> {
    this.asked.push(version);
    return Promise.resolve(this.answer);
  }
  versions(subject: string): Promise<number[]> {
    return Promise.resolve((this.history.get(subject) ?? []).map((v) => v.version));
  }
  version(subject: string, version: number): Promise<RegisteredVersion> {
    const found = this.history.get(subject)?.find((v) => v.version === version);
    return found ? Promise.resolve(found) : Promise.reject(new Error(`no version ${version}`));
  }
}

const telemetry = bindingFor('telemetry.raw', 'VehicleTelemetry');
type Fields = { name: string }[];
const olderTelemetry = {
  ...telemetry.schema,
  fields: (telemetry.schema.fields as Fields).filter((f) => f.name !== 'odometerKm'),
};
const newerTelemetry = {
  ...telemetry.schema,
  fields: (telemetry.schema.fields as Fields).filter((f) => f.name !== 'headingDeg'),
};

test('each platform topic gets its contract under `<topic>-value`', () => {
  expect(platformSchemaBindings(topics).map((b) => [b.subject, b.schemaName])).toEqual([
    ['shipments.cdc-value', 'ShipmentChange'],
    ['telemetry.raw-value', 'VehicleTelemetry'],
    ['telemetry.clean-value', 'VehicleTelemetry'],
    ['shipment.state-value', 'UnifiedShipmentState'],
    ['deliveries.completed-value', 'DeliveryExample'],
    ['eta.models-value', 'EtaModel'],
  ]);
});

describe('checkSchemas', () => {
  test('a subject with no versions is new; one holding the schema is unchanged', async () => {
    const registry = new InMemoryRegistry();
    const [fresh] = await checkSchemas(registry, [telemetry]);
    expect(fresh).toMatchObject({ state: 'new', checkedLevel: 'BACKWARD', violations: [] });
    registry.add(telemetry.subject, telemetry.schema);
    const [same] = await checkSchemas(registry, [telemetry]);
    expect(same).toMatchObject({ state: 'unchanged', latestVersion: 1 });
    expect(registry.asked).toEqual([]);
  });

  test('registry and explainer agreeing on a break: incompatible, explained, no note', async () => {
    const registry = new InMemoryRegistry();
    registry.add(telemetry.subject, olderTelemetry);
    registry.levels.set(telemetry.subject, 'BACKWARD');
    registry.answer = false;
    const [outcome] = await checkSchemas(registry, [telemetry]);
    expect(outcome).toMatchObject({
      state: 'incompatible',
      registryCompatible: false,
      comparedVersions: [1],
    });
    expect(outcome?.violations.map((v) => [v.version, v.path])).toEqual([
      [1, 'VehicleTelemetry.odometerKm'],
    ]);
    expect(outcome?.disagreement).toBeUndefined();
  });

  test('the registry refusing what the explainer finds fine is said, and still fails the check', async () => {
    const registry = new InMemoryRegistry();
    registry.add(telemetry.subject, newerTelemetry);
    // Version 2 differs from the local schema only in its doc: nothing for the explainer to find.
    registry.add(telemetry.subject, { ...telemetry.schema, doc: 'v2' });
    registry.levels.set(telemetry.subject, 'BACKWARD');
    registry.answer = false;
    const [outcome] = await checkSchemas(registry, [telemetry]);
    expect(outcome).toMatchObject({
      state: 'incompatible',
      registryCompatible: false,
      violations: [],
    });
    expect(outcome?.disagreement).toContain('the registry refuses it (level BACKWARD)');
    expect(outcome?.disagreement).toContain('found no BACKWARD violation against version(s) 2');
  });

  test('the registry accepting what the explainer finds breaking is said', async () => {
    const registry = new InMemoryRegistry();
    registry.add(telemetry.subject, olderTelemetry);
    registry.levels.set(telemetry.subject, 'BACKWARD');
    const [outcome] = await checkSchemas(registry, [telemetry]);
    expect(outcome).toMatchObject({ state: 'incompatible', registryCompatible: true });
    expect(outcome?.disagreement).toContain('more lenient');
  });

  test('a FORWARD subject is explained FORWARD', async () => {
    const registry = new InMemoryRegistry();
    registry.add(telemetry.subject, newerTelemetry);
    registry.levels.set(telemetry.subject, 'FORWARD');
    registry.answer = false;
    const [outcome] = await checkSchemas(registry, [
      { ...telemetry, schema: newerTelemetry, subject: telemetry.subject },
    ]);
    // Same schema: unchanged. Now the local one drops odometerKm, which the old schema needs.
    expect(outcome?.state).toBe('unchanged');
    const dropping = {
      ...telemetry,
      schema: {
        ...newerTelemetry,
        fields: newerTelemetry.fields.filter((f) => f.name !== 'odometerKm'),
      },
    };
    const [forward] = await checkSchemas(registry, [dropping]);
    expect(forward).toMatchObject({ checkedLevel: 'FORWARD', state: 'incompatible' });
    expect(forward?.violations.map((v) => [v.direction, v.path, v.rule])).toEqual([
      ['FORWARD', 'VehicleTelemetry.odometerKm', 'field-without-default'],
    ]);
  });

  test('a transitive level is explained, and asked, against every version', async () => {
    const registry = new InMemoryRegistry();
    registry.add(telemetry.subject, {
      ...telemetry.schema,
      fields: [
        ...(telemetry.schema.fields as Fields),
        { name: 'driverId', type: 'string', doc: 'x' },
      ],
    });
    registry.add(telemetry.subject, olderTelemetry);
    registry.levels.set(telemetry.subject, 'BACKWARD_TRANSITIVE');
    registry.answer = false;
    const [outcome] = await checkSchemas(registry, [telemetry]);
    expect(registry.asked).toEqual([1, 2]);
    expect(outcome?.comparedVersions).toEqual([1, 2]);
    // Version 1 had odometerKm (fine); version 2 did not (the local one adds it without a default).
    expect(outcome?.violations.map((v) => [v.version, v.path])).toEqual([
      [2, 'VehicleTelemetry.odometerKm'],
    ]);
  });
});
