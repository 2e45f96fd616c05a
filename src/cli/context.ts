// What every command receives: validated settings, the root logger, its arguments, and a place to put
// what must be undone when it ends (embedded servers, connections).
import type { ParseArgsConfig } from 'node:util';
import type { Settings } from '../config/config.js';
import type { Logger } from '../config/logger.js';

export type Cleanup = () => Promise<unknown>;

/** Every option a command takes, declared once: parseArgs reads the command line with it. */
export const COMMAND_OPTIONS = {
  role: { type: 'string' },
  id: { type: 'string', multiple: true },
  tenant: { type: 'string' },
  scopes: { type: 'string' },
  label: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  status: { type: 'string' },
  source: { type: 'string' },
  error: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  'until-empty': { type: 'boolean' },
  window: { type: 'string' },
  orphans: { type: 'boolean' },
  mode: { type: 'string' },
  reason: { type: 'string' },
  down: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export type CommandValues = Partial<{
  [K in keyof typeof COMMAND_OPTIONS]: (typeof COMMAND_OPTIONS)[K] extends { type: 'boolean' }
    ? boolean
    : (typeof COMMAND_OPTIONS)[K] extends { multiple: true }
      ? string[]
      : string;
}>;

export interface CommandContext {
  settings: Settings;
  logger: Logger;
  /** Positionals after the command name. */
  args: string[];
  values: CommandValues;
  cleanups: Cleanup[];
}

/** A command: runs to completion ('done'), or (start, serve) returns 'running' once the services are up. */
export type Command = (context: CommandContext) => Promise<'done' | 'running'>;

export class StartupError extends Error {}
