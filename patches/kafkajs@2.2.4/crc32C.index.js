// Continuum patch (patches/apply.mjs): kafkajs 2.2.4 computes every record batch's CRC-32C in
// JavaScript, a byte at a time (~6 % of the pipeline benchmark's CPU). @node-rs/crc32 (installed
// with @platformatic/kafka, which uses it the same way) computes the same checksum natively
// (SSE 4.2); without it, as before.
const crc32C = require('./crc32C')

let native
try {
  native = require('@node-rs/crc32').crc32c
} catch {
  native = undefined
}

module.exports = native ? buffer => native(buffer) >>> 0 : buffer => crc32C(buffer) >>> 0
