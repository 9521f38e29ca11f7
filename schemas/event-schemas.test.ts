import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { isConcurrentFirstConfig, registerValueSchema } from './event-schemas.ts';

describe('isConcurrentFirstConfig', () => {
  it("is a 409 on a subject's config, and nothing else", () => {
    const url = 'http://127.0.0.1:8081/apis/ccompat/v7/config/telemetry.raw-value';
    expect(isConcurrentFirstConfig({ status: 409, url })).toBe(true);
    // An incompatible schema is refused with 409 too, on the versions path: not retried.
    expect(
      isConcurrentFirstConfig({
        status: 409,
        url: 'http://127.0.0.1:8081/apis/ccompat/v7/subjects/telemetry.raw-value/versions',
      }),
    ).toBe(false);
    expect(isConcurrentFirstConfig({ status: 500, url })).toBe(false);
    expect(isConcurrentFirstConfig(new Error('409'))).toBe(false);
    expect(isConcurrentFirstConfig(undefined)).toBe(false);
  });
});

describe('registerValueSchema', () => {
  const mismatch = Object.assign(new Error('Compatibility does not match (BACKWARD != NONE)'), {
    name: 'ConfluentSchemaRegistryCompatibilityError',
  });

  function registryFailing(
    times: number,
    err: Error,
  ): { registry: SchemaRegistry; calls: () => number } {
    let calls = 0;
    const registry = {
      register: () => {
        calls++;
        return calls <= times ? Promise.reject(err) : Promise.resolve({ id: 42 });
      },
    } as unknown as SchemaRegistry;
    return { registry, calls: () => calls };
  }

  it("retries while another process is still setting a new subject's level", async () => {
    const { registry, calls } = registryFailing(2, mismatch);
    await expect(registerValueSchema(registry, 'telemetry.raw', 'VehicleTelemetry')).resolves.toBe(
      42,
    );
    expect(calls()).toBe(3);
  });

  it('gives up with the client error when the subject keeps another level', async () => {
    const { registry, calls } = registryFailing(Infinity, mismatch);
    await expect(registerValueSchema(registry, 'telemetry.raw', 'VehicleTelemetry')).rejects.toBe(
      mismatch,
    );
    expect(calls()).toBe(6);
  });

  it('does not retry other errors', async () => {
    const refused = Object.assign(new Error('incompatible'), {
      status: 409,
      url: 'x/subjects/y/versions',
    });
    const { registry, calls } = registryFailing(1, refused);
    await expect(registerValueSchema(registry, 'telemetry.raw', 'VehicleTelemetry')).rejects.toBe(
      refused,
    );
    expect(calls()).toBe(1);
  });
});
