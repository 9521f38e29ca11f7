// Stopping a kafkajs consumer so that it stays stopped. kafkajs 2.2.4 restarts a crashed
// consumer on a timer; a `disconnect()` that lands while that restart is still connecting (a
// broker down: 15 connection retries) finds no running member to stop, returns, and the restart
// then carries on: it crashes and restarts for ever, or joins the group and consumes after its
// owner has let go. Seen in CI: a sink "stopped" before its private Kafka went away kept
// restarting against the dead port, and Jest never exited.
import type { Consumer } from 'kafkajs';

/** What of a kafkajs consumer stopping it needs (a fake stands in for it in unit tests). */
export type StoppableConsumer = Pick<Consumer, 'disconnect' | 'on' | 'events'>;

/**
 * Disconnects `consumer` and keeps it down: a restart kafkajs still makes afterwards (it crashes
 * again, or it joins the group) is disconnected as soon as kafkajs reports it. The second
 * disconnect waits a turn of the event loop: kafkajs reports a crash before it arms its restart
 * timer, and a join before it marks the new member running, and a disconnect any earlier would
 * find nothing to stop.
 */
export async function disconnectForGood(consumer: StoppableConsumer): Promise<void> {
  const again = (): void => {
    setTimeout(() => void consumer.disconnect().catch(() => undefined), 0);
  };
  consumer.on(consumer.events.CRASH, again);
  consumer.on(consumer.events.GROUP_JOIN, again);
  await consumer.disconnect();
}
