// Four projects: unit tests sit beside their code; integration, chaos and e2e tests talk to the
// real stack, whose endpoints the global setup provides (env → testcontainers → native stack).
const transform = {
  '^.+\\.tsx?$': [
    '@swc/jest',
    {
      jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022' },
      module: { type: 'es6' },
    },
  ],
};
const common = {
  transform,
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  testEnvironment: 'node',
  modulePathIgnorePatterns: ['<rootDir>/.continuum/'],
  setupFiles: ['<rootDir>/test/harness/setup-worker.ts'],
};
// Real services for the projects that need them; Jest runs a project's global setup only
// when at least one of its tests is selected.
const services = {
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
};

export default {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/**/*.test.ts'],
      testPathIgnorePatterns: [
        '/node_modules/',
        '<rootDir>/test/integration/',
        '<rootDir>/test/e2e/',
        '<rootDir>/.continuum/',
        '\\.chaos\\.test\\.ts$',
      ],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      ...services,
    },
    {
      ...common,
      // Faults injected into the whole pipeline (test/chaos/README.md): short versions here,
      // long ones with `npm run chaos`.
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.chaos.test.ts'],
      ...services,
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      ...services,
    },
  ],
  // A project-level testTimeout is ignored by Jest; real-service tests need this headroom.
  testTimeout: 120_000,
  // A client a failed test left running (a kafkajs consumer restarting against a Kafka that is
  // gone) once kept Jest from exiting until CI's time ran out: exit once every test and the
  // global teardown are done. Leaks are still fixed where found (core/consumer-stop.ts).
  forceExit: true,
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.js'],
};
