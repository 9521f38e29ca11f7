// At the start of a process that owns platform topics (CDC source, sinks, seed, streams):
// create what is missing and align what exists, so a topic made by an older version gets the
// configs the platform relies on before anything is written to it.
import type { Config } from '../core/config.ts';
import { ensurePlatformTopics, type PlatformTopicsReport } from '../core/ensure-platform-topics.ts';
import { createKafkaClient } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';

export async function preparePlatformTopics(
  config: Config,
  log: Logger,
): Promise<PlatformTopicsReport> {
  const admin = createKafkaClient(config, 'platform-topics', log).admin();
  await admin.connect();
  try {
    return await ensurePlatformTopics(admin, config, log.child({ component: 'platform-topics' }));
  } finally {
    await admin.disconnect();
  }
}
