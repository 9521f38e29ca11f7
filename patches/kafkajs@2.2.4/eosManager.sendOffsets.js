      async sendOffsets({ consumerGroupId, topics }) {
        assert(consumerGroupId, 'Missing consumerGroupId')
        assert(topics, 'Missing offset topics')

        const transactionCoordinator = await findTransactionCoordinator()

        // Do we need to add offsets if we've already done so for this consumer group?
        // Continuum patch (patches/apply.mjs): a transaction whose first request this is (it
        // sent no record) is refused with CONCURRENT_TRANSACTIONS while the coordinator still
        // writes the previous transaction's markers; kafkajs 2.2.4 threw that to the caller.
        // Retried every 20 ms for up to ~2 s, as AddPartitionsToTxn (eosManager.addPartitions.js).
        for (let attempt = 1; ; attempt++) {
          try {
            await transactionCoordinator.addOffsetsToTxn({
              transactionalId,
              producerId,
              producerEpoch,
              groupId: consumerGroupId,
            })
            break
          } catch (e) {
            if (e.type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 100) throw e
            await new Promise(resolve => setTimeout(resolve, 20))
          }
        }

