// A child process for crash tests: runs the depot-totals topology until killed.
// Usage: node test/support/run-depot-totals.ts <application-id> <input> <output> <guarantee> [client]
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import { handleShutdown } from '../../core/shutdown.ts';
import {
  createStreamsClient,
  STREAMS_CLIENT_KINDS,
} from '../../streams/runtime/clients/create-streams-client.ts';
import type { StreamsClientKind } from '../../streams/runtime/kafka-port.ts';
import { StreamsApplication } from '../../streams/runtime/streams-application.ts';
import { depotTotalsTopology } from './depot-totals-topology.ts';

const [applicationId, input, output, guarantee, client = 'kafkajs'] = process.argv.slice(2);
const kind = STREAMS_CLIENT_KINDS.find((k) => k === client);
if (
  !applicationId ||
  !input ||
  !output ||
  (guarantee !== 'exactly-once' && guarantee !== 'at-least-once') ||
  kind === undefined
) {
  process.stderr.write(
    `usage: run-depot-totals.ts <application-id> <input> <output> <exactly-once|at-least-once> [${STREAMS_CLIENT_KINDS.join('|')}]\n`,
  );
  process.exit(2);
}
const config = loadConfig(process.env);
const log = createLogger('warn', 'depot-totals');
const app = new StreamsApplication({
  topology: depotTotalsTopology(applicationId, input, output),
  client: createStreamsClient(config, kind satisfies StreamsClientKind, log),
  log,
  guarantee: guarantee,
  commitIntervalMs: config.streams.commitIntervalMs,
  persistentStores: config.streams.stores === 'disk',
  stateDir: config.streams.stateDir,
  // The broker's minimum: a killed instance's partitions move on as soon as Kafka allows.
  sessionTimeoutMs: 6_000,
  onFatal: () => process.exit(1),
});
const shutdown = handleShutdown(log);
shutdown.onShutdown('streams', () => app.stop());
await app.start();
process.stdout.write('started\n');
// The tests stop this process cleanly only once it holds tasks (a stop before the group's
// assignment has no task to commit or checkpoint): say when it does.
await waitFor(() => app.partitions.length > 0, {
  timeoutMs: 120_000,
  intervalMs: 20,
  maxIntervalMs: 100,
  description: 'partitions assigned',
}).then(
  () => process.stdout.write(`tasks ${app.partitions.join(',')}\n`),
  () => undefined,
);
await shutdown.done;
