        const recordBatch = await RecordBatchDecoder(messagesDecoder)
        records.push(...recordBatch.records)
        // Patched by continuum (patches/apply.mjs). Compaction can empty a record batch, or drop
        // its last records (an aborted transaction's records are removed, the batch is kept),
        // and kafkajs 2.2.4 then never fetched past it: no record, no offset to resolve, the
        // same fetch again, forever (a changelog restore that stands still). Java's consumer
        // steps to the batch's end; a placeholder control record at the batch's last offset
        // does that here. Control records never reach eachBatch/eachMessage.
        const Long = require('../../../../utils/long')
        const lastOffset = Long.fromValue(recordBatch.firstOffset).add(recordBatch.lastOffsetDelta)
        const lastRecord = recordBatch.records[recordBatch.records.length - 1]
        if (!lastRecord || Long.fromValue(lastRecord.offset).lessThan(lastOffset)) {
          const { records: _records, ...batchContext } = recordBatch
          records.push({
            magicByte: MAGIC_BYTE,
            attributes: 0,
            timestamp: recordBatch.maxTimestamp,
            offset: lastOffset.toString(),
            key: null,
            value: null,
            headers: {},
            isControlRecord: true,
            batchContext,
          })
        }
