// The PostgreSQL CDC source: `shipments` → `shipments.cdc` (see README.md beside this file).
export { PostgresCdcSource, type PostgresCdcSourceDeps } from './postgres-cdc-source.ts';
export {
  CDC_SOURCE_DEFAULTS,
  resolveCdcSourceOptions,
  qualifiedTable,
  type CdcSourceOptions,
  type CdcSourceOptionsInput,
  type CdcProducerOptions,
} from './options.ts';
export {
  isDuplicateChange,
  compareChangeMarks,
  type ChangeMark,
} from '../../../schemas/change-marks.ts';
export { CdcDecodeError, CdcKafkaError, CdcPostgresError } from './errors.ts';
export { lsnToNumber, numberToLsn } from './lsn.ts';
export { cdcOptionsFromConfig, type CdcOverrides } from './env.ts';
