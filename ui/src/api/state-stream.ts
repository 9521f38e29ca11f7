// Server-sent events of state changes over fetch (EventSource cannot send the API key header),
// resuming after a dropped connection from the last event id, as EventSource would.
import { authHeaders, KEY_NEEDED_EVENT } from './client.ts';
import type { UnifiedShipmentState } from './types.ts';

export interface StreamHandlers {
  /** Every state change, in the order the topic has them. */
  onState: (state: UnifiedShipmentState, position: string) => void;
  /** The stream's position when it (re)starts: `partition:offset,…`. */
  onReady?: (position: string) => void;
  onConnection?: (connected: boolean) => void;
}

interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

function parseBlock(block: string): SseEvent | undefined {
  const event: SseEvent = { data: '' };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') event.id = value;
    else if (field === 'event') event.event = value;
    else if (field === 'data') data.push(value);
  }
  event.data = data.join('\n');
  return event.event || data.length > 0 ? event : undefined;
}

/**
 * Follows `path` (e.g. /v1/events) until `signal` aborts: reconnects after 2 s when the stream
 * drops, with Last-Event-ID so no change is missed or repeated. `from` starts from a position.
 */
export async function followStates(
  path: string,
  handlers: StreamHandlers,
  signal: AbortSignal,
  from?: string,
): Promise<void> {
  let lastId = from;
  while (!signal.aborted) {
    try {
      const response = await fetch(path, {
        headers: {
          accept: 'text/event-stream',
          ...authHeaders(),
          ...(lastId ? { 'last-event-id': lastId } : {}),
        },
        signal,
      });
      if (response.status === 401) window.dispatchEvent(new Event(KEY_NEEDED_EVENT));
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      handlers.onConnection?.(true);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const event = parseBlock(text.slice(0, end));
          text = text.slice(end + 2);
          if (!event) continue;
          if (event.id) lastId = event.id;
          if (event.event === 'ready') handlers.onReady?.(event.id ?? '');
          else if (event.event === 'state')
            handlers.onState(JSON.parse(event.data) as UnifiedShipmentState, event.id ?? '');
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    handlers.onConnection?.(false);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** A position `count` changes back on every partition (never before the start). */
export function positionBefore(position: string, count: number): string {
  return position
    .split(',')
    .filter(Boolean)
    .map((pair) => {
      const [partition, offset] = pair.split(':');
      return `${partition}:${Math.max(-1, Number(offset) - count)}`;
    })
    .join(',');
}
