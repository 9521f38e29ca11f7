// pgoutput row messages (as pg-logical-replication decodes them) → ShipmentChange.
import type { Pgoutput } from 'pg-logical-replication';
import { CdcDecodeError } from './errors.ts';
import { lsnToNumber, numberToLsn } from './lsn.ts';
import {
  changeFromPgoutput,
  commitTimeMillis,
  snapshotChange,
  toShipment,
} from './row-conversion.ts';

const relation: Pgoutput.MessageRelation = {
  tag: 'relation',
  relationOid: 16384,
  schema: 'logistics',
  name: 'shipments',
  replicaIdentity: 'full',
  columns: [],
  keyColumns: [],
};

// Values as pg's default type parsers produce them: timestamptz → Date, float8 → number, int8 → string.
function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    shipment_id: 'SHP-000042',
    customer_id: 'CUS-7',
    origin_id: 'DEPOT-1',
    origin_lat: 52.52,
    origin_lon: 13.405,
    destination_id: 'CITY-9',
    destination_lat: 48.137,
    destination_lon: 11.575,
    vehicle_id: null,
    status: 'CREATED',
    weight_kg: 12.5,
    promised_at: new Date('2026-03-01T12:00:00.123Z'),
    created_at: new Date('2026-02-27T08:00:00.000Z'),
    updated_at: new Date('2026-02-27T08:00:00.000Z'),
    change_seq: '1',
    ...overrides,
  };
}

const position = { lsn: 0x1a5dcf0, commitLsn: 0x1a5de00, txId: 786, commitTime: 1_772_000_000_000 };

describe('toShipment', () => {
  test('converts timestamptz to epoch ms, bigint change_seq to a number and keeps nulls', () => {
    expect(toShipment(row({ change_seq: '17', vehicle_id: null }))).toEqual({
      shipmentId: 'SHP-000042',
      customerId: 'CUS-7',
      originId: 'DEPOT-1',
      originLat: 52.52,
      originLon: 13.405,
      destinationId: 'CITY-9',
      destinationLat: 48.137,
      destinationLon: 11.575,
      vehicleId: null,
      status: 'CREATED',
      weightKg: 12.5,
      promisedAt: Date.parse('2026-03-01T12:00:00.123Z'),
      createdAt: Date.parse('2026-02-27T08:00:00.000Z'),
      updatedAt: Date.parse('2026-02-27T08:00:00.000Z'),
      changeSeq: 17,
    });
  });

  test('accepts text forms of timestamps and doubles (a changed global pg parser)', () => {
    const shipment = toShipment(
      row({ promised_at: '2026-03-01 12:00:00.5+00', origin_lat: '52.5', change_seq: 3 }),
    );
    expect(shipment.promisedAt).toBe(Date.parse('2026-03-01T12:00:00.500Z'));
    expect(shipment.originLat).toBe(52.5);
    expect(shipment.changeSeq).toBe(3);
  });

  test.each([
    ['status', 'LOST', /status/],
    ['change_seq', '9007199254740993', /change_seq/],
    ['promised_at', 'not a time', /promised_at/],
    ['shipment_id', null, /shipment_id/],
    ['weight_kg', 'heavy', /weight_kg/],
  ])('rejects a bad %s with a CdcDecodeError naming the column', (column, value, message) => {
    const convert = (): unknown => toShipment(row({ [column]: value }));
    expect(convert).toThrow(CdcDecodeError);
    expect(convert).toThrow(message);
  });
});

describe('changeFromPgoutput', () => {
  test('INSERT: no before, the new row after, keyed by shipment id', () => {
    const { key, change } = changeFromPgoutput({ tag: 'insert', relation, new: row() }, position);
    expect(key).toBe('SHP-000042');
    expect(change.op).toBe('INSERT');
    expect(change.before).toBeNull();
    expect(change.after?.status).toBe('CREATED');
    expect(change.source).toEqual({
      lsn: position.lsn,
      commitLsn: position.commitLsn,
      txId: 786,
      table: 'logistics.shipments',
      snapshot: false,
    });
    expect(change.commitTime).toBe(position.commitTime);
  });

  test('UPDATE: the old row before and the new row after', () => {
    const { change } = changeFromPgoutput(
      {
        tag: 'update',
        relation,
        key: null,
        old: row(),
        new: row({ status: 'ASSIGNED', vehicle_id: 'VEH-3', change_seq: '2' }),
      },
      position,
    );
    expect(change.op).toBe('UPDATE');
    expect(change.before).toMatchObject({ status: 'CREATED', vehicleId: null, changeSeq: 1 });
    expect(change.after).toMatchObject({ status: 'ASSIGNED', vehicleId: 'VEH-3', changeSeq: 2 });
  });

  test('DELETE: the old row before, no after', () => {
    const { key, change } = changeFromPgoutput(
      { tag: 'delete', relation, key: null, old: row({ status: 'CANCELLED' }) },
      position,
    );
    expect(key).toBe('SHP-000042');
    expect(change.op).toBe('DELETE');
    expect(change.before?.status).toBe('CANCELLED');
    expect(change.after).toBeNull();
  });

  test('UPDATE without the old row (no REPLICA IDENTITY FULL) fails instead of guessing', () => {
    expect(() =>
      changeFromPgoutput(
        {
          tag: 'update',
          relation: { ...relation, replicaIdentity: 'default' },
          key: null,
          old: null,
          new: row(),
        },
        position,
      ),
    ).toThrow(/REPLICA IDENTITY FULL/);
  });
});

describe('snapshot rows and positions', () => {
  test('a snapshot row is op SNAPSHOT with lsn 0 and snapshot=true', () => {
    const { change } = snapshotChange(row(), 'logistics.shipments', {
      commitLsn: 5000,
      txId: 0,
      commitTime: 1,
    });
    expect(change).toMatchObject({
      op: 'SNAPSHOT',
      before: null,
      source: { lsn: 0, commitLsn: 5000, snapshot: true, table: 'logistics.shipments' },
    });
  });

  test('commit times in microseconds become epoch ms', () => {
    expect(commitTimeMillis(1_772_000_000_123_456n)).toBe(1_772_000_000_123);
  });

  test('LSN text and numbers round-trip above 32 bits', () => {
    expect(lsnToNumber('0/1A5DCF0')).toBe(0x1a5dcf0);
    expect(lsnToNumber('16/B374D848')).toBe(0x16 * 2 ** 32 + 0xb374d848);
    expect(numberToLsn(lsnToNumber('16/B374D848'))).toBe('16/B374D848');
    expect(() => lsnToNumber('garbage')).toThrow(RangeError);
  });
});
