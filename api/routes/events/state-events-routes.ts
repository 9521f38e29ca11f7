// Server-sent events of shipment.state: every committed state change (GET /v1/events) or those
// of one shipment (GET /v1/shipments/:id/events). Each event's id is the stream's position, one
// `partition:offset` per partition of shipment.state (the last record delivered), so a client
// that reconnects with Last-Event-ID (as EventSource does by itself) misses nothing and gets
// nothing twice. The first event, `ready`, carries the starting position.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from '../../api-error.ts';
import { ShipmentIdSchema } from '../../contracts/api-schemas.ts';
import type { ApiDeps, FeedPosition } from '../../ports.ts';
import { readErrors } from '../responses.ts';

const POSITION = /^\d{1,5}:-?\d{1,19}(,\d{1,5}:-?\d{1,19}){0,1023}$/;

export function formatPosition(position: FeedPosition): string {
  return [...position]
    .sort(([a], [b]) => a - b)
    .map(([p, o]) => `${p}:${o}`)
    .join(',');
}

export function parsePosition(text: string): Map<number, number> {
  if (!POSITION.test(text))
    throw new ApiError(
      400,
      'INVALID_LAST_EVENT_ID',
      'Last-Event-ID must be an id this stream sent (partition:offset,…)',
    );
  return new Map(
    text.split(',').map((pair) => {
      const [p, o] = pair.split(':');
      return [Number(p), Math.max(-1, Number(o))] as [number, number];
    }),
  );
}

export interface StateEventsOptions {
  deps: Pick<ApiDeps, 'feed'>;
  /** A comment line this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
}

const Headers = z.looseObject({
  'last-event-id': z
    .string()
    .max(30_000)
    .optional()
    .describe('the id of the last event received, to resume after it'),
});

const EventStream = {
  description:
    'text/event-stream: `ready` (id = starting position), then `state` events whose data is a UnifiedShipmentState; `end` with a reason before the server closes the stream (reconnect with Last-Event-ID)',
  content: { 'text/event-stream': { schema: z.string() } },
};

async function stream(
  deps: StateEventsOptions['deps'],
  heartbeatMs: number,
  request: FastifyRequest,
  reply: FastifyReply,
  shipmentId: string | undefined,
): Promise<void> {
  const lastEventId = request.headers['last-event-id'];
  const from = typeof lastEventId === 'string' ? parsePosition(lastEventId) : undefined;
  const subscription = await deps.feed.subscribe({ shipmentId, from });
  const raw = reply.raw;
  // From here on the response is ours: Fastify neither serializes nor ends it.
  reply.hijack();
  raw.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const position = new Map(subscription.start);
  const write = async (text: string): Promise<void> => {
    if (raw.destroyed) return;
    if (!raw.write(text)) await new Promise((resolve) => raw.once('drain', resolve));
  };
  const heartbeat = setInterval(() => void write(': keep-alive\n\n'), heartbeatMs);
  const onClose = (): void => subscription.close();
  request.raw.once('close', onClose);
  raw.once('close', onClose);
  try {
    await write(
      `retry: 2000\nid: ${formatPosition(position)}\nevent: ready\ndata: ${JSON.stringify({ position: formatPosition(position) })}\n\n`,
    );
    for (;;) {
      const change = await subscription.next();
      if (change === null) break;
      position.set(change.partition, change.offset);
      await write(
        `id: ${formatPosition(position)}\nevent: state\ndata: ${JSON.stringify(change.state)}\n\n`,
      );
    }
    if (subscription.endReason !== 'closed')
      await write(`event: end\ndata: ${JSON.stringify({ reason: subscription.endReason })}\n\n`);
  } finally {
    clearInterval(heartbeat);
    subscription.close();
    raw.end();
  }
}

export const stateEventsRoutes: FastifyPluginCallbackZod<StateEventsOptions> = (
  app,
  { deps, heartbeatMs },
  done,
) => {
  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary: 'server-sent events of every state change, resumable with Last-Event-ID',
        headers: Headers,
        response: { 200: EventStream, ...readErrors() },
      },
    },
    (request, reply) => stream(deps, heartbeatMs, request, reply, undefined),
  );
  app.get(
    '/v1/shipments/:id/events',
    {
      schema: {
        tags: ['events'],
        summary: 'server-sent events of one shipment’s state changes, resumable with Last-Event-ID',
        params: z.strictObject({ id: ShipmentIdSchema }),
        headers: Headers,
        response: { 200: EventStream, ...readErrors() },
      },
    },
    (request, reply) => stream(deps, heartbeatMs, request, reply, request.params.id),
  );
  done();
};
