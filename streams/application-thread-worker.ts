// The worker thread of application-thread.ts: a stream application built from plain data with the
// platform's composition root (platform-streams.ts), as `continuum streams` builds it on the main
// thread, started and stopped on request; the thread stays for the next one until it is closed
// (a benchmark runs one application after another on a warm thread). Each application counts
// into a registry of its own, which the main thread aggregates.
import { parentPort } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { errorMessage } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { createSchemaRegistry } from '../schemas/event-schemas.ts';
import type { Readiness } from '../core/metrics-server.ts';
import type {
  ApplicationThreadSpec,
  Metrics,
  ThreadMessage,
  ThreadRequest,
} from './application-thread.ts';
import { platformSerdes, platformTopologies, streamsRuntimeOptions } from './platform-streams.ts';
import { processorMetrics } from './processor-metrics.ts';
import { createStreamsClient } from './runtime/clients/create-streams-client.ts';
import { StreamsApplication } from './runtime/streams-application.ts';

const port = parentPort;
if (!port) throw new Error('streams/application-thread-worker.ts runs as a worker thread only');
const post = (message: ThreadMessage): void => port.postMessage(message);

interface Running {
  app: StreamsApplication;
  metrics: Registry;
}
let running: Running | undefined;

function build(spec: ApplicationThreadSpec): Running {
  const log = createLogger(spec.logLevel).child({ thread: spec.app });
  const metrics = new Registry();
  const [topology] = platformTopologies({
    prefix: spec.prefix,
    topics: spec.topics,
    apps: [spec.app],
    streams: spec.config.streams,
    modelName: spec.config.ml.modelName,
    callbacks: processorMetrics(metrics),
    serdes: platformSerdes(createSchemaRegistry(spec.config), spec.schemaIds),
    ...(spec.clean ? { clean: spec.clean } : {}),
  });
  if (!topology) throw new Error(`no topology for ${spec.app}`);
  const app = new StreamsApplication({
    topology,
    client: createStreamsClient(spec.config, spec.client, log),
    log,
    guarantee: spec.guarantee,
    ...streamsRuntimeOptions(spec.config.streams),
    metricsRegistry: metrics,
    onFatal: (err) => post({ type: 'fatal', message: err.message }),
  });
  return { app, metrics };
}

async function start(spec: ApplicationThreadSpec): Promise<null> {
  if (running) throw new Error('an application already runs on this thread');
  try {
    running = build(spec);
    await running.app.start();
    return null;
  } catch (err) {
    // Stop what did start (its group membership, producers), then report the cause.
    await running?.app.stop().catch(() => undefined);
    running = undefined;
    throw err;
  }
}

async function stop(): Promise<null> {
  const stopping = running;
  running = undefined;
  await stopping?.app.stop();
  return null;
}

port.on('message', (request: ThreadRequest) => {
  const answer = (value: Promise<Metrics | Readiness | null>): void => {
    value.then(
      (v) => post({ type: 'reply', id: request.id, value: v }),
      (err: unknown) => post({ type: 'reply', id: request.id, error: errorMessage(err) }),
    );
  };
  switch (request.type) {
    case 'start':
      answer(start(request.spec));
      return;
    case 'metrics':
      answer(running ? running.metrics.getMetricsAsJSON() : Promise.resolve([]));
      return;
    case 'readiness':
      answer(
        Promise.resolve(
          running?.app.readiness() ?? { ready: false, detail: { waitingFor: 'start' } },
        ),
      );
      return;
    case 'stop':
      answer(stop());
      return;
    case 'close':
      answer(stop().finally(() => port.close()));
      return;
  }
});
post({ type: 'online' });
