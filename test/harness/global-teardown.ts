// Jest global teardown: stops what the global setup started.
export default async function globalTeardown(): Promise<void> {
  const services = globalThis.continuumTestServices ?? [];
  globalThis.continuumTestServices = [];
  for (const s of services.reverse()) await s.stop();
}
