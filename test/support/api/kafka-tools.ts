// Kafka's own consumer-group tool (the jars of the native stack's broker), so tests can hold our
// offset handling against what `kafka-consumer-groups` says.
import nodePath from 'node:path';
import type { Config } from '../../../core/config.ts';
import { runCommand } from '../../../compose/native/run-command.ts';
import { KAFKA_VERSION } from '../../../compose/native/services/kafka.ts';

export interface ToolRow {
  topic: string;
  partition: number;
  /** The column's number, or null for "-". */
  value: number | null;
}

/** Runs ConsumerGroupCommand with `args` and parses its table: `column` per topic/partition. */
export async function consumerGroupTool(
  config: Config,
  args: readonly string[],
  column: 'CURRENT-OFFSET' | 'NEW-OFFSET',
): Promise<ToolRow[]> {
  const classpath = `${nodePath.join(config.cacheDir, `kafka-${KAFKA_VERSION}`, 'lib')}/*`;
  const output = await runCommand('java', [
    '-cp',
    classpath,
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    '--bootstrap-server',
    config.kafka.brokers.join(','),
    ...args,
  ]);
  const lines = output.split('\n').map((l) => l.trim().split(/\s+/));
  const header = lines.find((l) => l.includes('GROUP') && l.includes(column));
  if (!header) throw new Error(`no ${column} table in the tool's output:\n${output}`);
  const [t, p, c] = ['TOPIC', 'PARTITION', column].map((name) => header.indexOf(name));
  return lines
    .filter((l) => l !== header && l.length === header.length && /^\d+$/.test(l[p ?? 0] ?? ''))
    .map((l) => ({
      topic: l[t ?? 0] ?? '',
      partition: Number(l[p ?? 0]),
      value: l[c ?? 0] === '-' ? null : Number(l[c ?? 0]),
    }))
    .sort((a, b) => a.partition - b.partition);
}
