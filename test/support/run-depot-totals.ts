// A child process for crash tests: runs the depot-totals topology until killed.
// Usage: node test/support/run-depot-totals.ts <application-id> <input> <output> <guarantee>
import { loadConfig } from '../../core/config.ts';
import { createKafkaClient } from '../../core/kafka-client.ts';
import { createLogger } from '../../core/logger.ts';
import { handleShutdown } from '../../core/shutdown.ts';
import { StreamsApplication } from '../../streams/runtime/streams-application.ts';
import { depotTotalsTopology } from './depot-totals-topology.ts';

const [applicationId, input, output, guarantee] = process.argv.slice(2);
if (
  !applicationId ||
  !input ||
  !output ||
  (guarantee !== 'exactly-once' && guarantee !== 'at-least-once')
) {
  process.stderr.write(
    'usage: run-depot-totals.ts <application-id> <input> <output> <exactly-once|at-least-once>\n',
  );
  process.exit(2);
}
const config = loadConfig(process.env);
const log = createLogger('warn', 'depot-totals');
const app = new StreamsApplication({
  topology: depotTotalsTopology(applicationId, input, output),
  kafka: createKafkaClient(config, 'depot-totals', log),
  log,
  guarantee: guarantee,
  // The broker's minimum: a killed instance's partitions move on as soon as Kafka allows.
  sessionTimeoutMs: 6_000,
  onFatal: () => process.exit(1),
});
const shutdown = handleShutdown(log);
shutdown.onShutdown('streams', () => app.stop());
await app.start();
process.stdout.write('started\n');
await shutdown.done;
