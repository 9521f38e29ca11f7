      async addPartitionsToTransaction(topicData) {
        transactionalGuard()
        const newTopicPartitions = {}

        topicData.forEach(({ topic, partitions }) => {
          transactionTopicPartitions[topic] = transactionTopicPartitions[topic] || {}

          partitions.forEach(({ partition }) => {
            if (!transactionTopicPartitions[topic][partition]) {
              newTopicPartitions[topic] = newTopicPartitions[topic] || []
              newTopicPartitions[topic].push(partition)
            }
          })
        })

        const topics = Object.keys(newTopicPartitions).map(topic => ({
          topic,
          partitions: newTopicPartitions[topic],
        }))

        if (topics.length) {
          const broker = await findTransactionCoordinator()
          // Continuum patch (patches/apply.mjs): the first AddPartitionsToTxn of a transaction
          // is refused with CONCURRENT_TRANSACTIONS while the coordinator still writes the
          // previous transaction's markers. kafkajs 2.2.4 left that to the send's retrier, whose
          // first backoff is ~300 ms: a task that committed stood still that long. The Java
          // client retries it after 20 ms (TransactionManager's ADD_PARTITIONS_RETRY_BACKOFF_MS);
          // so do we, for up to ~2 s, then leave it to the send's retrier as before.
          for (let attempt = 1; ; attempt++) {
            try {
              await broker.addPartitionsToTxn({ transactionalId, producerId, producerEpoch, topics })
              break
            } catch (e) {
              if (e.type !== 'CONCURRENT_TRANSACTIONS' || attempt >= 100) throw e
              await new Promise(resolve => setTimeout(resolve, 20))
            }
          }
        }

        topics.forEach(({ topic, partitions }) => {
          partitions.forEach(partition => {
            transactionTopicPartitions[topic][partition] = true
          })
        })
      },

      /**
       * Commit the ongoing transaction
       */
