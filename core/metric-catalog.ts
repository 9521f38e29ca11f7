// Every metric a dashboard, an alert rule or the API's pipeline queries read, named once. The
// dashboards (compose/grafana/code), the alert rules and the named PromQL queries take names and
// label names from here, so a renamed metric or label fails the type check or a test, never a
// panel silently: metric-catalog.test.ts holds each platform metric against the code that
// registers it, and the PromQL integration test finds every one in the real Prometheus.

/** Who exports the metric: a Continuum process, or an exporter of the stack. */
export type MetricProducer =
  | 'streams'
  | 'sink'
  | 'cdc'
  | 'sdk'
  | 'api'
  | 'lag'
  | 'ml'
  | 'postgres-exporter'
  | 'redis-exporter'
  | 'kafka-broker'
  | 'prometheus';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec<L extends string = string> {
  /** The family name (a histogram's series add _bucket, _sum and _count). */
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly L[];
  readonly producer: MetricProducer;
  readonly help: string;
}

function metric<const L extends string>(
  name: string,
  type: MetricType,
  producer: MetricProducer,
  labels: readonly L[],
  help: string,
): MetricSpec<L> {
  return { name, type, producer, labels, help };
}

export const METRICS = {
  // The stream applications (streams/runtime/streams-metrics.ts, streams/processor-metrics.ts).
  recordsProcessed: metric(
    'continuum_records_processed_total',
    'counter',
    'streams',
    ['application'],
    'input records a stream application processed and committed',
  ),
  recordsForwarded: metric(
    'continuum_records_forwarded_total',
    'counter',
    'streams',
    ['application', 'processor'],
    'records forwarded to a processor or sink',
  ),
  freshness: metric(
    'continuum_freshness_seconds',
    'histogram',
    'streams',
    ['application', 'topic'],
    'event time to output committed, per output record',
  ),
  commitSeconds: metric(
    'continuum_commit_seconds',
    'histogram',
    'streams',
    ['application', 'guarantee'],
    'time to write outputs, changelogs and offsets and commit',
  ),
  restoreSeconds: metric(
    'continuum_restore_seconds',
    'histogram',
    'streams',
    ['application'],
    'time to restore a task from its changelogs',
  ),
  restoredRecords: metric(
    'continuum_restored_records_total',
    'counter',
    'streams',
    ['application', 'start'],
    'changelog records applied to restore tasks; start: beginning, or checkpoint (stores on disk restoring only the tail)',
  ),
  transactionAborts: metric(
    'continuum_transaction_aborts_total',
    'counter',
    'streams',
    ['application'],
    'transactions aborted',
  ),
  repartitionPurges: metric(
    'continuum_repartition_purges_total',
    'counter',
    'streams',
    ['application', 'outcome'],
    'rounds of deleting consumed repartition records, by outcome',
  ),
  recordsDropped: metric(
    'continuum_records_dropped_total',
    'counter',
    'streams',
    ['processor', 'reason'],
    'records dropped on purpose (duplicates, stale readings), by reason',
  ),
  deadLetters: metric(
    'continuum_dlq_records_total',
    'counter',
    'streams',
    ['processor', 'reason'],
    'records sent to a dead-letter topic, by the processor or sink that rejected them and why',
  ),
  // Sinks, the CDC source and the telemetry SDK (connectors/).
  sinkRecordsWritten: metric(
    'continuum_sink_records_written_total',
    'counter',
    'sink',
    ['sink'],
    'records a sink wrote',
  ),
  sinkFlushSeconds: metric(
    'continuum_sink_flush_seconds',
    'histogram',
    'sink',
    ['sink'],
    'duration of one sink flush',
  ),
  sinkFlushRetries: metric(
    'continuum_sink_flush_retries_total',
    'counter',
    'sink',
    ['sink'],
    'failed sink flushes retried with backoff: a store outage (the sink also answers /ready 503 meanwhile)',
  ),
  sinkHeldRecords: metric(
    'continuum_sink_held_records',
    'gauge',
    'sink',
    ['sink'],
    'records added to a sink and not yet flushed: what a blocked store makes it hold (at most its flush bound)',
  ),
  sinkHeldBytes: metric(
    'continuum_sink_held_bytes',
    'gauge',
    'sink',
    ['sink'],
    'record value bytes added to a sink and not yet flushed',
  ),
  cdcChanges: metric(
    'continuum_cdc_changes_produced_total',
    'counter',
    'cdc',
    ['slot', 'op'],
    'shipment changes the CDC source produced, by op',
  ),
  cdcLagSeconds: metric(
    'continuum_cdc_lag_seconds',
    'gauge',
    'cdc',
    ['slot'],
    'commit time of the last confirmed source transaction, behind now',
  ),
  sdkEventsSent: metric(
    'continuum_sdk_events_sent_total',
    'counter',
    'sdk',
    [],
    'telemetry events the producer SDK had acknowledged by Kafka',
  ),
  // The API (api/plugins/http-metrics.ts).
  httpRequests: metric(
    'continuum_http_requests_total',
    'counter',
    'api',
    ['method', 'route', 'status'],
    'HTTP requests the API answered',
  ),
  httpDuration: metric(
    'continuum_http_request_duration_seconds',
    'histogram',
    'api',
    ['method', 'route', 'status'],
    'time to answer an HTTP request',
  ),
  // `continuum lag` (core/consumer-lag.ts), in kafka_exporter's names.
  consumerLag: metric(
    'kafka_consumergroup_lag',
    'gauge',
    'lag',
    ['consumergroup', 'topic', 'partition'],
    'records a group has yet to commit, per partition',
  ),
  consumerLagSeconds: metric(
    'kafka_consumergroup_lag_seconds',
    'gauge',
    'lag',
    ['consumergroup', 'topic', 'partition'],
    "how long the group's oldest uncommitted record has waited, per partition",
  ),
  // The ETA trainer (`continuum ml`, issue 11): the names this dashboard expects of it.
  mlModelMae: metric(
    'continuum_ml_model_mae_minutes',
    'gauge',
    'ml',
    ['model', 'version'],
    'holdout MAE of each trained model version, minutes',
  ),
  mlDrift: metric(
    'continuum_ml_drift_ratio',
    'gauge',
    'ml',
    ['model'],
    "live MAE of completed deliveries over the champion's training MAE",
  ),
  // PostgreSQL (postgres_exporter).
  pgUp: metric(
    'pg_up',
    'gauge',
    'postgres-exporter',
    [],
    'whether the exporter reached PostgreSQL',
  ),
  pgBackends: metric(
    'pg_stat_database_numbackends',
    'gauge',
    'postgres-exporter',
    ['datname'],
    'connections per database',
  ),
  pgCommits: metric(
    'pg_stat_database_xact_commit',
    'counter',
    'postgres-exporter',
    ['datname'],
    'transactions committed per database',
  ),
  pgRollbacks: metric(
    'pg_stat_database_xact_rollback',
    'counter',
    'postgres-exporter',
    ['datname'],
    'transactions rolled back per database',
  ),
  pgDatabaseSize: metric(
    'pg_database_size_bytes',
    'gauge',
    'postgres-exporter',
    ['datname'],
    'size of each database',
  ),
  // Redis (redis_exporter).
  redisUp: metric('redis_up', 'gauge', 'redis-exporter', [], 'whether the exporter reached Redis'),
  redisMemory: metric(
    'redis_memory_used_bytes',
    'gauge',
    'redis-exporter',
    [],
    'memory Redis uses',
  ),
  redisClients: metric(
    'redis_connected_clients',
    'gauge',
    'redis-exporter',
    [],
    'client connections',
  ),
  redisCommands: metric(
    'redis_commands_processed_total',
    'counter',
    'redis-exporter',
    [],
    'commands Redis processed',
  ),
  // The broker (the JMX agent, compose/kafka/jmx-exporter.yaml).
  brokerMessagesIn: metric(
    'kafka_server_brokertopicmetrics_messagesin_total',
    'counter',
    'kafka-broker',
    [],
    'records the broker appended, all topics',
  ),
  brokerBytesIn: metric(
    'kafka_server_brokertopicmetrics_bytesin_total',
    'counter',
    'kafka-broker',
    [],
    'bytes produced to the broker, all topics',
  ),
  brokerBytesOut: metric(
    'kafka_server_brokertopicmetrics_bytesout_total',
    'counter',
    'kafka-broker',
    [],
    'bytes fetched from the broker, all topics',
  ),
  brokerUnderReplicated: metric(
    'kafka_server_replicamanager_underreplicatedpartitions',
    'gauge',
    'kafka-broker',
    [],
    'partitions with fewer in-sync replicas than replicas',
  ),
  brokerOfflinePartitions: metric(
    'kafka_controller_kafkacontroller_offlinepartitionscount',
    'gauge',
    'kafka-broker',
    [],
    'partitions without a leader',
  ),
  brokerRequestTime: metric(
    'kafka_network_requestmetrics_totaltimems',
    'gauge',
    'kafka-broker',
    ['request', 'quantile'],
    "request time percentiles (the broker's own), ms",
  ),
  jvmMemoryUsed: metric(
    'jvm_memory_used_bytes',
    'gauge',
    'kafka-broker',
    ['area'],
    "the broker JVM's memory in use, heap and non-heap",
  ),
  // Prometheus itself: whether each target answers its scrape.
  up: metric('up', 'gauge', 'prometheus', ['job', 'instance'], 'whether a scrape target answered'),
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** The label names of a catalog metric, as a type (selectors and `by` clauses check them). */
export type LabelOf<M> = M extends MetricSpec<infer L> ? L : never;
