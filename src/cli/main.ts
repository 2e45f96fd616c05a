// The prismo command: `start` runs everything in one process on embedded databases where none is configured,
// `serve --role` one service of a scaled deployment; the others are one-shot tools (cli/commands/).
import { parseArgs } from 'node:util';
import { ConfigError, loadSettings } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import { dataCommand } from './commands/data.js';
import { documentsCommand } from './commands/documents.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { reconcileCommand } from './commands/reconcile.js';
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
  data: dataCommand,
  reconcile: reconcileCommand,
  documents: documentsCommand,
};

/** The options each command takes (COMMAND_OPTIONS declares them all); --help goes with every one. */
const ACCEPTS: Record<string, Array<keyof typeof COMMAND_OPTIONS>> = {
  start: [],
  serve: ['role'],
  process: [],
  migrate: ['down'],
  keys: ['tenant', 'scopes', 'label'],
  replay: ['id', 'tenant', 'source', 'error', 'from', 'to', 'status', 'dry-run'],
  status: ['json', 'window', 'watch', 'until-empty'],
  data: ['orphans'],
  reconcile: ['tenant', 'source', 'from', 'to', 'json', 'mode'],
  documents: ['reason'],
};

const HELP: Record<string, string> = {
  start: `prismo start
  Gateway + ingestion + processor + deliverer in one process. Without DATABASE_URL it starts an embedded PostgreSQL
  (data in DATA_DIR/postgres); without MONGODB_URI a mongod through mongodb-memory-server if one can be
  had, else the development MongoDB (mongo-java-server, needs Java 17 + Maven), data in DATA_DIR/mongo.
  Without API_KEYS it creates a development key for tenant "dev" in DATA_DIR/dev-api-key.`,
  serve: `prismo serve --role <gateway|ingest|processor|deliverer|all>[,...]
  Runs services for a scaled deployment. gateway: MONGODB_URI (API keys, idempotency; the raw documents
  too unless INGEST_URL), DATABASE_URL (reads). ingest: MONGODB_URI. processor: MONGODB_URI, DATABASE_URL.
  deliverer (webhooks): DATABASE_URL alone. ingest, and a gateway with INGEST_URL: INGEST_TOKEN. Every
  process answers /healthz, /readyz, /metrics on OPS_PORT (unset: processor 9464, deliverer 9465, gateway 9466,
  ingest 9467; keep it private; /metrics is served nowhere else).`,
  process: `prismo process
  The processor alone: same as serve --role processor.`,
  migrate: `prismo migrate
  Applies pending PostgreSQL migrations (DATABASE_URL, or the embedded server). A no-op when current.
prismo migrate --down <n>
  Undoes the n latest migrations by their SQL's down half (a rollback; some drop tables and their data:
  read docs/operations.md, "Upgrades and rollback", first).`,
  keys: `prismo keys create --tenant <t> [--scopes s1,s2] [--label text]   print a new key, once
  prismo keys list [--tenant <t>]                                  ids, prefixes, scopes, state
  prismo keys revoke <id>                                          effective within API_KEY_CACHE_MS
  Scopes: transactions:write, transactions:read, admin, operator (every tenant's admin routes) (default: the first two). Keys live in MongoDB:
  MONGODB_URI, or the MongoDB of a running \`prismo start\`.`,
  replay: `prismo replay [--id <id>]... [--tenant <t>] [--source <s>] [--error <text>] [--from <iso>] [--to <iso>] [--status failed,dead] [--dry-run]
  Puts failed or dead documents back in line with fresh attempts (MONGODB_URI). --dry-run only counts.`,
  reconcile: `prismo reconcile [--tenant <t>] [--source <s>] [--from <day|iso>] [--to <day|iso>] [--json]
  The raw documents received in the range (default: the last seven days) against the rows, per tenant,
  source and UTC day; lists each document or row that does not add up (docs/operations.md) and exits 1 if
  any does. Whole days of every source are kept in PostgreSQL as the board and the API show them.
prismo reconcile --mode incremental|full [--json]
  What the processors run on schedule, by hand: the closed days changed since the last run, or every
  retained closed day. MONGODB_URI and DATABASE_URL, or those of a running \`prismo start\`.`,
  documents: `prismo documents fail <id>... --reason <text>
  Sets processed documents back to failed (attempts 0, the reason as their last error), so the processor
  writes their rows again: the action for reconciliation's processed-without-row (MONGODB_URI). Documents
  not processed are left as they are and listed.`,
  data: `prismo data                     what \`prismo start\` keeps on disk: DATA_DIR (default .prismo) and, run as
                                  root where the postgres user cannot enter the checkout, PostgreSQL's data
                                  under /var/lib/prismo/data-<hash>; also other checkouts' data there
  prismo data remove              removes this checkout's (refused while prismo start or its PostgreSQL runs)
  prismo data remove --orphans    removes the data of checkouts that no longer exist`,
  status: `prismo status [--json] [--window <seconds>]
  Backlog, oldest unprocessed age, failed and dead counts, checkpoint ages, per-tenant rates (MONGODB_URI).
prismo status --watch [--until-empty]
  Follows a drain: backlog, rate and time to empty each second, as a live line on a terminal and plain
  lines otherwise; --until-empty stops when the backlog is empty.`,
};
const USAGE = `usage: prismo <command> [options]; prismo <command> --help for one command
  start     everything in one process, on embedded databases where none is configured
  serve     run services: --role gateway, ingest, processor, deliverer or all
  process   run the processor
  migrate   apply PostgreSQL migrations
  keys      create, list or revoke API keys
  replay    re-queue failed or dead documents
  status    how far behind the pipeline is
  reconcile check that every accepted document became its row
  documents set processed documents back to failed (a lost row)
  data      show or remove the data \`prismo start\` kept on disk`;

/** The command line, or a StartupError of one line naming what is wrong and where the help is. */
function readCommandLine(argv: string[]) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof COMMAND_OPTIONS }>>;
  const name = argv.find((arg) => !arg.startsWith('-'));
  const help = name && HELP[name] ? `prismo ${name} --help` : 'prismo --help';
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: COMMAND_OPTIONS });
  } catch (error) {
    // parseArgs' messages are multi-line and suggest "--" for positionals; one line is what a typo deserves.
    const option = /'([^']+)'/.exec((error as Error).message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new StartupError(`unknown option ${option} (${help} lists the options)`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new StartupError(`option ${option} needs a value (${help})`);
    throw new StartupError(`${(error as Error).message.split('\n')[0]} (${help})`);
  }
  const foreign =
    name && ACCEPTS[name] ? Object.keys(parsed.values).filter((key) => key !== 'help' && !ACCEPTS[name]!.includes(key as never)) : [];
  if (foreign.length) throw new StartupError(`${name} takes no option --${foreign[0]} (${help} lists the options)`);
  return parsed;
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = readCommandLine(argv);
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
