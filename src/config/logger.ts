// One pino root logger per process; components take children carrying `component` and their ids.
import { pino, type Logger } from 'pino';

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

export function createLogger(level: string, name = 'prismo'): Logger {
  return pino({ name, level, redact: { paths: redactPaths, censor: '[redacted]' } });
}
