// Structured JSON logs (pino). Components log through `logger.child({ component })`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent = 'info', name = 'continuum'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/**
 * A logger writing to a file (its folder made if missing): for commands whose terminal shows a
 * status, not log lines (`continuum demo`).
 */
export function createFileLogger(level: LevelWithSilent, file: string, name = 'continuum'): Logger {
  return pino(
    { name, level, base: { pid: process.pid } },
    pino.destination({ dest: file, mkdir: true, sync: false }),
  );
}
