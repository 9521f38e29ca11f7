    #filterUncommittedMessages(response) {
        // Patched by continuum (patches/apply.mjs). The shipped filter kept one range per producer
        // (a producer that aborted twice in one response had its ranges overwritten) and let an
        // aborted transaction through when its abort marker was not in the same response, so
        // read_committed consumers got aborted records. Kafka lists only transactions that did
        // abort, so, as Java's Fetcher does: order them by first offset, enter every one that has
        // begun by a batch's last offset, leave a producer's on its abort marker. An aborted batch
        // keeps its place with no records, so the stream's offset tracking still steps over it.
        const IS_TRANSACTIONAL = 1 << 4;
        for (const topic of response.responses) {
            for (const partition of topic.partitions) {
                if (!partition.records) {
                    continue;
                }
                const abortedTransactions = partition.abortedTransactions ?? [];
                if (!abortedTransactions.length) {
                    continue;
                }
                const pending = [...abortedTransactions].sort((a, b) => a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0);
                const abortedProducers = new Set();
                for (const batch of partition.records) {
                    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
                    while (pending.length && pending[0].firstOffset <= lastOffset) {
                        abortedProducers.add(pending.shift().producerId);
                    }
                    if (batch.attributes & IS_CONTROL) {
                        // Control records stay for the MessagesStream's offset tracking.
                        if (batch.records[0]?.key?.readInt16BE(2) === 0) {
                            abortedProducers.delete(batch.producerId);
                        }
                        continue;
                    }
                    if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) {
                        batch.records = [];
                    }
                }
            }
        }
    }
