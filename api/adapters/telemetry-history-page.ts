// One page of a vehicle's archived readings, built from its buckets read in `start` order. The
// archive may hold a reading in two buckets (a replay cut at other flush boundaries), so readings
// are deduplicated by event id; buckets may overlap in time, so the page is complete only when no
// bucket still unread can hold a reading that sorts before its last one.
import {
  readingsOf,
  type ArchivedReading,
  type TelemetryBucket,
} from '../../connectors/sinks/mongodb/telemetry-buckets.ts';
import type { TelemetryCursor } from '../ports.ts';

export interface HistoryPageQuery {
  /** Event time, inclusive. */
  from?: number;
  /** Event time, exclusive. */
  to?: number;
  /** Only readings after this (eventTime, eventId). */
  after?: TelemetryCursor;
  limit: number;
}

/** (eventTime, eventId) order, the API's. */
export function compareReadings(a: ArchivedReading, b: ArchivedReading): number {
  if (a.eventTime !== b.eventTime) return a.eventTime - b.eventTime;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** The lowest event time a reading of the page can have, for the bucket query. */
export function lowestEventTime(query: HistoryPageQuery): number | undefined {
  const bounds = [query.from, query.after?.eventTime].filter((t) => t !== undefined);
  return bounds.length === 0 ? undefined : Math.max(...bounds);
}

export class HistoryPage {
  private readonly query: HistoryPageQuery;
  private readonly byEventId = new Map<string, ArchivedReading>();

  constructor(query: HistoryPageQuery) {
    this.query = query;
  }

  /** Takes a bucket's readings that belong in the page; a reading seen before counts once. */
  add(bucket: TelemetryBucket): void {
    for (const reading of readingsOf(bucket))
      if (this.admits(reading) && !this.byEventId.has(reading.eventId))
        this.byEventId.set(reading.eventId, reading);
  }

  /**
   * Whether the page is final before a bucket starting at `nextStart` (buckets are read in
   * `start` order, so every later one starts there or after): it is once `limit` readings sort
   * before anything such a bucket can hold, i.e. the limit-th starts earlier than `nextStart`.
   */
  completeBefore(nextStart: number): boolean {
    if (this.byEventId.size < this.query.limit) return false;
    const page = this.readings();
    const last = page.at(-1);
    return page.length >= this.query.limit && last !== undefined && last.eventTime < nextStart;
  }

  /** The page: at most `limit` readings in (eventTime, eventId) order. */
  readings(): ArchivedReading[] {
    return [...this.byEventId.values()].sort(compareReadings).slice(0, this.query.limit);
  }

  private admits(reading: ArchivedReading): boolean {
    const { from, to, after } = this.query;
    if (from !== undefined && reading.eventTime < from) return false;
    if (to !== undefined && reading.eventTime >= to) return false;
    if (after === undefined) return true;
    return (
      reading.eventTime > after.eventTime ||
      (reading.eventTime === after.eventTime && reading.eventId > after.eventId)
    );
  }
}
