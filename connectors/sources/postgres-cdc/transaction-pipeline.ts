// The heart of the source, free of I/O: replication events go in, in arrival order, and are
// handled one at a time. A transaction's changes are buffered from BEGIN to COMMIT, written
// to Kafka when the COMMIT arrives (together with commits already queued behind it), and only
// once Kafka acknowledged all of them is the commit LSN confirmed to PostgreSQL — so the slot
// never forgets what Kafka does not have.
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
  type RowChangeMessage,
} from './row-conversion.ts';

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
    ops: readonly ChangeOp[];
  }): void;
  acknowledged?(lsn: string): void;
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
  changes: { lsn: string; message: RowChangeMessage }[];
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
        this.open = { xid: message.xid, changes: [] };
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        if (!isRowChange(message)) return;
        if (`${message.relation.schema}.${message.relation.name}` !== this.options.table) return;
        if (this.open === undefined) {
          throw new CdcDecodeError(`${message.tag} outside a transaction`, { context: { lsn } });
        }
        this.open.changes.push({ lsn, message });
        return;
      }
      case 'commit':
        this.commit(message, lsn);
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

  private commit(message: Pgoutput.MessageCommit, lsn: string): void {
    const open = this.open;
    if (open === undefined) {
      throw new CdcDecodeError('COMMIT without BEGIN', { context: { lsn } });
    }
    const commitLsn = message.commitEndLsn ?? lsn;
    const commitTime = commitTimeMillis(message.commitTime);
    const position = { commitLsn: lsnToNumber(commitLsn), txId: open.xid, commitTime };
    const changes = open.changes.map((c) =>
      changeFromPgoutput(c.message, { ...position, lsn: lsnToNumber(c.lsn) }),
    );
    this.open = undefined;
    this.committed.push({ xid: open.xid, commitLsn, commitTime, changes });
    this.committedChanges += changes.length;
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
      this.options.observer?.transactionProduced?.({
        xid: t.xid,
        commitLsn: t.commitLsn,
        commitTime: t.commitTime,
        ops: t.changes.map((c) => c.change.op),
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
