                if (hasResponseHeaderTaggedFields) {
                    this.#responseReader.skip(EMPTY_OR_SINGLE_COMPACT_LENGTH_SIZE);
                }
                // Continuum patch (patches/apply.mjs): a response that came in several socket chunks
                // was parsed across them, and @platformatic/dynamic-buffer finds a byte's chunk by
                // walking the chunks from the first for every read: O(records × chunks) for a large
                // fetch, a third of the CPU of a backlog's consumer. The response is made one buffer
                // first (one copy); the bytes parsed are the same.
                const response = this.#responseReader.buffer.subarray(this.#responseReader.position, this.#nextMessage + INT32_SIZE);
                deserialized = parser(correlationId, apiKey, apiVersion, new Reader(response.buffers.length > 1
                    ? new DynamicBuffer(Buffer.concat(response.buffers, response.length))
                    : response));
