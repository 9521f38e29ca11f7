// The heart of the source: replication events go in, in arrival order, and are handled one at
// a time. A transaction's changes are buffered from BEGIN to COMMIT, written to Kafka when the
// COMMIT arrives (together with commits already queued behind it), and only once Kafka
// acknowledged all of them is the commit LSN confirmed to PostgreSQL — so the slot never
// forgets what Kafka does not have. A transaction larger than `spill.afterChanges` goes on to
// a file as it arrives (SpilledChanges) and is read back in chunks at its COMMIT: memory stays
// bounded whatever a transaction's size.
import type { Pgoutput } from 'pg-logical-replication';
import type { Logger } from '../../../core/logger.ts';
import type { ChangeOp } from '../../../schemas/types.ts';
import { CdcDecodeError, CdcTruncateError } from './errors.ts';
import { compareLsn, lsnToNumber } from './lsn.ts';
import {
  changeFromPgoutput,
  commitTimeMillis,
  isRowChange,
  type KeyedChange,
} from './row-conversion.ts';
import { SpilledChanges } from './spilled-changes.ts';

/** Where changes go: resolves once Kafka acknowledged every record (acks=all). */
export interface ChangeWriter {
  write(changes: readonly KeyedChange[]): Promise<void>;
}

/** Confirms to PostgreSQL that everything before `lsn` is safe (the slot's confirmed_flush_lsn). */
export interface PositionAcknowledger {
  acknowledge(lsn: string): Promise<void>;
}

export type ReplicationEvent =
  | { kind: 'message'; lsn: string; message: Pgoutput.Message }
  /** A primary keepalive: the server has decoded the WAL up to walEnd and sent all it had to. */
  | { kind: 'keepalive'; walEnd: string };

export interface PipelineObserver {
  transactionProduced?(info: {
    xid: number;
    commitLsn: string;
    commitTime: number;
    /** Changes written, per operation. */
    ops: ReadonlyMap<ChangeOp, number>;
  }): void;
  acknowledged?(lsn: string): void;
  /** An open transaction moved `changes` more of its changes to its spill file. */
  spilled?(info: { xid: number; changes: number; path: string }): void;
}

export interface TransactionPipelineOptions {
  /** Only changes of this relation (`schema.table`) are kept; others in the publication are skipped. */
  table: string;
  /** The replication slot, named in what a stop asks the operator to do. */
  slot: string;
  writer: ChangeWriter;
  acknowledger: PositionAcknowledger;
  /** Committed changes gathered into one write at most (a single bigger transaction is still written whole). */
  maxBatchChanges: number;
  /** Confirmed position when the pipeline starts (the slot's confirmed_flush_lsn). */
  startLsn: string;
  /**
   * An open transaction with more than `afterChanges` changes is kept in a file in `directory`
   * from then on (appended `afterChanges` at a time) instead of in memory.
   */
  spill: { afterChanges: number; directory: string };
  log: Logger;
  observer?: PipelineObserver;
  /** Called once, with the first error; the pipeline handles nothing after it. */
  onFailure?(err: unknown): void;
}

interface CommittedTransaction {
  xid: number;
  commitLsn: string;
  commitTime: number;
  changes: KeyedChange[];
}

interface OpenTransaction {
  xid: number;
  /** Converted on arrival; commitLsn and commitTime are stamped at the COMMIT. */
  changes: KeyedChange[];
  /** Where the changes before `changes` went once the transaction passed the spill limit. */
  spill: SpilledChanges | undefined;
}

export class TransactionPipeline {
  private readonly options: TransactionPipelineOptions;
  private readonly log: Logger;
  private open: OpenTransaction | undefined;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: Error | undefined;
  private lastAcked: string;
  private backlogWaiters: { limit: number; resolve: () => void }[] = [];
  /** Committed transactions waiting to be written together (see flush). */
  private committed: CommittedTransaction[] = [];
  private committedChanges = 0;

  constructor(options: TransactionPipelineOptions) {
    this.options = options;
    this.log = options.log;
    this.lastAcked = options.startLsn;
  }

  /** Queues an event; events are handled strictly in the order given. */
  push(event: ReplicationEvent): void {
    if (this.failure !== undefined) return;
    this.queued += 1;
    this.tail = this.tail
      .then(() => (this.failure === undefined ? this.handleAndFlush(event) : undefined))
      .catch((err: unknown) => {
        // The first failure stops the pipeline: the caller reconnects and PostgreSQL resends
        // from the last confirmed LSN, so nothing after it may be confirmed any more.
        if (this.failure !== undefined) return;
        this.failure = err instanceof Error ? err : new Error(String(err));
        this.options.onFailure?.(err);
      })
      .finally(() => {
        this.queued -= 1;
        this.backlogWaiters = this.backlogWaiters.filter((w) => {
          if (this.queued > w.limit && this.failure === undefined) return true;
          w.resolve();
          return false;
        });
      });
  }

  /** Events pushed and not yet handled. */
  get backlog(): number {
    return this.queued;
  }

  /** Resolves once at most `limit` events wait (or the pipeline failed): for back-pressure. */
  backlogBelow(limit: number): Promise<void> {
    if (this.queued <= limit || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.backlogWaiters.push({ limit, resolve }));
  }

  /** No transaction half-received and nothing waiting: safe to confirm the server's position. */
  get idle(): boolean {
    return this.open === undefined && this.queued === 0 && this.committed.length === 0;
  }

  get acknowledgedLsn(): string {
    return this.lastAcked;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves when every event pushed so far is handled; rejects with the first failure. */
  async drain(): Promise<void> {
    await this.tail;
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * After the last push: waits for what is queued and deletes the spill file of a transaction
   * still open (PostgreSQL sends it again from the confirmed position on the next connection).
   */
  async close(): Promise<void> {
    await this.tail;
    const spill = this.open?.spill;
    this.open = undefined;
    await spill?.discard();
  }

  private async handleAndFlush(event: ReplicationEvent): Promise<void> {
    await this.handle(event);
    // Flush when nothing else waits (this event is the last queued) or the batch is full;
    // otherwise the next queued commits join the same write.
    if (this.queued <= 1 || this.committedChanges >= this.options.maxBatchChanges) {
      await this.flush();
    }
  }

  private async handle(event: ReplicationEvent): Promise<void> {
    if (event.kind === 'keepalive') {
      // Between transactions everything the server decoded before walEnd has been handled,
      // so confirming walEnd loses nothing and lets the slot release WAL of other tables.
      if (this.open === undefined) {
        await this.flush();
        await this.confirm(event.walEnd);
      }
      return;
    }
    const { message, lsn } = event;
    switch (message.tag) {
      case 'begin':
        if (this.open !== undefined) {
          throw new CdcDecodeError('BEGIN inside an open transaction', {
            context: { openXid: this.open.xid, xid: message.xid, lsn },
          });
        }
        this.open = { xid: message.xid, changes: [], spill: undefined };
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        if (!isRowChange(message)) return;
        if (`${message.relation.schema}.${message.relation.name}` !== this.options.table) return;
        if (this.open === undefined) {
          throw new CdcDecodeError(`${message.tag} outside a transaction`, { context: { lsn } });
        }
        const open = this.open;
        // The commit's position is not known before its COMMIT: stamped in commit().
        open.changes.push(
          changeFromPgoutput(message, {
            lsn: lsnToNumber(lsn),
            commitLsn: 0,
            txId: open.xid,
            commitTime: 0,
          }),
        );
        if (open.changes.length >= this.options.spill.afterChanges) await this.spillOpen(open);
        return;
      }
      case 'commit':
        await this.commit(message, lsn);
        return;
      case 'truncate': {
        const relations = message.relations.map((r) => `${r.schema}.${r.name}`);
        if (!relations.includes(this.options.table)) return;
        // ShipmentChange has no TRUNCATE op and a TRUNCATE names no rows: stop rather than let
        // the state drift. What committed before it is written and confirmed first.
        await this.flush();
        throw new CdcTruncateError(this.options.table, this.options.slot, lsn);
      }
      default:
        // relation, type, origin and logical messages carry no row change.
        return;
    }
  }

  private async spillOpen(open: OpenTransaction): Promise<void> {
    if (open.spill === undefined) {
      open.spill = await SpilledChanges.create(
        this.options.spill.directory,
        this.options.slot,
        open.xid,
      );
      this.log.info(
        { xid: open.xid, path: open.spill.path, afterChanges: this.options.spill.afterChanges },
        'transaction larger than the in-memory limit: spilling its changes to disk',
      );
    }
    const moved = open.changes.length;
    await open.spill.append(open.changes);
    open.changes = [];
    this.options.observer?.spilled?.({ xid: open.xid, changes: moved, path: open.spill.path });
  }

  private async commit(message: Pgoutput.MessageCommit, lsn: string): Promise<void> {
    const open = this.open;
    if (open === undefined) {
      throw new CdcDecodeError('COMMIT without BEGIN', { context: { lsn } });
    }
    const commitLsn = message.commitEndLsn ?? lsn;
    const commitTime = commitTimeMillis(message.commitTime);
    const stamp = (changes: readonly KeyedChange[]): void => {
      for (const { change } of changes) {
        change.source.commitLsn = lsnToNumber(commitLsn);
        change.commitTime = commitTime;
      }
    };
    if (open.spill === undefined) {
      stamp(open.changes);
      this.open = undefined;
      this.committed.push({ xid: open.xid, commitLsn, commitTime, changes: open.changes });
      this.committedChanges += open.changes.length;
      return;
    }
    await this.writeSpilled(open, { commitLsn, commitTime, stamp });
  }

  /**
   * A spilled transaction is written on its own, after every commit before it, a chunk at a
   * time straight from its file; its commit LSN is confirmed once Kafka has all of it. A failure
   * part-way leaves it unconfirmed: PostgreSQL sends it whole again and consumers drop what they
   * already applied by its (commitLsn, lsn) position.
   */
  private async writeSpilled(
    open: OpenTransaction,
    commit: {
      commitLsn: string;
      commitTime: number;
      stamp: (changes: readonly KeyedChange[]) => void;
    },
  ): Promise<void> {
    const spill = open.spill;
    if (spill === undefined) return;
    try {
      await this.flush();
      await spill.append(open.changes);
      open.changes = [];
      const ops = new Map<ChangeOp, number>();
      for await (const chunk of spill.chunks(this.options.maxBatchChanges)) {
        commit.stamp(chunk);
        await this.options.writer.write(chunk);
        for (const { change } of chunk) ops.set(change.op, (ops.get(change.op) ?? 0) + 1);
      }
      this.open = undefined;
      this.options.observer?.transactionProduced?.({
        xid: open.xid,
        commitLsn: commit.commitLsn,
        commitTime: commit.commitTime,
        ops,
      });
      await this.confirm(commit.commitLsn);
    } finally {
      await spill.discard();
    }
  }

  /**
   * Writes every committed transaction not yet written in one go (commit order kept), then
   * confirms the last one's commit LSN. Batching commits that arrived together is what lets a
   * backlog drain at Kafka's batch speed instead of one round trip per transaction.
   */
  private async flush(): Promise<void> {
    const batch = this.committed;
    if (batch.length === 0) return;
    const changes = batch.flatMap((t) => t.changes);
    if (changes.length > 0) await this.options.writer.write(changes);
    this.committed = [];
    this.committedChanges = 0;
    for (const t of batch) {
      if (t.changes.length === 0) continue;
      const ops = new Map<ChangeOp, number>();
      for (const { change } of t.changes) ops.set(change.op, (ops.get(change.op) ?? 0) + 1);
      this.options.observer?.transactionProduced?.({
        xid: t.xid,
        commitLsn: t.commitLsn,
        commitTime: t.commitTime,
        ops,
      });
    }
    const last = batch[batch.length - 1];
    if (last) await this.confirm(last.commitLsn);
  }

  private async confirm(lsn: string): Promise<void> {
    if (compareLsn(lsn, this.lastAcked) <= 0) return;
    // Advanced before sending: keepalive replies read it concurrently, and the positions sent
    // to the server must never go backwards (PostgreSQL 15 would move the slot back).
    this.lastAcked = lsn;
    await this.options.acknowledger.acknowledge(lsn);
    this.options.observer?.acknowledged?.(lsn);
  }
}
