// `continuum streams reset` on the real broker: the group and the internal topics of one
// application go, other applications' topics stay, inputs restart at their end when asked, and
// an application with a running instance is refused.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import nodePath from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { waitFor } from '../../core/wait-for.ts';
import {
  ApplicationActiveError,
  resetStreamsApplication,
} from '../../streams/reset-application.ts';
import {
  StateDirectory,
  StateDirectoryLockedError,
} from '../../streams/runtime/state-directory.ts';
import { createKafka, createTestTopic, deleteTestTopics } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);

describe('resetStreamsApplication', () => {
  let kafka: Kafka;
  let admin: Admin;
  let input: string;
  const appId = uniqueName('test-reset');
  const otherAppId = `${appId}x`;
  const internal = [`${appId}-totals-changelog`, `${appId}-by-depot-repartition`];
  const otherInternal = `${otherAppId}-totals-changelog`;

  beforeAll(async () => {
    kafka = createKafka(config, 'streams-reset');
    admin = kafka.admin();
    await admin.connect();
    input = await createTestTopic(admin, { partitions: 2 });
    await admin.createTopics({
      topics: [...internal, otherInternal].map((topic) => ({ topic, numPartitions: 2 })),
      waitForLeaders: true,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic: input,
      messages: ['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, value: key })),
    });
    await producer.disconnect();
  });

  afterAll(async () => {
    const left = (await admin.listTopics()).filter((t) => t.startsWith(appId));
    await deleteTestTopics(admin, [input, ...left]);
    await admin.deleteGroups([appId]).catch(() => undefined);
    await admin.disconnect();
  });

  it('refuses while an instance is running, then deletes group and internal topics and skips to the end', async () => {
    const consumer = kafka.consumer({ groupId: appId, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [input], fromBeginning: true });
    let seen = 0;
    await consumer.run({
      eachMessage: () => {
        seen += 1;
        return Promise.resolve();
      },
    });
    await waitFor(() => seen === 5, { timeoutMs: 30_000, description: 'the instance read all' });

    await expect(
      resetStreamsApplication(admin, appId, { inputs: 'latest', inputTopics: [input] }),
    ).rejects.toThrow(ApplicationActiveError);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(internal));

    await consumer.disconnect();
    const report = await resetStreamsApplication(admin, appId, {
      inputs: 'latest',
      inputTopics: [input],
    });
    expect(report).toEqual({
      applicationId: appId,
      groupDeleted: true,
      deletedTopics: [...internal].sort(),
      skippedToEnd: [input],
      localStateDeleted: false,
    });
    await waitFor(async () => !(await admin.listTopics()).some((t) => internal.includes(t)), {
      timeoutMs: 30_000,
      description: 'internal topics deleted',
    });
    expect(await admin.listTopics()).toContain(otherInternal);

    const ends = await admin.fetchTopicOffsets(input);
    const [committed] = await admin.fetchOffsets({ groupId: appId, topics: [input] });
    expect(
      committed?.partitions
        .map((p) => [p.partition, p.offset])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual(ends.map((e) => [e.partition, e.high]).sort((a, b) => Number(a[0]) - Number(b[0])));
  });

  it('with inputs from the beginning leaves no committed offsets, so everything is read again', async () => {
    const report = await resetStreamsApplication(admin, appId, {
      inputs: 'earliest',
      inputTopics: [input],
    });
    expect(report.groupDeleted).toBe(true);
    expect(report.skippedToEnd).toEqual([]);
    const [committed] = await admin.fetchOffsets({ groupId: appId, topics: [input] });
    expect(committed?.partitions.every((p) => p.offset === '-1')).toBe(true);
  });

  it("deletes the application's stores on disk, but not while an instance holds them", async () => {
    const stateDir = mkdtempSync(nodePath.join(tmpdir(), 'continuum-reset-'));
    try {
      const held = StateDirectory.open(stateDir, appId, createLogger('silent'));
      const other = StateDirectory.open(stateDir, otherAppId, createLogger('silent'));
      await other.close();
      await expect(
        resetStreamsApplication(admin, appId, {
          inputs: 'earliest',
          inputTopics: [input],
          stateDir,
        }),
      ).rejects.toThrow(StateDirectoryLockedError);
      await held.close();
      const report = await resetStreamsApplication(admin, appId, {
        inputs: 'earliest',
        inputTopics: [input],
        stateDir,
      });
      expect(report.localStateDeleted).toBe(true);
      expect(existsSync(nodePath.join(stateDir, appId))).toBe(false);
      expect(existsSync(nodePath.join(stateDir, otherAppId))).toBe(true);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
