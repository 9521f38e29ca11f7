// Where a record came from, carried in headers from the topic of record onwards: a clean reading
// names the telemetry.raw record it was cleaned from, so the state it reaches cites input
// positions that a replay of the same inputs gives again (telemetry.clean's own offsets move
// with every rerun of the cleaner and every transaction marker).
import type { RecordHeaders } from './runtime/kafka-port.ts';

export const LINEAGE_HEADERS = {
  topic: 'continuum.lineage.topic',
  partition: 'continuum.lineage.partition',
  offset: 'continuum.lineage.offset',
} as const;

/** A record's position in its topic. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: number;
}

export function lineageHeaders(position: RecordPosition): RecordHeaders {
  return {
    [LINEAGE_HEADERS.topic]: position.topic,
    [LINEAGE_HEADERS.partition]: String(position.partition),
    [LINEAGE_HEADERS.offset]: String(position.offset),
  };
}

/** The position the headers name, if they name a whole one. */
export function lineageOf(headers: RecordHeaders | undefined): RecordPosition | undefined {
  const text = (name: string): string | undefined => {
    const value = headers?.[name];
    const one = Array.isArray(value) ? value[0] : value;
    return one === undefined ? undefined : one.toString();
  };
  const topic = text(LINEAGE_HEADERS.topic);
  const partition = Number(text(LINEAGE_HEADERS.partition));
  const offset = Number(text(LINEAGE_HEADERS.offset));
  if (!topic || !Number.isInteger(partition) || !Number.isInteger(offset)) return undefined;
  return { topic, partition, offset };
}
