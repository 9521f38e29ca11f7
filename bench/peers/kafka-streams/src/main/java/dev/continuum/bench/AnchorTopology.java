// The anchor topology of bench/backlog.ts in Kafka Streams: JSON readings; an undecodable one or
// one faster than 200 km/h goes to a dead-letter topic; the latest reading per vehicle is kept in
// a changelogged store (RocksDB or in-memory) and forwarded, exactly-once (v2).
// Usage: java -cp 'lib/*:classes' dev.continuum.bench.AnchorTopology
//          <bootstrap> <application-id> <input> <output> <dlq> <rocksdb|in-memory> <state-dir>
package dev.continuum.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

public final class AnchorTopology {
  private static final String STORE = "latest-reading";

  static final class Latest implements Processor<String, byte[], String, byte[]> {
    private final ObjectMapper mapper = new ObjectMapper();
    private ProcessorContext<String, byte[]> context;
    private KeyValueStore<String, byte[]> latest;

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      this.context = context;
      this.latest = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
      JsonNode reading;
      try {
        reading = mapper.readTree(record.value());
      } catch (Exception e) {
        reading = null;
      }
      if (reading == null || !reading.isObject()) {
        context.forward(record, "dlq");
        return;
      }
      if (reading.path("speed").asDouble() > 200) {
        context.forward(record, "dlq");
        return;
      }
      byte[] value;
      try {
        value = mapper.writeValueAsBytes(reading);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      latest.put(record.key(), value);
      context.forward(record.withValue(value), "out");
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 7) {
      System.err.println(
          "usage: AnchorTopology <bootstrap> <application-id> <input> <output> <dlq> <rocksdb|in-memory> <state-dir>");
      System.exit(2);
    }
    String input = args[2];
    String output = args[3];
    String dlq = args[4];
    KeyValueBytesStoreSupplier supplier =
        args[5].equals("rocksdb")
            ? Stores.persistentKeyValueStore(STORE)
            : Stores.inMemoryKeyValueStore(STORE);
    Topology topology = new Topology();
    topology.addSource("telemetry", Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), input);
    topology.addProcessor("latest", Latest::new, "telemetry");
    topology.addStateStore(
        Stores.keyValueStoreBuilder(supplier, Serdes.String(), Serdes.ByteArray()), "latest");
    topology.addSink("out", output, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "latest");
    topology.addSink("dlq", dlq, Serdes.String().serializer(), Serdes.ByteArray().serializer(), "latest");

    Properties props = new Properties();
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[1]);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // A static member, so that close(leaveGroup) removes it and the group can be deleted.
    props.put(StreamsConfig.consumerPrefix("group.instance.id"), args[1] + "-peer");

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Leave the group (Kafka Streams stays a member until its session times out
                  // otherwise), so that the benchmark can delete the group afterwards.
                  streams.close(new KafkaStreams.CloseOptions().leaveGroup(true));
                  stopped.countDown();
                }));
    streams.setUncaughtExceptionHandler(
        e -> {
          e.printStackTrace();
          return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
              .StreamThreadExceptionResponse.SHUTDOWN_APPLICATION;
        });
    streams.start();
    System.out.println("started");
    stopped.await();
  }
}
