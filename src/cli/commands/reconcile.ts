// prismo reconcile: the raw documents of a range of days against the rows, per tenant, source and UTC day,
// or what the scheduled run does (--mode); exit status 1 when anything does not add up, so a cron job can page.
import { hostname } from 'node:os';
import { connectPostgres } from '../../db/postgres.js';
import type { Mismatch } from '../../domain/reconciliation.js';
import { type RunRequest, type RunResult, runReconciliation } from '../../reconcile/run.js';
import { type Command, StartupError } from '../context.js';
import { connectRunningMongo, resolvePostgres } from '../resolve.js';

const dateOption = (name: string, value: string | undefined, fallback: Date): Date => {
  if (value === undefined) return fallback;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new StartupError(`--${name} needs a date (2026-11-24) or an ISO 8601 time, not ${JSON.stringify(value)}`);
  return date;
};

/** The run the options ask for: a range (the default), or the scheduled kinds, which take no range. */
function requestOf(values: Parameters<Command>[0]['values'], now: Date): RunRequest {
  const mode = values.mode ?? 'range';
  if (mode !== 'range' && mode !== 'incremental' && mode !== 'full')
    throw new StartupError(`--mode takes incremental or full (or range, the default), not ${JSON.stringify(mode)}`);
  const ranged = ['tenant', 'source', 'from', 'to'].filter((name) => values[name as keyof typeof values] !== undefined);
  if (mode !== 'range' && ranged.length) throw new StartupError(`--mode ${mode} covers every tenant's closed days: drop --${ranged[0]}`);
  const weekAgo = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 7));
  const range = {
    tenantId: values.tenant,
    source: values.source,
    from: dateOption('from', values.from, weekAgo),
    to: dateOption('to', values.to, now),
  };
  return { mode, trigger: 'command', worker: `${hostname()}-${process.pid}`, range, now };
}

export const reconcileCommand: Command = async ({ settings, logger, values, cleanups }) => {
  const now = new Date();
  const request = requestOf(values, now);
  const { mongo } = await connectRunningMongo(settings, 'reconcile', cleanups);
  const { url } = await resolvePostgres(settings, logger, cleanups);
  const db = connectPostgres(url, { max: 2, applicationName: 'prismo-reconcile', timeouts: settings.postgres.timeouts });
  cleanups.push(() => db.$pool.end());
  const result = await runReconciliation(
    mongo,
    db,
    { waitingThresholdMs: settings.reconcile.waitingThresholdMs, retentionSeconds: settings.mongo.retention.processedSeconds },
    request,
  );
  if (values.json) console.log(JSON.stringify({ days: result.days, mismatches: result.mismatches }));
  else printText(result);
  if (result.mismatches.length > 0) process.exitCode = 1;
  return 'done';
};

function printText({ days, mismatches, mode, runId }: RunResult) {
  console.log(`run ${runId} (${mode})`);
  console.log(
    ['day', 'tenant', 'source', 'accepted', 'processed', 'failed', 'dead', 'waiting', 'rows', 'sums (rows/documents)'].join('\t'),
  );
  for (const d of days) {
    const sums = d.sums.map((s) => `${s.currency} ${s.direction} ${s.rowsMinor}/${s.documentsMinor}`).join(', ');
    const figures = [d.accepted, d.processed, d.failed, d.dead, d.waiting, d.rows, d.revisions, d.voids, d.replaced, d.aliases];
    console.log([d.day, d.tenantId, d.source, ...figures, sums || '-'].join('\t'));
  }
  console.log(mismatches.length ? `${mismatches.length} mismatches:` : 'no mismatches');
  for (const m of mismatches as Mismatch[]) console.log(`  ${m.kind}\t${m.id}\t${m.tenantId}\t${m.source}\t${m.day}\t${m.detail}`);
}
