// prismo reconcile: the raw documents of a range of days against the rows, per tenant, source and UTC day;
// exit status 1 when anything does not add up, so a cron job can page (docs/operations.md).
import { connectPostgres } from '../../db/postgres.js';
import { type Mismatch, reconcile } from '../../reconcile/reconcile.js';
import { type Command, StartupError } from '../context.js';
import { connectRunningMongo, resolvePostgres } from '../resolve.js';

/** A document waiting longer than this is reported. */
const WAITING_THRESHOLD_MS = 60 * 60_000;

const dateOption = (name: string, value: string | undefined, fallback: Date): Date => {
  if (value === undefined) return fallback;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new StartupError(`--${name} needs a date (2026-11-24) or an ISO 8601 time, not ${JSON.stringify(value)}`);
  return date;
};

export const reconcileCommand: Command = async ({ settings, logger, values, cleanups }) => {
  const now = new Date();
  const weekAgo = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 7));
  const options = {
    tenantId: values.tenant,
    source: values.source,
    from: dateOption('from', values.from, weekAgo),
    to: dateOption('to', values.to, now),
    waitingThresholdMs: WAITING_THRESHOLD_MS,
    retentionSeconds: settings.mongo.retention.processedSeconds,
    now,
  };
  const { mongo } = await connectRunningMongo(settings, 'reconcile', cleanups);
  const { url } = await resolvePostgres(settings, logger, cleanups);
  const db = connectPostgres(url, { max: 2 });
  cleanups.push(() => db.$pool.end());
  const result = await reconcile(mongo, db, options);
  if (values.json) console.log(JSON.stringify(result));
  else printText(result);
  if (result.mismatches.length > 0) process.exitCode = 1;
  return 'done';
};

function printText({ days, mismatches }: Awaited<ReturnType<typeof reconcile>>) {
  console.log(['day', 'tenant', 'source', 'accepted', 'processed', 'failed', 'dead', 'waiting', 'rows'].join('\t'));
  for (const d of days) console.log([d.day, d.tenantId, d.source, d.accepted, d.processed, d.failed, d.dead, d.waiting, d.rows].join('\t'));
  console.log(mismatches.length ? `${mismatches.length} mismatches:` : 'no mismatches');
  for (const m of mismatches as Mismatch[]) console.log(`  ${m.kind}\t${m.id}\t${m.tenantId}\t${m.source}\t${m.detail}`);
}
