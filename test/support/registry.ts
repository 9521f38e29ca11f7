// Schema-registry clean-up for tests: subjects of random test topics are deleted for good.
import type { Config } from '../../core/config.ts';
import { valueSubject } from '../../schemas/event-schemas.ts';
import { RegistryAdmin } from '../../schemas/registry-admin.ts';

export async function deleteTestSubjects(config: Config, topics: readonly string[]): Promise<void> {
  const admin = new RegistryAdmin(config.schemaRegistry.url);
  for (const topic of topics) await admin.deleteSubject(valueSubject(topic));
}
