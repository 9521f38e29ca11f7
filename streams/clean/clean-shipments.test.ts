// CleanShipmentsProcessor through the broker-free driver: the lifecycle table, redeliveries,
// snapshots, changeSeq gaps and deletes.
import { DLQ_HEADERS } from '../../core/dead-letter.ts';
import type { ShipmentChange } from '../../schemas/types.ts';
import { jsonSerde, stringSerde } from '../runtime/serde.ts';
import { TopologyBuilder } from '../runtime/topology.ts';
import { TopologyTestDriver } from '../runtime/topology-test-driver.ts';
import {
  CLEAN_SHIPMENTS_STORES,
  CleanShipmentsProcessor,
  lifecycleForgetAt,
  type CleanShipmentsOptions,
  type ShipmentLifecycleState,
} from './clean-shipments.ts';
import { ChangeLog, FIXTURE_T0 as T0 } from './shipment-change-fixtures.ts';

const CDC = 'shipments.cdc';
const OUT = 'shipments.clean';
const MIN = 60_000;
const serdes = { key: stringSerde, value: jsonSerde<ShipmentChange>() };

function driverFor(
  duplicates: ShipmentChange[] = [],
  options: Partial<CleanShipmentsOptions> = {},
): TopologyTestDriver {
  return new TopologyTestDriver(
    new TopologyBuilder('clean-shipments-test')
      .addSource('cdc', CDC, serdes)
      .addProcessor(
        'clean',
        () => new CleanShipmentsProcessor({ onDuplicate: (c) => duplicates.push(c), ...options }),
        ['cdc'],
      )
      .addStateStore(
        {
          name: CLEAN_SHIPMENTS_STORES.shipments,
          serdes: { key: stringSerde, value: jsonSerde<ShipmentLifecycleState>() },
          timeIndex: lifecycleForgetAt,
        },
        ['clean'],
      )
      .addSink('out', OUT, serdes, ['clean'])
      .build(),
  );
}

async function send(driver: TopologyTestDriver, change: ShipmentChange): Promise<void> {
  const id = (change.after ?? change.before)?.shipmentId ?? '';
  await driver.pipeInput(CDC, id, change, change.commitTime);
}

async function forwarded(driver: TopologyTestDriver): Promise<string[]> {
  return (await driver.readOutput<string, ShipmentChange>(OUT)).map(
    (o) =>
      `${o.key} ${o.value.op} ${o.value.after?.status ?? '-'} #${(o.value.after ?? o.value.before)?.changeSeq}`,
  );
}

function rejected(driver: TopologyTestDriver): string[] {
  return driver.deadLetters(CDC).map((l) => String(l.headers?.[DLQ_HEADERS.errorMessage]));
}

describe('CleanShipmentsProcessor', () => {
  it('forwards a shipment through its whole lifecycle, including an exception and its recovery', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(driver, log.insert());
    await send(driver, log.update(T0 + 1 * MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    await send(driver, log.update(T0 + 2 * MIN, { status: 'PICKED_UP' }));
    await send(driver, log.update(T0 + 3 * MIN, { status: 'IN_TRANSIT' }));
    await send(driver, log.update(T0 + 4 * MIN, { status: 'EXCEPTION' }));
    await send(driver, log.update(T0 + 5 * MIN, { status: 'IN_TRANSIT' }));
    await send(driver, log.update(T0 + 6 * MIN, { weightKg: 121 })); // same status: not a transition
    await send(driver, log.update(T0 + 7 * MIN, { status: 'OUT_FOR_DELIVERY' }));
    await send(driver, log.update(T0 + 8 * MIN, { status: 'DELIVERED' }));
    expect(await forwarded(driver)).toEqual([
      'SHP-1 INSERT CREATED #1',
      'SHP-1 UPDATE ASSIGNED #2',
      'SHP-1 UPDATE PICKED_UP #3',
      'SHP-1 UPDATE IN_TRANSIT #4',
      'SHP-1 UPDATE EXCEPTION #5',
      'SHP-1 UPDATE IN_TRANSIT #6',
      'SHP-1 UPDATE IN_TRANSIT #7',
      'SHP-1 UPDATE OUT_FOR_DELIVERY #8',
      'SHP-1 UPDATE DELIVERED #9',
    ]);
    expect(driver.deadLetters()).toEqual([]);
    expect(
      driver.store<string, ShipmentLifecycleState>(CLEAN_SHIPMENTS_STORES.shipments).get('SHP-1'),
    ).toMatchObject({ status: 'DELIVERED', changeSeq: 9 });
  });

  it('dead-letters an impossible transition with the reason, and judges the next change from the last valid status', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(
      driver,
      log.snapshot({ status: 'OUT_FOR_DELIVERY', vehicleId: 'V-1', changeSeq: 7 }),
    );
    await send(driver, log.update(T0 + MIN, { status: 'DELIVERED' }));
    const impossible = log.update(T0 + 2 * MIN, { status: 'IN_TRANSIT' });
    await send(driver, impossible);
    await send(driver, log.update(T0 + 3 * MIN, { status: 'OUT_FOR_DELIVERY' }));
    expect(await forwarded(driver)).toEqual([
      'SHP-1 SNAPSHOT OUT_FOR_DELIVERY #7',
      'SHP-1 UPDATE DELIVERED #8',
    ]);
    expect(rejected(driver)).toEqual([
      'SHP-1: DELIVERED → IN_TRANSIT is not allowed',
      'SHP-1: DELIVERED → OUT_FOR_DELIVERY is not allowed',
    ]);
    const [letter] = driver.deadLetters(CDC);
    expect(letter?.headers).toMatchObject({
      [DLQ_HEADERS.errorClass]: 'RecordRejectedError',
      [DLQ_HEADERS.errorCode]: 'RECORD_REJECTED',
      [DLQ_HEADERS.stage]: 'process',
      [DLQ_HEADERS.processor]: 'clean-shipments-test.clean',
    });
    expect(JSON.parse(letter?.value?.toString() ?? 'null')).toEqual(impossible);
  });

  it('drops redelivered changes (same WAL position or an old changeSeq) without dead-lettering them, and counts them', async () => {
    const duplicates: ShipmentChange[] = [];
    const driver = driverFor(duplicates);
    const log = new ChangeLog();
    const insert = log.insert();
    const assigned = log.update(T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' });
    await send(driver, insert);
    await send(driver, assigned);
    // The source crashed before confirming: both are sent again.
    await send(driver, insert);
    await send(driver, assigned);
    // Same changeSeq under a later WAL position (re-snapshot of an unchanged row).
    await send(driver, {
      ...assigned,
      source: { ...assigned.source, lsn: 9_999, commitLsn: 9_999 },
    });
    await send(driver, log.update(T0 + 2 * MIN, { status: 'PICKED_UP' }));
    expect(await forwarded(driver)).toEqual([
      'SHP-1 INSERT CREATED #1',
      'SHP-1 UPDATE ASSIGNED #2',
      'SHP-1 UPDATE PICKED_UP #3',
    ]);
    expect(duplicates.map((c) => c.after?.changeSeq)).toEqual([1, 2, 2]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('a redelivered rejected change is a duplicate, not a second dead letter', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(driver, log.insert());
    const skip = log.update(T0 + MIN, { status: 'DELIVERED' });
    await send(driver, skip);
    await send(driver, skip);
    expect(rejected(driver)).toEqual(['SHP-1: CREATED → DELIVERED is not allowed']);
  });

  it('lets a snapshot establish state mid-lifecycle and checks what follows against it', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(driver, log.snapshot({ status: 'IN_TRANSIT', vehicleId: 'V-1', changeSeq: 4 }));
    await send(driver, log.update(T0 + MIN, { status: 'OUT_FOR_DELIVERY' }));
    await send(driver, log.update(T0 + 2 * MIN, { status: 'ASSIGNED' }));
    expect(await forwarded(driver)).toEqual([
      'SHP-1 SNAPSHOT IN_TRANSIT #4',
      'SHP-1 UPDATE OUT_FOR_DELIVERY #5',
    ]);
    expect(rejected(driver)).toEqual(['SHP-1: OUT_FOR_DELIVERY → ASSIGNED is not allowed']);
  });

  it('dead-letters a changeSeq gap as an impossible transition', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(driver, log.insert());
    await send(driver, log.updateSkipping(1, T0 + MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    expect(rejected(driver)).toEqual(['SHP-1: changeSeq gap: 1 → 3 (2 missing)']);
    // The position moved past the gap: the next contiguous change is judged normally.
    await send(driver, log.update(T0 + 2 * MIN, { status: 'ASSIGNED', vehicleId: 'V-1' }));
    expect(await forwarded(driver)).toEqual([
      'SHP-1 INSERT CREATED #1',
      'SHP-1 UPDATE ASSIGNED #4',
    ]);
  });

  it('requires a new shipment to start as CREATED, and judges an unknown shipment by its before image', async () => {
    const driver = driverFor();
    await send(driver, new ChangeLog().insert({ shipmentId: 'SHP-2', status: 'IN_TRANSIT' }));
    const midway = new ChangeLog();
    midway.snapshot({ shipmentId: 'SHP-3', status: 'PICKED_UP', vehicleId: 'V-1' }); // not sent
    await send(driver, midway.update(T0 + MIN, { status: 'IN_TRANSIT' }));
    await send(driver, midway.update(T0 + 2 * MIN, { status: 'CREATED' }));
    expect(rejected(driver)).toEqual([
      'SHP-2: a new shipment must start as CREATED, not IN_TRANSIT',
      'SHP-3: IN_TRANSIT → CREATED is not allowed',
    ]);
    expect(await forwarded(driver)).toEqual(['SHP-3 UPDATE IN_TRANSIT #2']);
  });

  it('forwards a delete and forgets the shipment', async () => {
    const driver = driverFor();
    const log = new ChangeLog();
    await send(driver, log.insert());
    await send(driver, log.delete());
    expect(await forwarded(driver)).toEqual(['SHP-1 INSERT CREATED #1', 'SHP-1 DELETE - #1']);
    expect(driver.store(CLEAN_SHIPMENTS_STORES.shipments).get('SHP-1')).toBeUndefined();
  });

  it('dead-letters a change whose row does not match its key', async () => {
    const driver = driverFor();
    await driver.pipeInput(CDC, 'SHP-9', new ChangeLog().insert(), T0);
    expect(rejected(driver)).toEqual(['INSERT keyed "SHP-9" carries shipment SHP-1']);
  });
});
