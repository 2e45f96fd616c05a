// What every command receives: validated settings, the root logger, its arguments, and a place to put
// what must be undone when it ends (embedded servers, connections).
import type { Settings } from '../config/config.js';
import type { Logger } from '../config/logger.js';

export type Cleanup = () => Promise<unknown>;

export interface CommandContext {
  settings: Settings;
  logger: Logger;
  /** Positionals after the command name. */
  args: string[];
  values: {
    role?: string;
    id?: string[];
    tenant?: string;
    scopes?: string;
    label?: string;
    from?: string;
    to?: string;
    status?: string;
    source?: string;
    error?: string;
    'dry-run'?: boolean;
    json?: boolean;
    watch?: boolean;
    'until-empty'?: boolean;
    window?: string;
  };
  cleanups: Cleanup[];
}

/** A command: runs to completion ('done'), or (start, serve) returns 'running' once the services are up. */
export type Command = (context: CommandContext) => Promise<'done' | 'running'>;

export class StartupError extends Error {}
