// The champion on eta.models (compacted, one partition, key = model name): read whole at start
// (the latest record of the model name is what the join serves) and written on promotion, with
// an idempotent producer, as Avro in the Confluent wire format.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka, Producer } from 'kafkajs';
import type { KafkaClientConfig } from '../core/kafka-client.ts';
import type { Logger } from '../core/logger.ts';
import { readOffsetRanges } from '../core/read-offset-ranges.ts';
import type { PublishedEtaModel } from '../schemas/eta-model-evaluation.ts';
import type { EtaModel } from '../schemas/types.ts';
import type { ChampionStore } from './eta-trainer.ts';

export interface EtaModelsTopicOptions {
  topic: string;
  modelName: string;
  /** Schema id of EtaModel under the topic's value subject. */
  schemaId: number;
  /** Prefix of the throwaway group that reads the topic at start. */
  groupPrefix: string;
}

export class EtaModelsTopic implements ChampionStore {
  private readonly kafka: Kafka;
  private readonly registry: SchemaRegistry;
  private readonly options: EtaModelsTopicOptions;
  private readonly log: Logger;
  private producer: Producer | undefined;
  private champion: PublishedEtaModel | undefined;

  constructor(kafka: Kafka, registry: SchemaRegistry, options: EtaModelsTopicOptions, log: Logger) {
    this.kafka = kafka;
    this.registry = registry;
    this.options = options;
    this.log = log.child({ component: 'ml.eta-models' });
  }

  /** Reads the topic to its end: the last record of the model name is the champion. */
  async load(config: KafkaClientConfig): Promise<PublishedEtaModel | undefined> {
    const admin = this.kafka.admin();
    await admin.connect();
    let ends: { partition: number; low: string; high: string }[];
    try {
      ends = await admin.fetchTopicOffsets(this.options.topic);
    } finally {
      await admin.disconnect();
    }
    await readOffsetRanges(this.kafka, config, {
      topic: this.options.topic,
      ranges: ends.map((e) => ({
        partition: e.partition,
        from: Number(e.low),
        to: Number(e.high),
      })),
      groupPrefix: this.options.groupPrefix,
      onBatch: async (_partition, messages) => {
        for (const m of messages) {
          if (m.key?.toString('utf8') !== this.options.modelName || m.value === null) continue;
          try {
            this.champion = (await this.registry.decode(m.value)) as PublishedEtaModel;
          } catch (err) {
            this.log.warn(
              { offset: m.offset, err: String(err) },
              'undecodable model record skipped',
            );
          }
        }
      },
    });
    this.log.info(
      { modelName: this.options.modelName, version: this.champion?.version ?? null },
      this.champion ? 'champion loaded from eta.models' : 'no champion on eta.models yet',
    );
    return this.champion;
  }

  current(): PublishedEtaModel | undefined {
    return this.champion;
  }

  async publish(model: EtaModel): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.producer.connect();
    }
    const value = await this.registry.encode(this.options.schemaId, model);
    await this.producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: [{ key: model.modelName, value }],
    });
    this.champion = model;
    this.log.info(
      { modelName: model.modelName, version: model.version, bytes: value.length },
      'champion published to eta.models',
    );
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }
}
