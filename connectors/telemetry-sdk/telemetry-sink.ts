// The port telemetry producers (the simulator, the API) write through. The real
// implementation is TelemetryProducer (Kafka + registry); tests of pure logic may use a fake.
import type { VehicleTelemetry } from '../../schemas/types.ts';

export interface TelemetrySink {
  /** Resolves once the event is accepted into the bounded buffer (awaits when it is full; never drops). */
  send(event: VehicleTelemetry): Promise<void>;
  /**
   * Sends bytes as they are, bypassing encoding: for fault injection (malformed payloads) and
   * for relaying already-encoded records. Keyed like send (vehicle id).
   */
  sendRaw(key: string, value: Buffer): Promise<void>;
  /** Resolves when everything accepted so far is acknowledged by the broker. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
