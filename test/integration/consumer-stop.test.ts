// A kafkajs consumer stopped while kafkajs is restarting it, against the real broker. The
// broker is made unreachable to the consumer alone (its sockets go through a gate), so it
// crashes and kafkajs restarts it; the stop lands while that restart is connecting, and then
// the broker comes back. kafkajs 2.2.4 as shipped let the restart join the group after the stop
// and consume for ever (a member stayed in the group: this test failed so, before the patch
// patches/kafkajs@2.2.4/runner.start-stop.js); now the restart joins, sees the stop, and leaves.
import net from 'node:net';
import { Kafka, logLevel, type Consumer, type ISocketFactory } from 'kafkajs';
import { loadConfig } from '../../core/config.ts';
import { disconnectForGood } from '../../core/consumer-stop.ts';
import { waitFor } from '../../core/wait-for.ts';
import { createKafka, createTestTopic, deleteTestTopics, withAdmin } from '../support/kafka.ts';
import { uniqueName } from '../support/names.ts';

const config = loadConfig(process.env);
const kafka = createKafka(config, 'consumer-stop');

/** Sockets to the real broker while open; refused (a closed port) while shut. */
class BrokerGate {
  open = true;
  /** Connection attempts made while shut. */
  refused = 0;
  private readonly sockets = new Set<net.Socket>();
  private readonly closedPort: number;

  private constructor(closedPort: number) {
    this.closedPort = closedPort;
  }

  /** A port nothing listens on: bound, its number kept, and released again. */
  static async create(): Promise<BrokerGate> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return new BrokerGate(port);
  }

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    if (!this.open) this.refused += 1;
    const socket = this.open
      ? net.connect({ host, port }, onConnect)
      : net.connect({ host: '127.0.0.1', port: this.closedPort }, onConnect);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    return socket;
  };

  shut(): void {
    this.open = false;
    // With an error, as a broker going away looks to kafkajs (a bare destroy goes unnoticed).
    for (const socket of this.sockets) socket.destroy(new Error('broker gate shut'));
  }
}

/** How many members the group has now (0 once the last one left). */
async function members(groupId: string): Promise<number> {
  return withAdmin(kafka, async (admin) => {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.members.length ?? 0;
  });
}

/**
 * Starts a consumer behind a gate, shuts the gate, and calls `stop` as soon as the restart
 * kafkajs makes is trying to connect; then opens the gate. Returns the group and the joins
 * counted after the stop returned.
 */
async function stopWhileRestarting(
  topic: string,
  stop: (consumer: Consumer) => Promise<void>,
): Promise<{ groupId: string; joinsAfterStop: () => number; consumer: Consumer }> {
  const gate = await BrokerGate.create();
  const gated = new Kafka({
    clientId: uniqueName('test-consumer-stop'),
    brokers: [...config.kafka.brokers],
    logLevel: logLevel.NOTHING,
    socketFactory: gate.socketFactory,
  });
  const groupId = uniqueName('test-consumer-stop');
  const consumer = gated.consumer({
    groupId,
    sessionTimeout: 6_000,
    heartbeatInterval: 500,
    // Few retries: the crash comes soon after the broker goes; the restart still spends a
    // second or so connecting, and the stop lands within milliseconds of its first attempt.
    retry: { retries: 2, initialRetryTime: 300, restartOnFailure: () => Promise.resolve(true) },
  });
  let joins = 0;
  let stopped = false;
  let joinsAfterStop = 0;
  let restarts = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joins += 1;
    if (stopped) joinsAfterStop += 1;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) restarts += 1;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: () => Promise.resolve() });
  await waitFor(() => joins > 0, { timeoutMs: 60_000, description: 'the consumer joined' });

  gate.shut();
  await waitFor(() => restarts > 0, {
    timeoutMs: 60_000,
    description: 'kafkajs restarted the consumer after the broker went away',
  });
  const refusedAtCrash = gate.refused;
  await waitFor(() => gate.refused > refusedAtCrash, {
    timeoutMs: 30_000,
    intervalMs: 5,
    description: 'the restart trying to connect',
  });
  await stop(consumer);
  stopped = true;
  gate.open = true;
  return { groupId, joinsAfterStop: () => joinsAfterStop, consumer };
}

describe('stopping a kafkajs consumer while kafkajs restarts it', () => {
  let topic: string;

  beforeAll(async () => {
    topic = await createTestTopic(kafka);
  });

  afterAll(async () => {
    await deleteTestTopics(kafka, [topic]);
  });

  /** The restart joins once the broker is back, and leaves: the group ends up empty. */
  async function expectStoppedForGood(groupId: string, joinsAfterStop: () => number) {
    await waitFor(() => joinsAfterStop() > 0, {
      timeoutMs: 60_000,
      description: 'the restarted consumer to join after its stop',
    });
    await waitFor(async () => (await members(groupId)) === 0, {
      timeoutMs: 60_000,
      description: 'the group without members',
    });
    expect(await members(groupId)).toBe(0);
  }

  it("kafkajs's own disconnect (patched): the restart that joins after it leaves again", async () => {
    const { groupId, joinsAfterStop, consumer } = await stopWhileRestarting(topic, (c) =>
      c.disconnect(),
    );
    try {
      await expectStoppedForGood(groupId, joinsAfterStop);
    } finally {
      await disconnectForGood(consumer);
    }
  });

  it('disconnectForGood: the same, and no restart armed after the stop', async () => {
    const { groupId, joinsAfterStop } = await stopWhileRestarting(topic, disconnectForGood);
    await expectStoppedForGood(groupId, joinsAfterStop);
  });
});
