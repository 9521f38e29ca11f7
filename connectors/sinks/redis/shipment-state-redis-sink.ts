// shipment.state → Redis, the hot store the API reads: a hash per shipment, a GEO index of the
// shipments on the way, a set per status. A Lua script applies one state atomically and only
// when its version is above the stored one, so replays, duplicates and reordering are harmless.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SinkWriteError, errorMessage } from '../../../core/errors.ts';
import { SHIPMENT_STATUSES, type UnifiedShipmentState } from '../../../schemas/types.ts';
import type { Sink, SinkRecord } from '../sink.ts';
import { NewestPerShipment } from '../newest-per-shipment.ts';
import {
  DEFAULT_SHIPMENT_STATE_KEYS,
  encodeShipmentHash,
  geoPositionOf,
  shipmentHashKey,
  statusSetKey,
  type ShipmentStateKeys,
} from './shipment-state-hash.ts';

// KEYS[1] hash, KEYS[2] geo index, KEYS[3..] one set per status.
// ARGV[1] shipment id, ARGV[2] version, ARGV[3] index in KEYS of the new status's set,
// ARGV[4] lon and ARGV[5] lat ('' = not in the GEO index), ARGV[6..] hash field/value pairs.
// Returns 1 when applied, 0 when the stored version is equal or newer.
export const APPLY_STATE_LUA = `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('GEOADD', KEYS[2], ARGV[4], ARGV[5], ARGV[1])
end
local statusIndex = tonumber(ARGV[3])
for i = 3, #KEYS do
  if i == statusIndex then
    redis.call('SADD', KEYS[i], ARGV[1])
  else
    redis.call('SREM', KEYS[i], ARGV[1])
  end
end
return 1
`;

const APPLY_STATE_SHA = createHash('sha1').update(APPLY_STATE_LUA).digest('hex');

/** The EVALSHA arguments that apply one state: numkeys, then the keys and the arguments. */
export function applyStateArgs(
  keys: ShipmentStateKeys,
  state: UnifiedShipmentState,
): { numKeys: number; keysAndArgs: (string | number)[] } {
  const statusKeys = SHIPMENT_STATUSES.map((s) => statusSetKey(keys, s));
  const redisKeys = [shipmentHashKey(keys, state.shipmentId), keys.geoKey, ...statusKeys];
  // Lua's KEYS is 1-based and the status sets start at KEYS[3].
  const statusIndex = SHIPMENT_STATUSES.indexOf(state.status) + 3;
  const position = geoPositionOf(state);
  const fields = Object.entries(encodeShipmentHash(state)).flat();
  return {
    numKeys: redisKeys.length,
    keysAndArgs: [
      ...redisKeys,
      state.shipmentId,
      String(state.version),
      statusIndex,
      position === null ? '' : String(position.lon),
      position === null ? '' : String(position.lat),
      ...fields,
    ],
  };
}

// Reply codes (the first word of a Redis error) after which the same command may succeed.
const RETRIABLE_REPLY_CODES = new Set([
  'LOADING',
  'BUSY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'MASTERDOWN',
  'READONLY',
  'NOSCRIPT',
]);

/** Redis answered with an error reply (vs a lost connection, a timeout, a full offline queue). */
function replyCode(err: unknown): string | null {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return null;
  return err.message.split(' ', 1)[0] ?? '';
}

export function isRetriableRedisError(err: unknown): boolean {
  const code = replyCode(err);
  return code === null || RETRIABLE_REPLY_CODES.has(code);
}

export interface ShipmentStateRedisSinkOptions {
  keys?: ShipmentStateKeys;
}

export class ShipmentStateRedisSink implements Sink<UnifiedShipmentState> {
  readonly name = 'redis';
  private readonly redis: Redis;
  private readonly keys: ShipmentStateKeys;
  private readonly pending = new NewestPerShipment();
  private scriptLoaded = false;

  constructor(redis: Redis, options: ShipmentStateRedisSinkOptions = {}) {
    this.redis = redis;
    this.keys = options.keys ?? { ...DEFAULT_SHIPMENT_STATE_KEYS };
  }

  add(record: SinkRecord<UnifiedShipmentState>): void {
    this.pending.offer(record.value);
  }

  async flush(): Promise<{ written: number }> {
    if (this.pending.size === 0) return { written: 0 };
    const states = this.pending.values();
    let results: [Error | null, unknown][];
    try {
      results = await this.applyAll(states);
      if (results.some(([err]) => replyCode(err) === 'NOSCRIPT')) {
        // The server lost its script cache (restart, SCRIPT FLUSH): load again and re-send;
        // states already applied answer 0 the second time.
        this.scriptLoaded = false;
        results = await this.applyAll(states);
      }
    } catch (err) {
      throw new SinkWriteError('redis pipeline of shipment states failed', {
        cause: err,
        retriable: isRetriableRedisError(err),
        context: { states: states.length, geoKey: this.keys.geoKey },
      });
    }
    const failed = results.find(([err]) => err !== null)?.[0];
    if (failed) {
      // Keep the batch: the version check makes re-applying the succeeded states a no-op.
      throw new SinkWriteError('redis write of shipment states failed', {
        cause: failed,
        retriable: isRetriableRedisError(failed),
        context: {
          states: states.length,
          failures: results.filter(([err]) => err !== null).length,
          firstError: errorMessage(failed),
        },
      });
    }
    this.pending.clear();
    return { written: results.filter(([, applied]) => applied === 1).length };
  }

  private async applyAll(
    states: readonly UnifiedShipmentState[],
  ): Promise<[Error | null, unknown][]> {
    if (!this.scriptLoaded) {
      await this.redis.script('LOAD', APPLY_STATE_LUA);
      this.scriptLoaded = true;
    }
    const pipeline = this.redis.pipeline();
    for (const state of states) {
      const { numKeys, keysAndArgs } = applyStateArgs(this.keys, state);
      pipeline.evalsha(APPLY_STATE_SHA, numKeys, ...keysAndArgs);
    }
    const results = await pipeline.exec();
    if (results === null) throw new Error('redis pipeline returned no results');
    return results;
  }

  discard(): void {
    this.pending.clear();
  }

  close(): Promise<void> {
    this.pending.clear();
    return Promise.resolve();
  }
}
