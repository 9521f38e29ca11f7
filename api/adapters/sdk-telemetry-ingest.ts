// The ingest port on the telemetry producer SDK. The SDK's send() waits while its buffer is
// full; the API must not (a waiting request holds its body and socket, an unbounded queue by
// another name), so room is reserved up front and a batch that does not fit is refused.
import type { TelemetryProducer } from '../../connectors/telemetry-sdk/telemetry-producer.ts';
import type { TelemetryIngest } from '../ports.ts';

export function sdkTelemetryIngest(producer: TelemetryProducer): TelemetryIngest {
  let reserved = 0;
  const capacity = producer.options.maxBufferedEvents;
  return {
    reserve(count) {
      if (producer.pendingEvents + reserved + count > capacity) return false;
      reserved += count;
      return true;
    },
    release(count) {
      reserved = Math.max(0, reserved - count);
    },
    send: (event) => producer.send(event),
    retryAfterSeconds() {
      // At the SDK's linger and batch size a full buffer drains in well under a second on a
      // healthy broker; when it does not, the broker is the problem and a client should wait.
      return producer.pendingEvents >= capacity / 2 ? 5 : 1;
    },
  };
}
