// The prismo command: `start` runs everything in one process on embedded databases where none is configured,
// `serve --role` one service of a scaled deployment; the others are one-shot tools (cli/commands/).
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { replayCommand } from './commands/replay.js';
import { processCommand, serveCommand } from './commands/serve.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { type Cleanup, COMMAND_OPTIONS, type Command, StartupError } from './context.js';

const COMMANDS: Record<string, Command> = {
  start: startCommand,
  serve: serveCommand,
  process: processCommand,
  migrate: migrateCommand,
  keys: keysCommand,
  replay: replayCommand,
  status: statusCommand,
};

const HELP: Record<string, string> = {
  start: `prismo start
  Gateway + ingestion + processor in one process. Without DATABASE_URL it starts an embedded PostgreSQL
  (data in DATA_DIR/postgres); without MONGODB_URI a mongod through mongodb-memory-server if one can be
  had, else the development MongoDB (mongo-java-server, needs Java 17 + Maven), data in DATA_DIR/mongo.
  Without API_KEYS it creates a development key for tenant "dev" in DATA_DIR/dev-api-key.`,
  serve: `prismo serve --role <gateway|ingest|processor|all>[,...]
  Runs services for a scaled deployment. gateway: MONGODB_URI (API keys, idempotency; the raw documents
  too unless INGEST_URL), DATABASE_URL (reads). ingest: MONGODB_URI. processor: MONGODB_URI, DATABASE_URL
  (its /healthz, /readyz, /metrics on OPS_PORT).`,
  process: `prismo process
  The processor alone: same as serve --role processor.`,
  migrate: `prismo migrate
  Applies pending PostgreSQL migrations (DATABASE_URL, or the embedded server). A no-op when current.`,
  keys: `prismo keys create --tenant <t> [--scopes s1,s2] [--label text]   print a new key, once
  prismo keys list [--tenant <t>]                                  ids, prefixes, scopes, state
  prismo keys revoke <id>                                          effective within API_KEY_CACHE_MS
  Scopes: transactions:write, transactions:read, admin, operator (every tenant's admin routes) (default: the first two). Keys live in MongoDB:
  MONGODB_URI, or the MongoDB of a running \`prismo start\`.`,
  replay: `prismo replay [--id <id>]... [--tenant <t>] [--source <s>] [--error <text>] [--from <iso>] [--to <iso>] [--status failed,dead] [--dry-run]
  Puts failed or dead documents back in line with fresh attempts (MONGODB_URI). --dry-run only counts.`,
  status: `prismo status [--json] [--window <seconds>]
  Backlog, oldest unprocessed age, failed and dead counts, checkpoint ages, per-tenant rates (MONGODB_URI).
prismo status --watch [--until-empty]
  Follows a drain: backlog, rate and time to empty each second, as a live line on a terminal and plain
  lines otherwise; --until-empty stops when the backlog is empty.`,
};
const USAGE = `usage: prismo <command> [options]; prismo <command> --help for one command
  start     everything in one process, on embedded databases where none is configured
  serve     run services: --role gateway, ingest, processor or all
  process   run the processor
  migrate   apply PostgreSQL migrations
  keys      create, list or revoke API keys
  replay    re-queue failed or dead documents
  status    how far behind the pipeline is`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: COMMAND_OPTIONS,
  });
  const [name, ...args] = positionals;
  if (!name || (values.help && !HELP[name])) {
    console.log(USAGE);
    return;
  }
  if (values.help) {
    console.log(HELP[name]);
    return;
  }
  const command = COMMANDS[name];
  if (!command) throw new StartupError(`unknown command "${name}"\n${USAGE}`);
  const settings = loadSettings();
  const logger = createLogger(settings.log.level, 'prismo', settings.log.format);
  const cleanups: Cleanup[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'cleanup failed'));
  };
  try {
    // A service command keeps running; its signal handlers clean up. Every other command is done here.
    if ((await command({ settings, logger, args, values, cleanups })) !== 'running') await cleanUp();
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    console.error(`prismo: ${error.message}`);
  } else {
    console.error('prismo: failed to start:', error);
  }
  process.exit(1);
});
