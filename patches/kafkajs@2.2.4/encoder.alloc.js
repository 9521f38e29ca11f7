  constructor(initialSize = 511) {
    // Continuum patch (patches/apply.mjs): kafkajs 2.2.4 zero-filled every encoder's buffer
    // (Buffer.alloc; several encoders per record) and every buffer it grew to. Only the bytes
    // below `offset` are ever read (`buffer`, `writeEncoder`), each written first, so the zeroes
    // were never seen: ~5 % of the pipeline benchmark's CPU. Buffers below 4 KiB now come from
    // Node's pool, unzeroed (here and in ensureAvailable).
    this.buf = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))
    this.offset = 0
  }

  /**
   * @param {Buffer} buffer
   */
  writeBufferInternal(buffer) {
    const bufferLength = buffer.length
    this.ensureAvailable(bufferLength)
    buffer.copy(this.buf, this.offset, 0)
    this.offset += bufferLength
  }

  ensureAvailable(length) {
    if (this.offset + length > this.buf.length) {
      const newLength = Encoder.nextPowerOfTwo(this.offset + length)
      const newBuffer = Buffer.allocUnsafe(newLength)
      this.buf.copy(newBuffer, 0, 0, this.offset)
      this.buf = newBuffer
    }
  }

