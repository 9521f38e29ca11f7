// A child process of the state-restore benchmark: restores the anchor topology's store on disk
// under the heap cap its parent starts it with (--max-old-space-size), then prints one JSON
// line: how long start → ready took, what was restored, and the peak heap and RSS.
// Usage: node --max-old-space-size=<MiB> bench/state-restore-capped.ts <app-id> <input> <output> <state dir>
import { Registry } from 'prom-client';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { createStreamsClient } from '../streams/runtime/clients/create-streams-client.ts';
import { StreamsApplication } from '../streams/runtime/streams-application.ts';
import { anchorTopology } from './backlog.ts';
import { restoredRecords, taskRestored } from './restore-metrics.ts';

const [applicationId, input, output, stateDir] = process.argv.slice(2);
if (!applicationId || !input || !output || !stateDir) {
  process.stderr.write('usage: state-restore-capped.ts <app-id> <input> <output> <state dir>\n');
  process.exit(2);
}
const config = loadConfig(process.env);
const log = createLogger('warn', 'state-restore-capped');
const registry = new Registry();
const app = new StreamsApplication({
  topology: anchorTopology(applicationId, input, output),
  client: createStreamsClient(config, 'kafkajs', log),
  log,
  guarantee: 'exactly-once',
  metricsRegistry: registry,
  persistentStores: true,
  stateDir,
});
let peakHeap = 0;
let peakRss = 0;
const sample = (): void => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};
const sampler = setInterval(sample, 100);
const started = performance.now();
await app.start();
await taskRestored(registry, { timeoutMs: 1_800_000, description: 'the task restored' });
const seconds = (performance.now() - started) / 1000;
sample();
clearInterval(sampler);
const { fromBeginning } = await restoredRecords(registry);
await app.stop();
process.stdout.write(
  `${JSON.stringify({
    seconds,
    fromBeginning,
    peakHeapBytes: peakHeap,
    peakRssBytes: peakRss,
    heapLimitBytes: (await import('node:v8')).getHeapStatistics().heap_size_limit,
  })}\n`,
);
