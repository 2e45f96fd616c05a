// One pino root logger per process; components take children carrying `component` and their ids.
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Secrets that may travel in objects we log; pino replaces them before serialising. */
const redactPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'key',
];

/**
 * JSON lines, or with `format` 'pretty' (or 'auto' on a terminal) human-readable ones, written
 * synchronously so nothing said just before an exit is lost.
 */
export function createLogger(level: string, name = 'prismo', format: 'auto' | 'json' | 'pretty' = 'json'): Logger {
  const options = { name, level, redact: { paths: redactPaths, censor: '[redacted]' } };
  const human = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (!human) return pino(options);
  return pino(
    options,
    pretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name' }),
  );
}
