  writeUVarInt(value) {
    // Continuum patch (patches/apply.mjs): kafkajs 2.2.4 built every varint as an array, made a
    // Buffer of it and copied that in: two allocations for each of a record's five or more
    // varints. The bytes now go straight into the encoder's buffer (a varint of 32 bits has at
    // most 5); same bytes.
    this.ensureAvailable(5)
    while ((value & UNSIGNED_INT32_MAX_NUMBER) !== 0) {
      this.buf[this.offset++] = (value & OTHER_BITS) | MOST_SIGNIFICANT_BIT
      value >>>= 7
    }
    this.buf[this.offset++] = value & OTHER_BITS
    return this
  }

