// Our fixes to installed dependencies, and how to tell whether an installed copy carries them.
// Shared by patches/apply.mjs (npm's "postinstall") and the CLI's start-up check, which refuses
// to run on a client without them (an install with --ignore-scripts skips postinstall). Plain
// JavaScript: postinstall may run under a Node.js that cannot strip TypeScript types.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = join(here, '..');

/**
 * A patch replaces one file, or one method (from `start` up to `end`), of one exact dependency
 * version, and only when what it replaces is what that version shipped (sha256), or an earlier
 * version of the patch itself (`supersededSha256`: an install patched before it changed). Why each
 * patch exists: `why`, the top of its replacement, and README.md ("Patched dependencies").
 */
export const PATCHES = [
  {
    why: 'read_committed let aborted records through (interleaved producers, out-of-order aborts)',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/consumer/filterAbortedMessages.js',
    replacement: 'kafkajs@2.2.4/filterAbortedMessages.js',
    originalSha256: '54ce50f2a41ee1686da8b73bf8b502c7dd07c9d7cb0a494cdb36a7fc536ced8e',
  },
  {
    why: 'a record batch that compaction emptied (or cut short at its end) was never fetched past',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/requests/fetch/v4/decodeMessages.js',
    start: '        const recordBatch = await RecordBatchDecoder(messagesDecoder)\n',
    end: '      } catch (e) {',
    replacement: 'kafkajs@2.2.4/decodeMessages.batch.js',
    originalSha256: '8efd33b152c9df9f9078cd882f83b75490af9ff9d1c114c1e72360651aebc9a1',
  },
  {
    why: "grouping a send's messages per partition was quadratic in the messages per partition",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/producer/groupMessagesPerPartition.js',
    replacement: 'kafkajs@2.2.4/groupMessagesPerPartition.js',
    originalSha256: 'ea72357721fbf67770b5e06b9bf4260faa1e60f3affb556bff2cc7892c1881fb',
  },
  {
    why: "a record's timestamp delta went through kafkajs's Long (15 % of the telemetry SDK's CPU); each record and header had an encoder grown from 512 bytes",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/recordBatch/record/v0/index.js',
    replacement: 'kafkajs@2.2.4/recordV0.js',
    originalSha256: 'ffbc628c1f35f5de8ba798165616b1009d9af1c27ca959999a10e6e3c18f8215',
    // An earlier version of this patch (Long only): replaced too, as if unpatched.
    supersededSha256: ['7ac540a27b8b50161088c971f58fb6cfca7c4756965ea0ffd58b218dbdddf550'],
  },
  {
    why: 'every varint of a record was an array made into a Buffer and copied in',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/encoder.js',
    start: '  writeUVarInt(value) {\n',
    end: '  writeVarLong(value) {',
    replacement: 'kafkajs@2.2.4/encoder.varint.js',
    originalSha256: 'd1c98356a0275b93148c355f21594081c7d27270f9f68c8a40c1d66f782527b6',
  },
  {
    why: 'a record batch was copied through three growing encoders (body, CRC, offset and length)',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/recordBatch/v0/index.js',
    replacement: 'kafkajs@2.2.4/recordBatchV0.js',
    originalSha256: '6d6b63a8959ff0b9ea1198b2d4ec0af940a4c92d5c793bb592310ab46f99df30',
  },
  {
    why: 'a produce request copied each record batch through partition, topic and request encoders, each grown from 512 bytes',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/requests/produce/v3/request.js',
    replacement: 'kafkajs@2.2.4/produceV3.request.js',
    originalSha256: '993a3db997827088f5acb08cacf3c67a99ec2886303ff465d244329b8a1c7f99',
  },
  {
    why: "every request's payload was copied twice through growing encoders (header, then size)",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/request.js',
    replacement: 'kafkajs@2.2.4/request.js',
    originalSha256: '2270900ca6474026c11957fe71ac586881985460ed2554db22ad8870dcaff634',
  },
  {
    why: "every record batch's CRC-32C was computed in JavaScript, a byte at a time (~6 % of the pipeline's CPU)",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/recordBatch/crc32C/index.js',
    replacement: 'kafkajs@2.2.4/crc32C.index.js',
    originalSha256: '0826ea7387f25400b1a24bacdbba85db9c1f2e932f168874728a9ecaf1eb2379',
  },
  {
    why: "every encoder's buffer was zero-filled, though only bytes written are read (~5 % of the pipeline's CPU)",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/protocol/encoder.js',
    start: '  constructor(initialSize = 511) {\n',
    end: '  get buffer() {',
    replacement: 'kafkajs@2.2.4/encoder.alloc.js',
    originalSha256: 'f298fc7df16d2c8bfb28e6f87b1d8c3572fef7fcab3d677694674f2d98bdfa31',
  },
  {
    why: 'a consumer stopped while its restart was still connecting joined the group afterwards, or restarted for ever',
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/consumer/runner.js',
    start: '  async start() {\n',
    end: '  waitForConsumer() {',
    replacement: 'kafkajs@2.2.4/runner.start-stop.js',
    originalSha256: '6be33d82e3c7fe1132fe28e64b25fa2de9f57b866dd10682926177fceb77a58b',
  },
  {
    why: "a transaction's first AddPartitionsToTxn, refused while the previous one's markers were written, was retried after ~300 ms",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/producer/eosManager/index.js',
    start: '      async addPartitionsToTransaction(topicData) {\n',
    end: '      async commit() {',
    replacement: 'kafkajs@2.2.4/eosManager.addPartitions.js',
    originalSha256: '52348fbab9365fadcfd9a9974423a92f96e0cdb9746e87db26c0c4dc6581fe2a',
  },
  {
    why: "a transaction's first AddOffsetsToTxn, refused while the previous one's markers were written, failed the commit",
    name: 'kafkajs',
    version: '2.2.4',
    file: 'src/producer/eosManager/index.js',
    start: '      async sendOffsets({ consumerGroupId, topics }) {\n',
    end: '        hasOffsetsAddedToTransaction = true\n',
    replacement: 'kafkajs@2.2.4/eosManager.sendOffsets.js',
    originalSha256: 'aaf2267f19eea893559093a233d3ab1a368f07539e0a67cd5f28e301eaa3a25a',
  },
  {
    why: 'read_committed let aborted records through (repeated aborts, marker in a later response)',
    name: '@platformatic/kafka',
    version: '2.12.1',
    file: 'dist/clients/consumer/consumer.js',
    start: '    #filterUncommittedMessages(response) {',
    end: '    #getRejoinError(error) {',
    replacement: '@platformatic+kafka@2.12.1/filterUncommittedMessages.js',
    originalSha256: 'a7086647afb32fc7c4f38206827a9bb89b39b7c1a6be9ee34f8e18a8ee04062a',
  },
  {
    why: "a response that came in several socket chunks was parsed across them, each read walking the chunks from the first (a third of a backlog consumer's CPU)",
    name: '@platformatic/kafka',
    version: '2.12.1',
    file: 'dist/network/connection.js',
    start: '                if (hasResponseHeaderTaggedFields) {\n',
    end: '            }\n            catch (error) {\n                responseError = error;',
    replacement: '@platformatic+kafka@2.12.1/connection.onData.js',
    originalSha256: 'c798024eaf30c12bbe2f7dd951805ce883e214004761c12317700c39b880dd21',
  },
];

export const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** The part of `text` a patch replaces: the whole file, or its [start, end) section. */
export function section(text, patch) {
  if (!patch.start) return { from: 0, to: text.length };
  const from = text.indexOf(patch.start);
  const to = from < 0 ? -1 : text.indexOf(patch.end, from);
  return from < 0 || to < 0 ? undefined : { from, to };
}

/**
 * Where each patch stands in the installed dependencies under `root`: 'patched', 'unpatched'
 * (what that version shipped: apply.mjs will patch it), 'different' (another version or
 * content: review the patch) or 'absent' (the package is not installed).
 */
export function patchStatuses(root = PROJECT_ROOT) {
  return PATCHES.map((patch) => patchStatus(patch, root));
}

/**
 * Where one patch stands, read from the installed file now: apply.mjs asks again before each
 * patch, so patches of different sections of one file see each other's writes.
 */
export function patchStatus(patch, root = PROJECT_ROOT) {
  const packageDir = join(root, 'node_modules', patch.name);
  const target = join(packageDir, patch.file);
  if (!existsSync(packageDir) || !existsSync(target))
    return { patch, target, state: 'absent', version: undefined, text: undefined };
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
  const replacement = readFileSync(join(here, patch.replacement), 'utf8');
  const text = readFileSync(target, 'utf8');
  const at = section(text, patch);
  const current = at && text.slice(at.from, at.to);
  const state =
    current === replacement
      ? 'patched'
      : version === patch.version &&
          current !== undefined &&
          [patch.originalSha256, ...(patch.supersededSha256 ?? [])].includes(sha256(current))
        ? 'unpatched'
        : 'different';
  return { patch, target, state, version, text, replacement, at };
}
