import { createLogger } from './logger.ts';
import { handleShutdown } from './shutdown.ts';

describe('handleShutdown', () => {
  it('closes newest first, once, and keeps going when one closer fails', async () => {
    const order: string[] = [];
    const shutdown = handleShutdown(createLogger('silent'), ['SIGUSR2']);
    shutdown.onShutdown('producer', () => Promise.resolve(void order.push('producer')));
    shutdown.onShutdown('broken', () => Promise.reject(new Error('boom')));
    shutdown.onShutdown('consumer', () => Promise.resolve(void order.push('consumer')));
    process.emit('SIGUSR2', 'SIGUSR2');
    shutdown.trigger('again');
    await shutdown.done;
    expect(order).toEqual(['consumer', 'producer']);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
