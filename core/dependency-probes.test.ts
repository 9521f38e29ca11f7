import { probeDependencies } from './dependency-probes.ts';

describe('probeDependencies', () => {
  it('is ready when every probe answers, and names the one that failed or hung, and why', async () => {
    const up = { name: 'postgres', check: () => Promise.resolve() };
    expect(await probeDependencies([up], 50)).toMatchObject({
      ready: true,
      dependencies: [{ name: 'postgres', ok: true }],
    });
    const down = { name: 'kafka', check: () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const hung = { name: 'schema-registry', check: () => new Promise<void>(() => undefined) };
    const outcome = await probeDependencies([up, down, hung], 50);
    expect(outcome).toMatchObject({
      ready: false,
      dependencies: [
        { name: 'postgres', ok: true },
        { name: 'kafka', ok: false, error: 'connect ECONNREFUSED' },
        { name: 'schema-registry', ok: false, error: 'no answer within 50 ms' },
      ],
    });
    expect(outcome.dependencies[2]?.latencyMs).toBeGreaterThanOrEqual(45);
  });
});
