// Graceful shutdown for long-running processes: on SIGTERM or SIGINT, run the registered
// closers in reverse order of registration (last started, first stopped), once.
import type { Logger } from './logger.ts';

export interface Shutdown {
  /** Registers something to close; closers run newest first. */
  onShutdown(name: string, close: () => Promise<void>): void;
  /** Resolves when a signal arrived and every closer ran. */
  readonly done: Promise<void>;
  /** Starts the shutdown without a signal (e.g. after a fatal error). */
  trigger(reason: string): void;
}

export function handleShutdown(
  log: Logger,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): Shutdown {
  const closers: { name: string; close: () => Promise<void> }[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let started = false;
  const run = async (reason: string): Promise<void> => {
    if (started) return;
    started = true;
    log.info({ reason }, 'shutting down');
    for (const { name, close } of closers.reverse()) {
      try {
        await close();
        log.info({ component: name }, 'closed');
      } catch (err) {
        log.error(
          { component: name, err: err instanceof Error ? err.message : String(err) },
          'close failed',
        );
      }
    }
    for (const signal of signals) process.removeListener(signal, onSignal);
    resolveDone();
  };
  const onSignal = (signal: NodeJS.Signals): void => void run(signal);
  for (const signal of signals) process.on(signal, onSignal);
  return {
    onShutdown: (name, close) => closers.push({ name, close }),
    done,
    trigger: (reason) => void run(reason),
  };
}
