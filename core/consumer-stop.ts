// Stopping a kafkajs consumer so that it stays stopped. kafkajs 2.2.4 restarts a crashed
// consumer on a timer; a `disconnect()` that landed while that restart was still connecting (a
// broker down: 15 connection retries) found no running member to stop, returned, and the
// restart carried on: it joined the group and consumed after its owner had let go, or crashed
// and restarted for ever. Seen in CI: a sink "stopped" before its private Kafka went away kept
// restarting against the dead port, and Jest never exited.
//
// Two parts fix it. The kafkajs patch `runner.start-stop.js` (patches/): a runner stopped while
// it starts leaves the group and reports no crash. This module: a stop that lands while kafkajs
// is between a crash and arming its restart timer (it reports the crash, then arms the timer),
// where there is no runner to tell, disconnects again once the crash is reported.
import type { Consumer } from 'kafkajs';

/** What of a kafkajs consumer stopping it needs. */
export type StoppableConsumer = Pick<Consumer, 'disconnect' | 'on' | 'events'>;

/**
 * Disconnects `consumer` and keeps it down: a crash kafkajs reports afterwards gets a second
 * disconnect, a turn of the event loop later (kafkajs arms its restart timer right after
 * reporting the crash, and the disconnect clears it).
 */
export async function disconnectForGood(consumer: StoppableConsumer): Promise<void> {
  consumer.on(consumer.events.CRASH, () => {
    setTimeout(() => void consumer.disconnect().catch(() => undefined), 0);
  });
  await consumer.disconnect();
}
