// The worker thread of bench/pipeline-thread.ts: the two stream applications exactly-once on the
// benchmark's topics (bench/pipeline-run.ts builds them as `continuum streams` does), the Redis
// state sink on their shipment.state, and the freshness fleet's readings paced, on request from
// the main thread. (The fleet is here, not in the main thread with the API under measurement:
// its encoding then costs the pipeline's headroom, not the API's.)
import { parentPort, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import type { Message } from 'kafkajs';
import { errorMessage } from '../core/errors.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import { createLogger } from '../core/logger.ts';
import { shipmentStateKeys } from '../connectors/sinks/redis/shipment-state-hash.ts';
import { ShipmentStateRedisSink } from '../connectors/sinks/redis/shipment-state-redis-sink.ts';
import { SinkRunner } from '../connectors/sinks/sink-runner.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import type { UnifiedShipmentState } from '../schemas/types.ts';
import { streamsAppFactory } from './pipeline-clients.ts';
import { producePaced } from './pipeline-kafka.ts';
import { fleetVehicle, freshnessReading, VehicleEventClock } from './pipeline-records.ts';
import {
  buildPipelineTopologies,
  idempotentProducer,
  pipelineCounts,
  rowSchemaIds,
  schemaId,
  startPipeline,
} from './pipeline-run.ts';
import type {
  FeedResult,
  PipelineWorkerData,
  PipelineWorkerReply,
  PipelineWorkerRequest,
} from './pipeline-thread.ts';

const port = parentPort;
if (!port) throw new Error('bench/pipeline-worker.ts runs as a worker thread only');
const data = workerData as PipelineWorkerData;
const post = (reply: PipelineWorkerReply): void => port.postMessage(reply);

const log = createLogger('warn').child({ bench: 'api-lookup', thread: 'pipeline' });
const kafka = createKafkaClient(data.config, 'bench-api-pipeline', log);
const registry = createSchemaRegistry(data.config);
const telemetryId = schemaId(data.ids, 'telemetryRaw');

let seq = 0;
const clock = new VehicleEventClock();
const reading = async (vehicle: number, now: number): Promise<Message> => {
  seq += 1;
  const event = freshnessReading(vehicle, seq, clock.next(vehicle, now), data.origin);
  return {
    key: event.vehicleId,
    value: await registry.encode(telemetryId, event),
    timestamp: String(event.eventTime),
  };
};

const pipeline = await startPipeline(streamsAppFactory(data.client, { config: data.config, log }), {
  topologies: buildPipelineTopologies(
    data.config,
    registry,
    data.prefix,
    data.topics,
    data.ids,
    data.graceMs,
  ),
  prefix: data.prefix,
  topics: data.topics,
  schemaIds: rowSchemaIds(data.ids),
  graceMs: data.graceMs,
});
pipeline.signal.addEventListener('abort', () =>
  post({ type: 'fatal', message: `pipeline: ${errorMessage(pipeline.signal.reason)}` }),
);
const redis = new Redis(data.config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 5 });
redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis connection error'));
await redis.connect();
const sink = new SinkRunner<UnifiedShipmentState>({
  kafka,
  topic: data.topics.shipmentState,
  groupId: data.sinkGroupId,
  sink: new ShipmentStateRedisSink(redis, { keys: shipmentStateKeys(data.redisKeyNamespace) }),
  decode: async (bytes) => (await registry.decode(bytes)) as UnifiedShipmentState,
  log,
  // Beside the applications' counters, so one `counts` reports both.
  metricsRegistry: pipeline.metrics,
  onFatal: (error) => post({ type: 'fatal', message: `Redis sink: ${errorMessage(error)}` }),
});
await sink.start();
const producer = idempotentProducer(kafka);
await producer.connect();

let feed:
  { until: AbortController; done: Promise<{ sent: number; startedAt: number }> } | undefined;
const stopAll = new AbortController();

function startFeed(rate: number): void {
  if (feed) throw new Error('the fleet is already being fed');
  const until = new AbortController();
  const done = producePaced(producer, {
    topic: data.topics.telemetryRaw,
    ratePerSecond: rate,
    // Until stop-feed; an hour is a bound, not a plan.
    seconds: 3_600,
    build: (n, now) => reading(fleetVehicle(n, data.vehicles, data.reserved), now),
    signal: stopAll.signal,
    until: until.signal,
  });
  // Seen by stop-feed; a feed that fails before then (not stopped with the rest) fails the run.
  done.catch((err: unknown) => {
    if (!stopAll.signal.aborted) post({ type: 'fatal', message: `feed: ${errorMessage(err)}` });
  });
  feed = { until, done };
}

async function stopFeed(): Promise<FeedResult> {
  if (!feed) throw new Error('the fleet is not being fed');
  const { until, done } = feed;
  feed = undefined;
  until.abort();
  const { sent, startedAt } = await done;
  return { sent, seconds: (Date.now() - startedAt) / 1000 };
}

async function counts(): Promise<string> {
  const written = (
    await pipeline.metrics.getSingleMetric('continuum_sink_records_written_total')?.get()
  )?.values.reduce((n, v) => n + v.value, 0);
  return `${await pipelineCounts(pipeline)}; Redis sink wrote ${written ?? 0} states`;
}

async function stop(): Promise<string> {
  stopAll.abort();
  if (feed) await feed.done.catch(() => undefined);
  const counted = await counts();
  await pipeline.stop();
  await sink.stop();
  await producer.disconnect();
  await redis.quit();
  return counted;
}

async function handle(request: PipelineWorkerRequest): Promise<unknown> {
  switch (request.type) {
    case 'feed':
      return startFeed(request.rate);
    case 'stop-feed':
      return stopFeed();
    case 'counts':
      return counts();
    case 'stop':
      return stop();
  }
}

port.on('message', (request: PipelineWorkerRequest) => {
  handle(request).then(
    (result) => post({ type: 'done', id: request.id, result }),
    (err: unknown) => post({ type: 'failed', id: request.id, message: errorMessage(err) }),
  );
});
post({ type: 'ready' });
