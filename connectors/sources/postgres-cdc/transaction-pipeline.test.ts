// Transaction buffering, commit-ordered writes and confirm-after-write, with in-memory fakes of
// the two ports (ChangeWriter, PositionAcknowledger).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pgoutput } from 'pg-logical-replication';
import { createLogger } from '../../../core/logger.ts';
import { toShipment, type KeyedChange } from './row-conversion.ts';
import {
  TransactionPipeline,
  type ChangeWriter,
  type PositionAcknowledger,
  type ReplicationEvent,
} from './transaction-pipeline.ts';

const log = createLogger('silent');

function relation(name: string): Pgoutput.MessageRelation {
  return {
    tag: 'relation',
    relationOid: 1,
    schema: 'public',
    name,
    replicaIdentity: 'full',
    columns: [],
    keyColumns: [],
  };
}

function row(id: string, seq: number): Record<string, unknown> {
  const t = new Date('2026-01-01T00:00:00Z');
  return {
    shipment_id: id,
    customer_id: 'c',
    origin_id: 'o',
    origin_lat: 1,
    origin_lon: 2,
    destination_id: 'd',
    destination_lat: 3,
    destination_lon: 4,
    vehicle_id: null,
    status: seq === 1 ? 'CREATED' : 'ASSIGNED',
    weight_kg: 1,
    promised_at: t,
    created_at: t,
    updated_at: t,
    change_seq: String(seq),
  };
}

const begin = (xid: number, lsn: string): ReplicationEvent => ({
  kind: 'message',
  lsn,
  message: { tag: 'begin', commitLsn: null, commitTime: 0n, xid },
});
const insert = (lsn: string, id: string, table = 'shipments'): ReplicationEvent => ({
  kind: 'message',
  lsn,
  message: { tag: 'insert', relation: relation(table), new: row(id, 1) },
});
const update = (lsn: string, id: string, seq: number): ReplicationEvent => ({
  kind: 'message',
  lsn,
  message: {
    tag: 'update',
    relation: relation('shipments'),
    key: null,
    old: row(id, seq - 1),
    new: row(id, seq),
  },
});
const commit = (endLsn: string, micros = 1_772_000_000_000_000n): ReplicationEvent => ({
  kind: 'message',
  lsn: endLsn,
  message: { tag: 'commit', flags: 0, commitLsn: null, commitEndLsn: endLsn, commitTime: micros },
});
const keepalive = (walEnd: string): ReplicationEvent => ({ kind: 'keepalive', walEnd });
const truncate = (lsn: string, ...tables: string[]): ReplicationEvent => ({
  kind: 'message',
  lsn,
  message: {
    tag: 'truncate',
    cascade: false,
    restartIdentity: false,
    relations: tables.map(relation),
  },
});

/** Records every call in one log, so the test sees writes and confirmations in order. */
class FakePorts implements ChangeWriter, PositionAcknowledger {
  readonly calls: string[] = [];
  readonly written: KeyedChange[][] = [];
  /** When set, the next write waits for this promise (Kafka slow) or fails (Kafka down). */
  gate: Promise<void> | undefined;

  async write(changes: readonly KeyedChange[]): Promise<void> {
    this.calls.push(
      `write ${changes.map((c) => `${c.key}#${c.change.after?.changeSeq}`).join(',')}`,
    );
    if (this.gate) await this.gate;
    this.written.push([...changes]);
    this.calls.push('written');
  }

  acknowledge(lsn: string): Promise<void> {
    this.calls.push(`ack ${lsn}`);
    return Promise.resolve();
  }
}

let spillDirectory: string;
beforeEach(() => {
  spillDirectory = mkdtempSync(join(tmpdir(), 'cdc-spill-test-'));
});
afterEach(() => rmSync(spillDirectory, { recursive: true, force: true }));

function pipelineWith(
  ports: FakePorts,
  onFailure?: (err: unknown) => void,
  extra: { spillAfterChanges?: number; spilled?: number[] } = {},
): TransactionPipeline {
  return new TransactionPipeline({
    table: 'public.shipments',
    slot: 'continuum_shipments',
    writer: ports,
    acknowledger: ports,
    startLsn: '0/100',
    maxBatchChanges: 3,
    spill: { afterChanges: extra.spillAfterChanges ?? 1_000, directory: spillDirectory },
    log,
    onFailure,
    observer: { spilled: ({ changes }) => extra.spilled?.push(changes) },
  });
}

/** BEGIN, `count` inserts of ids `${prefix}0…`, COMMIT, at LSNs from `base` on. */
function bigTransaction(xid: number, base: number, prefix: string, count: number) {
  const at = (offset: number): string => `0/${(base + offset).toString(16)}`;
  const events: ReplicationEvent[] = [begin(xid, at(0))];
  for (let i = 0; i < count; i += 1) events.push(insert(at(0x10 * (i + 1)), `${prefix}${i}`));
  events.push(commit(at(0x10 * (count + 1))));
  return { events, commitLsn: at(0x10 * (count + 1)) };
}

describe('TransactionPipeline', () => {
  test('a TRUNCATE of the table stops it with the cause and the next step, after writing what came before', async () => {
    const ports = new FakePorts();
    const failures: unknown[] = [];
    const pipeline = pipelineWith(ports, (err) => failures.push(err));
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), commit('0/220')]) pipeline.push(e);
    // Another table's TRUNCATE is none of its business.
    for (const e of [begin(2, '0/300'), truncate('0/310', 'audit'), commit('0/320')])
      pipeline.push(e);
    for (const e of [begin(3, '0/400'), truncate('0/410', 'audit', 'shipments'), commit('0/420')])
      pipeline.push(e);
    pipeline.push(insert('0/430', 'B'));
    await pipeline.drain().catch(() => undefined);
    expect(ports.calls).toEqual(['write A#1', 'written', 'ack 0/320']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      code: 'CDC_TRUNCATE',
      retriable: false,
      context: { table: 'public.shipments', slot: 'continuum_shipments', lsn: '0/410' },
    });
    expect(String((failures[0] as Error).message)).toMatch(
      /public\.shipments was truncated .*pg_drop_replication_slot\('continuum_shipments'\)/,
    );
  });

  test('writes a transaction only at its COMMIT, then confirms its commit end LSN', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    pipeline.push(begin(7, '0/200'));
    pipeline.push(insert('0/210', 'A'));
    pipeline.push(update('0/220', 'A', 2));
    await pipeline.drain();
    expect(ports.calls).toEqual([]);
    expect(pipeline.idle).toBe(false);

    pipeline.push(commit('0/230'));
    await pipeline.drain();
    expect(ports.calls).toEqual(['write A#1,A#2', 'written', 'ack 0/230']);
    const [first, second] = ports.written[0] ?? [];
    expect(first?.change.source).toEqual({
      lsn: 0x210,
      commitLsn: 0x230,
      txId: 7,
      table: 'public.shipments',
      snapshot: false,
    });
    expect(second?.change.source.lsn).toBe(0x220);
    expect(first?.change.commitTime).toBe(1_772_000_000_000);
    expect(pipeline.acknowledgedLsn).toBe('0/230');
    expect(pipeline.idle).toBe(true);
  });

  test('commits queued together are written as one batch in commit order, confirmed only after the ack', async () => {
    const ports = new FakePorts();
    const kafka = Promise.withResolvers<void>();
    ports.gate = kafka.promise;
    const pipeline = pipelineWith(ports);
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), commit('0/220')]) pipeline.push(e);
    for (const e of [begin(2, '0/300'), insert('0/310', 'B'), commit('0/320'), keepalive('0/400')])
      pipeline.push(e);
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(ports.calls).toEqual(['write A#1,B#1']);
    expect(pipeline.backlog).toBeGreaterThan(0);

    kafka.resolve();
    await pipeline.drain();
    expect(ports.calls).toEqual(['write A#1,B#1', 'written', 'ack 0/320', 'ack 0/400']);
  });

  test('a batch closes at maxBatchChanges; a commit alone in the queue is written at once', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    ['A', 'B', 'C', 'D'].forEach((id, i) => {
      const base = 0x200 + i * 0x100;
      pipeline.push(begin(i + 1, `0/${base.toString(16)}`));
      pipeline.push(insert(`0/${(base + 0x10).toString(16)}`, id));
      pipeline.push(commit(`0/${(base + 0x20).toString(16)}`));
    });
    await pipeline.drain();
    // maxBatchChanges is 3 in these tests.
    expect(ports.calls).toEqual([
      'write A#1,B#1,C#1',
      'written',
      'ack 0/420',
      'write D#1',
      'written',
      'ack 0/520',
    ]);

    pipeline.push(begin(9, '0/600'));
    pipeline.push(insert('0/610', 'E'));
    pipeline.push(commit('0/620'));
    await pipeline.drain();
    expect(ports.calls.slice(-3)).toEqual(['write E#1', 'written', 'ack 0/620']);
  });

  test('a committed transaction is not held back by the BEGIN of the next one', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), commit('0/220'), begin(2, '0/300')])
      pipeline.push(e);
    await pipeline.drain();
    expect(ports.calls).toEqual(['write A#1', 'written', 'ack 0/220']);
    expect(pipeline.idle).toBe(false);
  });

  test('a transaction that never commits is neither written nor confirmed', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), keepalive('0/300')]) pipeline.push(e);
    await pipeline.drain();
    expect(ports.calls).toEqual([]);
    expect(pipeline.acknowledgedLsn).toBe('0/100');
  });

  test('keepalives between transactions confirm the server position, never backwards', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    pipeline.push(keepalive('0/500'));
    pipeline.push(keepalive('0/480'));
    pipeline.push(keepalive('0/100'));
    await pipeline.drain();
    expect(ports.calls).toEqual(['ack 0/500']);
    expect(pipeline.acknowledgedLsn).toBe('0/500');
  });

  test('changes of other tables are skipped; their transaction is still confirmed', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    for (const e of [begin(1, '0/200'), insert('0/210', 'X', 'other_table'), commit('0/220')])
      pipeline.push(e);
    for (const e of [
      begin(2, '0/300'),
      insert('0/310', 'X', 'other_table'),
      insert('0/320', 'B'),
      commit('0/330'),
    ])
      pipeline.push(e);
    await pipeline.drain();
    expect(ports.calls).toEqual(['write B#1', 'written', 'ack 0/330']);
  });

  test('a failed write stops the pipeline: that commit and everything after stay unconfirmed', async () => {
    const ports = new FakePorts();
    ports.gate = Promise.reject(new Error('broker down'));
    ports.gate.catch(() => undefined);
    const failures: unknown[] = [];
    const pipeline = pipelineWith(ports, (err) => failures.push(err));
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), commit('0/220'), keepalive('0/300')])
      pipeline.push(e);
    await expect(pipeline.drain()).rejects.toThrow('broker down');
    pipeline.push(keepalive('0/400'));
    await expect(pipeline.drain()).rejects.toThrow('broker down');
    expect(ports.calls).toEqual(['write A#1']);
    expect(failures).toHaveLength(1);
    expect(pipeline.acknowledgedLsn).toBe('0/100');
  });

  test('a COMMIT without BEGIN is a decode error, not a silent skip', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports);
    pipeline.push(commit('0/220'));
    await expect(pipeline.drain()).rejects.toMatchObject({ code: 'CDC_DECODE_FAILED' });
  });

  test('a transaction over the in-memory limit goes through a spill file: whole, in order, stamped, confirmed after; the file is deleted', async () => {
    const ports = new FakePorts();
    const spilled: number[] = [];
    const pipeline = pipelineWith(ports, undefined, { spillAfterChanges: 2, spilled });
    const small = bigTransaction(1, 0x1000, 'S', 1);
    const big = bigTransaction(2, 0x2000, 'B', 7);
    for (const e of [...small.events, ...big.events]) pipeline.push(e);
    await pipeline.drain();

    // Never more than 2 changes held: 6 of the 7 went to the file as they arrived.
    expect(spilled).toEqual([2, 2, 2]);
    expect(ports.calls).toEqual([
      'write S0#1',
      'written',
      `ack ${small.commitLsn}`,
      'write B0#1,B1#1,B2#1',
      'written',
      'write B3#1,B4#1,B5#1',
      'written',
      'write B6#1',
      'written',
      `ack ${big.commitLsn}`,
    ]);
    const bigChanges = ports.written.slice(1).flat();
    expect(bigChanges.map((c) => c.change.source.lsn)).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map((i) => 0x2000 + 0x10 * i),
    );
    expect(new Set(bigChanges.map((c) => c.change.source.commitLsn))).toEqual(
      new Set([0x2000 + 0x10 * 8]),
    );
    expect(new Set(bigChanges.map((c) => c.change.commitTime))).toEqual(
      new Set([1_772_000_000_000]),
    );
    // Read back from JSON exactly as converted (Date columns became epoch ms before the file).
    expect(bigChanges[0]?.change.after).toEqual(toShipment(row('B0', 1)));
    expect(readdirSync(spillDirectory)).toEqual([]);
    expect(pipeline.idle).toBe(true);
  });

  test('a failed write of a spilled transaction leaves it unconfirmed and deletes its file', async () => {
    const ports = new FakePorts();
    ports.gate = Promise.reject(new Error('broker down'));
    ports.gate.catch(() => undefined);
    const failures: unknown[] = [];
    const pipeline = pipelineWith(ports, (err) => failures.push(err), { spillAfterChanges: 2 });
    for (const e of bigTransaction(1, 0x1000, 'B', 5).events) pipeline.push(e);
    await expect(pipeline.drain()).rejects.toThrow('broker down');
    await pipeline.close();
    expect(failures).toHaveLength(1);
    expect(pipeline.acknowledgedLsn).toBe('0/100');
    expect(readdirSync(spillDirectory)).toEqual([]);
  });

  test('close() deletes the spill file of a transaction still open', async () => {
    const ports = new FakePorts();
    const pipeline = pipelineWith(ports, undefined, { spillAfterChanges: 2 });
    const { events } = bigTransaction(1, 0x1000, 'B', 5);
    for (const e of events.slice(0, -1)) pipeline.push(e);
    await pipeline.drain();
    expect(readdirSync(spillDirectory)).toHaveLength(1);
    await pipeline.close();
    expect(readdirSync(spillDirectory)).toEqual([]);
    expect(ports.calls).toEqual([]);
  });

  test('backlogBelow resolves once the queue has drained to the limit', async () => {
    const ports = new FakePorts();
    const kafka = Promise.withResolvers<void>();
    ports.gate = kafka.promise;
    const pipeline = pipelineWith(ports);
    for (const e of [begin(1, '0/200'), insert('0/210', 'A'), commit('0/220'), keepalive('0/300')])
      pipeline.push(e);
    let drained = false;
    const below = pipeline.backlogBelow(0).then(() => {
      drained = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    kafka.resolve();
    await below;
    expect(pipeline.backlog).toBe(0);
  });
});
