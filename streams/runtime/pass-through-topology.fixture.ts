// For the runtime's unit tests: in → a processor forwarding every record as it is → out.
import type { Processor, ProcessorContext } from './processor.ts';
import type { StreamRecord } from './record.ts';
import { stringSerde } from './serde.ts';
import { TopologyBuilder, type Topology } from './topology.ts';

class PassThrough implements Processor<string, string, string, string> {
  private context!: ProcessorContext<string, string>;
  init(context: ProcessorContext<string, string>): void {
    this.context = context;
  }
  process(record: StreamRecord<string, string>): void {
    this.context.forward(record);
  }
}

/** Source topic `in`, processor `pass`, sink topic `out`, string keys and values. */
export function passThroughTopology(applicationId: string): Topology {
  const serdes = { key: stringSerde, value: stringSerde };
  return new TopologyBuilder(applicationId)
    .addSource('in', 'in', serdes)
    .addProcessor('pass', () => new PassThrough(), ['in'])
    .addSink('out', 'out', serdes, ['pass'])
    .build();
}
