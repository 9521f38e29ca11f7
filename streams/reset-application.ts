// Resets a stream application the way Kafka's `kafka-streams-application-reset` does: with every
// instance stopped, delete its consumer group and its internal topics (changelogs and
// repartitions, found by the `<app-id>-` prefix), and choose where its inputs start again:
// the beginning (reprocess everything) or the end (only what arrives from now on). Its state on
// disk (stores in LMDB, checkpoints) goes too, as Kafka Streams' cleanUp(): the changelogs it
// stood for are deleted.
import type { Admin } from 'kafkajs';
import { ContinuumError } from '../core/errors.ts';
import { waitFor } from '../core/wait-for.ts';
import { StateDirectory } from './runtime/state-directory.ts';

export type ResetInputs = 'earliest' | 'latest';

export interface ResetReport {
  applicationId: string;
  groupDeleted: boolean;
  deletedTopics: string[];
  /** Input topics whose offsets were set to their end (only with inputs 'latest'). */
  skippedToEnd: string[];
  /** Whether a state directory of the application was deleted (stores on disk). */
  localStateDeleted: boolean;
}

export class ApplicationActiveError extends ContinuumError {
  override readonly code = 'APPLICATION_ACTIVE';
}

/** Internal topics of `applicationId` among `topics`. */
export function internalTopicsOf(applicationId: string, topics: readonly string[]): string[] {
  return topics
    .filter(
      (t) =>
        t.startsWith(`${applicationId}-`) &&
        (t.endsWith('-changelog') || t.endsWith('-repartition')),
    )
    .sort();
}

export async function resetStreamsApplication(
  admin: Admin,
  applicationId: string,
  options: {
    inputs: ResetInputs;
    inputTopics: readonly string[];
    /** Where this machine keeps the application's stores on disk (CONTINUUM_STREAMS_STATE_DIR). */
    stateDir?: string;
  },
): Promise<ResetReport> {
  const { groups } = await admin.describeGroups([applicationId]);
  const group = groups[0];
  const active = group && group.state !== 'Dead' && group.state !== 'Empty' ? group.members : [];
  if (active.length > 0) {
    throw new ApplicationActiveError(
      `application ${applicationId} still has ${active.length} running instance(s) (${active.map((m) => m.clientHost).join(', ')}); stop them before resetting`,
      { context: { applicationId, state: group?.state } },
    );
  }
  const groupExists = group !== undefined && group.state !== 'Dead';
  if (groupExists) await admin.deleteGroups([applicationId]);
  const existing = await admin.listTopics();
  const deletedTopics = internalTopicsOf(applicationId, existing);
  if (deletedTopics.length > 0) {
    await admin.deleteTopics({ topics: deletedTopics });
    // Deletion completes asynchronously; an application started right after must not find
    // (and skip creating) a topic that is about to disappear.
    await waitFor(async () => !(await admin.listTopics()).some((t) => deletedTopics.includes(t)), {
      timeoutMs: 60_000,
      description: `deletion of ${deletedTopics.join(', ')}`,
    });
  }
  const skippedToEnd: string[] = [];
  if (options.inputs === 'latest') {
    for (const topic of options.inputTopics) {
      if (!existing.includes(topic)) continue;
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId: applicationId,
        topic,
        partitions: ends.map((p) => ({ partition: p.partition, offset: p.high })),
      });
      skippedToEnd.push(topic);
    }
  }
  const localStateDeleted =
    options.stateDir === undefined ? false : StateDirectory.remove(options.stateDir, applicationId);
  return {
    applicationId,
    groupDeleted: groupExists,
    deletedTopics,
    skippedToEnd,
    localStateDeleted,
  };
}
