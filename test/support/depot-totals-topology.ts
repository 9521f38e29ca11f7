// A small stateful topology for runtime tests: deliveries (key parcel) are re-keyed by depot
// through a repartition topic and summed per depot in a changelogged store; each new total is
// written to the output topic. Exactly-once means the totals equal the sums of the inputs.
import {
  RecordRejectedError,
  type Processor,
  type ProcessorContext,
} from '../../streams/runtime/processor.ts';
import type { StreamRecord } from '../../streams/runtime/record.ts';
import { jsonSerde, stringSerde } from '../../streams/runtime/serde.ts';
import type { KeyValueStore } from '../../streams/runtime/state-store.ts';
import { dlqTopic } from '../../core/topics.ts';
import {
  repartitionTopic,
  TopologyBuilder,
  type Topology,
} from '../../streams/runtime/topology.ts';

export interface Delivery {
  parcel: string;
  depot: string;
  kg: number;
}

class RekeyByDepot implements Processor<string, Delivery, string, Delivery> {
  private context!: ProcessorContext<string, Delivery>;
  init(context: ProcessorContext<string, Delivery>): void {
    this.context = context;
  }
  process(record: StreamRecord<string, Delivery>): void {
    this.context.forward({ ...record, key: record.value.depot });
  }
}

class SumPerDepot implements Processor<string, Delivery, string, number> {
  private context!: ProcessorContext<string, number>;
  private totals!: KeyValueStore<string, number>;
  init(context: ProcessorContext<string, number>): void {
    this.context = context;
    this.totals = context.getStateStore('totals');
  }
  process(record: StreamRecord<string, Delivery>): void {
    if (record.value.kg < 0)
      throw new RecordRejectedError(
        'negative-weight',
        `parcel ${record.value.parcel} weighs ${record.value.kg} kg`,
      );
    const total = (this.totals.get(record.key) ?? 0) + record.value.kg;
    this.totals.put(record.key, total);
    this.context.forward({ key: record.key, value: total, timestamp: record.timestamp });
  }
}

export function depotTotalsTopology(
  applicationId: string,
  input: string,
  output: string,
): Topology {
  const deliveries = { key: stringSerde, value: jsonSerde<Delivery>() };
  const totals = { key: stringSerde, value: jsonSerde<number>() };
  return new TopologyBuilder(applicationId)
    .addSource('deliveries', input, deliveries)
    .addProcessor('rekey', () => new RekeyByDepot(), ['deliveries'])
    .addRepartition('by-depot', deliveries, ['rekey'])
    .addProcessor('sum', () => new SumPerDepot(), ['by-depot'])
    .addStateStore({ name: 'totals', serdes: totals }, ['sum'])
    .addSink('totals-out', output, totals, ['sum'])
    .build();
}

/** Every topic a depot-totals run touches: its input, output, internal topics and DLQs. */
export function depotTotalsTopics(applicationId: string, input: string, output: string): string[] {
  return [
    input,
    output,
    dlqTopic(input),
    dlqTopic(repartitionTopic(applicationId, 'by-depot')),
    ...depotTotalsTopology(applicationId, input, output)
      .internalTopics()
      .map((t) => t.topic),
  ];
}

/** Deliveries as the input topic's messages (key = parcel, JSON value). */
export function deliveryMessages(records: readonly Delivery[]): { key: string; value: string }[] {
  return records.map((d) => ({ key: d.parcel, value: JSON.stringify(d) }));
}
