// Kafka's own `kafka-consumer-groups --describe` (ConsumerGroupCommand from the native stack's
// broker jars), parsed by its header, so tests can hold our lag against the tool operators use.
import nodePath from 'node:path';
import type { Config } from '../../core/config.ts';
import { runCommand } from '../../compose/native/run-command.ts';
import { KAFKA_VERSION } from '../../compose/native/services/kafka.ts';

export interface DescribedPartition {
  group: string;
  topic: string;
  partition: number;
  /** null where the tool prints "-" (the group committed nothing there). */
  currentOffset: number | null;
  logEndOffset: number;
  lag: number | null;
}

const number = (cell: string | undefined): number | null =>
  cell === undefined || cell === '-' ? null : Number(cell);

/** `--describe --group <g> …`: every partition row of every named group. */
export async function describeConsumerGroups(
  config: Config,
  groups: readonly string[],
): Promise<DescribedPartition[]> {
  const classpath = `${nodePath.join(config.cacheDir, `kafka-${KAFKA_VERSION}`, 'lib')}/*`;
  const output = await runCommand('java', [
    '-cp',
    classpath,
    'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    '--bootstrap-server',
    config.kafka.brokers.join(','),
    '--describe',
    ...groups.flatMap((g) => ['--group', g]),
  ]);
  const rows: DescribedPartition[] = [];
  let header: string[] | undefined;
  for (const line of output.split('\n')) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] === 'GROUP' && cells.includes('LAG')) {
      header = cells;
      continue;
    }
    if (!header || cells.length < header.length - 3 || !/^\d+$/.test(cells[2] ?? '')) continue;
    const at = (name: string): string | undefined => cells[header?.indexOf(name) ?? -1];
    rows.push({
      group: at('GROUP') ?? '',
      topic: at('TOPIC') ?? '',
      partition: Number(at('PARTITION')),
      currentOffset: number(at('CURRENT-OFFSET')),
      logEndOffset: Number(at('LOG-END-OFFSET')),
      lag: number(at('LAG')),
    });
  }
  if (!header) throw new Error(`no partition table in the tool's output:\n${output}`);
  return rows;
}
