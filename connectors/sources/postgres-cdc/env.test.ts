// CONTINUUM_CDC_* (through core/config.ts) and argv overrides → validated CdcSourceOptions.
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { cdcOptionsFromConfig } from './env.ts';
import { CDC_SOURCE_DEFAULTS } from './options.ts';

const base = {
  CONTINUUM_POSTGRES_URL: 'postgres://cdc@db.internal:6543/logistics',
  CONTINUUM_TOPIC_SHIPMENTS_CDC: 'prod.shipments.cdc',
};

describe('cdcOptionsFromConfig', () => {
  test('without CONTINUUM_CDC_* it uses the platform config and the declared defaults', () => {
    const config = loadConfig(base);
    const options = cdcOptionsFromConfig(config);
    expect(options).toMatchObject({
      postgresUrl: 'postgres://cdc@db.internal:6543/logistics',
      topic: 'prod.shipments.cdc',
      schema: CDC_SOURCE_DEFAULTS.schema,
      slot: CDC_SOURCE_DEFAULTS.slot,
      publication: CDC_SOURCE_DEFAULTS.publication,
      heartbeatIntervalMs: CDC_SOURCE_DEFAULTS.heartbeatIntervalMs,
      snapshotMode: 'initial',
    });
    expect(options.producer.brokers).toEqual(config.kafka.brokers);
  });

  test('variables override the defaults; explicit overrides (argv) override the variables', () => {
    const config = loadConfig({
      ...base,
      CONTINUUM_CDC_SLOT: 'from_env',
      CONTINUUM_CDC_HEARTBEAT_MS: '2500',
    });
    const options = cdcOptionsFromConfig(config, {
      slot: 'from_argv',
      schema: undefined,
      topic: 'argv.topic',
    });
    expect(options).toMatchObject({
      slot: 'from_argv',
      topic: 'argv.topic',
      heartbeatIntervalMs: 2500,
      schema: 'public',
    });
  });

  test.each([
    [{ CONTINUUM_CDC_HEARTBEAT_MS: 'soon' }, 'CONTINUUM_CDC_HEARTBEAT_MS'],
    [{ CONTINUUM_CDC_SNAPSHOT_MODE: 'sometimes' }, 'CONTINUUM_CDC_SNAPSHOT_MODE'],
    [{ CONTINUUM_CDC_SLOT: 'Bad-Slot' }, 'CONTINUUM_CDC_SLOT'],
    [{ CONTINUUM_CDC_TABLE: 'drop table;' }, 'CONTINUUM_CDC_TABLE'],
  ])('a bad value fails at start, naming the variable: %o', (env, variable) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...env })).toThrow(variable);
  });

  test('a bad override is refused by the source options', () => {
    expect(() => cdcOptionsFromConfig(loadConfig(base), { slot: 'Bad-Slot' })).toThrow(/slot/);
  });
});
