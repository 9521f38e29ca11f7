import { createLogger } from '../core/logger.ts';
import { ApplicationThreadError, StreamsApplicationThread } from './application-thread.ts';

describe('StreamsApplicationThread', () => {
  it('opens a worker that answers before any application runs, and closes it', async () => {
    const fatal: Error[] = [];
    const thread = await StreamsApplicationThread.open({
      log: createLogger('silent'),
      onFatal: (e) => fatal.push(e),
    });
    try {
      expect(await thread.readiness()).toEqual({
        ready: false,
        detail: { waitingFor: 'start' },
      });
      expect(await thread.metrics()).toEqual([]);
      // Stopping nothing is nothing: the thread stays for an application.
      await thread.stopApplication();
      expect(await thread.metrics()).toEqual([]);
    } finally {
      await thread.close();
    }
    // Closed on request: not a fatal error; what is asked of it now fails with a typed error.
    expect(fatal).toEqual([]);
    await expect(thread.metrics()).rejects.toThrow(ApplicationThreadError);
    expect(await thread.readiness()).toMatchObject({ ready: false });
  });
});
