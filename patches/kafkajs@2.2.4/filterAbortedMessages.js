// Patched by continuum (patches/apply.mjs): kafkajs 2.2.4's read_committed filter leaks records of
// aborted transactions when several producers' transactions interleave in one partition.
//  1. The broker lists a fetch's aborted transactions in the order of their abort markers (the
//     transaction index), not by first offset; kafkajs compared each record only with the head
//     of that list, so a transaction that started earlier but aborted later was never entered.
//  2. kafkajs entered at most one aborted transaction per record, so a fetch starting inside
//     several of them let records through until each had had its turn.
// As Java's Fetcher does: order by first offset, and before each record enter every aborted
// transaction that has begun; leave a producer's on its abort marker.
const Long = require('../utils/long');
const ABORTED_MESSAGE_KEY = Buffer.from([0, 0, 0, 0]);

const isAbortMarker = ({ key }) => {
  // Handle null/undefined keys.
  if (!key) return false;
  // Cast key to buffer defensively
  return Buffer.from(key).equals(ABORTED_MESSAGE_KEY);
};

/**
 * Remove messages marked as aborted according to the aborted transactions list.
 *
 * @param {{ messages: any[], abortedTransactions?: { firstOffset: string, producerId: string }[] }} fetched
 * @returns {any[]} Messages which did not participate in an aborted transaction
 */
module.exports = ({ messages, abortedTransactions }) => {
  if (!abortedTransactions || !abortedTransactions.length) {
    return messages;
  }

  const pending = [...abortedTransactions].sort((a, b) =>
    Long.fromValue(a.firstOffset).compare(Long.fromValue(b.firstOffset)),
  );
  const abortedProducers = new Set();

  return messages.filter((message) => {
    const offset = Long.fromValue(message.offset);
    while (pending.length && offset.gte(Long.fromValue(pending[0].firstOffset))) {
      abortedProducers.add(String(pending.shift().producerId));
    }

    const { producerId, inTransaction } = message.batchContext;
    const producer = String(producerId);

    if (message.isControlRecord) {
      // The transaction is over: this producer's later records are not part of it.
      if (isAbortMarker(message)) abortedProducers.delete(producer);
      return true;
    }

    return !(inTransaction && abortedProducers.has(producer));
  });
};
