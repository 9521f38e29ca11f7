// Process entry of the CDC source: `node connectors/sources/postgres-cdc/run.ts [--slot …]`.
// Reads loadConfig(process.env) (CONTINUUM_CDC_* included); argv flags override it.
import { parseArgs } from 'node:util';
import { loadConfig } from '../../../core/config.ts';
import { createLogger } from '../../../core/logger.ts';
import { quietKnownWarnings } from '../../../core/process-warnings.ts';
import { cdcOptionsFromConfig } from './env.ts';
import { runCdcSource } from './run-source.ts';

quietKnownWarnings();

const { values } = parseArgs({
  options: {
    schema: { type: 'string' },
    table: { type: 'string' },
    publication: { type: 'string' },
    slot: { type: 'string' },
    topic: { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'metrics-port': { type: 'string' },
  },
  strict: true,
});

let config;
let source;
try {
  config = loadConfig(process.env);
  source = cdcOptionsFromConfig(config, {
    schema: values.schema,
    table: values.table,
    publication: values.publication,
    slot: values.slot,
    topic: values.topic,
    heartbeatIntervalMs:
      values['heartbeat-ms'] === undefined ? undefined : Number(values['heartbeat-ms']),
  });
} catch (err) {
  // Exit code 3, as `continuum` uses for a bad configuration.
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(3);
}
const log = createLogger(config.logLevel, 'continuum-cdc');
const metricsPort =
  values['metrics-port'] === undefined ? undefined : Number(values['metrics-port']);

try {
  await runCdcSource({
    source,
    log,
    metrics: metricsPort === undefined ? undefined : { host: '127.0.0.1', port: metricsPort },
  });
} catch (err) {
  log.fatal({ err }, 'CDC source failed');
  process.exitCode = 1;
}
