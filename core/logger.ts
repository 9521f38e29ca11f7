// Structured JSON logs (pino). Components log through `logger.child({ component })`.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent = 'info', name = 'continuum'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}
