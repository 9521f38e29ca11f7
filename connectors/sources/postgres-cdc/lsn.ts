// PostgreSQL log sequence numbers: the `X/Y` text form (two hex halves of a 64-bit position)
// and the number carried in ShipmentChange.source (exact below 2^53, i.e. 8 PiB of WAL).

const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const HALF = 2 ** 32;

export function lsnToNumber(lsn: string): number {
  const match = LSN_PATTERN.exec(lsn);
  if (!match) throw new RangeError(`not an LSN: ${JSON.stringify(lsn)}`);
  return Number.parseInt(match[1] ?? '0', 16) * HALF + Number.parseInt(match[2] ?? '0', 16);
}

export function numberToLsn(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`not an LSN position: ${value}`);
  const high = Math.floor(value / HALF);
  const low = value - high * HALF;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}

export function compareLsn(a: string, b: string): number {
  return Math.sign(lsnToNumber(a) - lsnToNumber(b));
}

export function maxLsn(a: string, b: string): string {
  return compareLsn(a, b) >= 0 ? a : b;
}
