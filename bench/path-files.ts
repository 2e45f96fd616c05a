// Which src/ files one transaction passes through, measured rather than read: V8's precise coverage (call
// counts) around one request followed to its end, minus every function that also ran in an idle window
// three times as long (timers, heartbeats, sweeps that run anyway). docs/architecture.md, "One transaction's
// path", reviews these lists by hand. Run: `npx tsx bench/path-files.ts [post|statement|webhook]`.
import { Session } from 'node:inspector/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// Coverage starts before the system's modules load, so every function of theirs is counted from its first call.
const session = new Session();
session.connect();
await session.post('Profiler.enable');
// Only to quote an anonymous function's first characters in the list (the compiled text tsx ran).
await session.post('Debugger.enable');
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });

const { createServer } = await import('node:http');
const { ObjectId } = await import('mongodb');
const support = await import('./support.js');
const { envelopeOf } = await import('./envelope.js');
const { waitFor } = await import('../test/support/wait-for.js');
const { acceptCollections, ensureAcceptIndexes } = await import('../src/gateway/accept-collections.js');
const { createApiKey } = await import('../src/gateway/api-key-store.js');
const { insertEvents, eventIdOf } = await import('../src/pg-store/insert-events.js');

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** An idle window this many times the request's, and never shorter than the processor's 10 s heartbeat. */
const IDLE_FACTOR = 3;
const IDLE_MIN_MS = 11_000;

type Counts = Map<string, { file: string; name: string; count: number; scriptId: string; offset: number }>;

/** The call counts of src/ functions since the last take (taking resets V8's counters). */
async function takeCounts(): Promise<Counts> {
  const { result } = await session.post('Profiler.takePreciseCoverage');
  const counts: Counts = new Map();
  for (const script of result) {
    if (!script.url.startsWith('file://')) continue;
    const path = fileURLToPath(script.url);
    if (!path.startsWith(SRC) || path.includes('node_modules')) continue;
    const file = relative(SRC, path);
    for (const fn of script.functions) {
      const count = fn.ranges[0]?.count ?? 0;
      if (count > 0)
        counts.set(`${file}#${fn.functionName}@${fn.ranges[0]!.startOffset}`, {
          file,
          name: fn.functionName,
          count,
          scriptId: script.scriptId,
          offset: fn.ranges[0]!.startOffset,
        });
    }
  }
  return counts;
}

const sources = new Map<string, string>();

/** A function's name, or its first characters (as tsx compiled them) when it has none. */
async function nameOf({ name, scriptId, offset }: { name: string; scriptId: string; offset: number }): Promise<string> {
  if (name) return name;
  if (!sources.has(scriptId)) sources.set(scriptId, (await session.post('Debugger.getScriptSource', { scriptId })).scriptSource);
  return `«${sources
    .get(scriptId)!
    .slice(offset, offset + 48)
    .replace(/\s+/g, ' ')}»`;
}

/** src/ files with a function that ran in `work` but not in `idle`, with those functions' names. */
async function filesOf(work: Counts, idle: Counts): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  for (const [key, fn] of work) {
    if (idle.has(key)) continue;
    files.set(fn.file, [...(files.get(fn.file) ?? []), await nameOf(fn)]);
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The hand review (docs/architecture.md, "One transaction's path"), kept here so the count reproduces: files
 * whose functions ran for the request without its data passing through them.
 */
const NOT_WORKING: Record<string, string> = {
  'cli/system.ts': 'metrics: counts the accepted document',
  'db/mongo.ts': 'deadline wrapper: carries the callback',
  'db/postgres.ts': 'driver plumbing: parses bigint columns',
  'db/postgres-errors.ts': 'error classification: carries the read',
  'ops/metrics.ts': 'metrics labels',
  'ops/ops-routes.ts': 'HTTP request metrics',
  'ops/processor-tracker.ts': 'batch metrics',
  'ops/webhook-tracker.ts': 'delivery metrics',
  'processor/batch-sizer.ts': "the next batch's size: sees only byte counts",
  'processor/log-events.ts': "logs the batch's outcome",
  'processor/start.ts': "wiring: hands the sizer's limit, a tenant's weight and the outcome event on",
};

/** Runs `act` in a measured window, then an idle window, and prints what ran for the act alone. */
async function measure(label: string, act: () => Promise<unknown>, review: { skip?: string[]; keep?: Record<string, string> } = {}) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  await takeCounts();
  const started = Date.now();
  await act();
  const work = await takeCounts();
  const elapsed = Date.now() - started;
  await new Promise((resolve) => setTimeout(resolve, Math.max(IDLE_FACTOR * elapsed, IDLE_MIN_MS)));
  const idle = await takeCounts();
  const files = await filesOf(work, idle);
  for (const file of review.skip ?? []) files.delete(file);
  console.log(`\n${label}: ${files.size} src/ files ran for it (${elapsed} ms; idle window subtracted)`);
  for (const [file, names] of files) console.log(`  ${file.padEnd(44)} ${[...new Set(names)].join(', ')}`);
  const idleOnly = [...new Set([...work.values()].map((f) => f.file))].filter((file) => !files.has(file) && !review.skip?.includes(file));
  console.log(`ran for it but also when idle, so not counted: ${idleOnly.sort().join(', ') || 'none'}`);
  const kept = Object.entries(review.keep ?? {}).filter(([file]) => idleOnly.includes(file));
  const working = [...[...files.keys()].filter((file) => !(file in NOT_WORKING)), ...kept.map(([file]) => file)].sort();
  console.log('not working (their functions ran, the data did not pass through them):');
  for (const file of files.keys()) if (file in NOT_WORKING) console.log(`  ${file.padEnd(44)} ${NOT_WORKING[file]}`);
  for (const [file, why] of kept) console.log(`kept by hand, though it also runs idle: ${file} (${why})`);
  console.log(`WORKING FILES: ${working.length}`);
  for (const [i, file] of working.entries()) console.log(`  ${String(i + 1).padStart(2)}. ${file}`);
}

const env = await support.startBenchEnv(process.env);
const dbs = await support.freshDatabases(env, 'path');
const scenario = process.argv[2] ?? 'post';
const roles =
  scenario === 'webhook' ? (['gateway', 'ingest', 'processor', 'deliverer'] as const) : (['gateway', 'ingest', 'processor'] as const);
const system = await support.startBenchSystem(env, dbs, [...roles], {
  RECONCILE_INTERVAL_SECONDS: '0',
  WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
});
const auth = { authorization: `Bearer ${support.BENCH_API_KEY}` };
const raw = dbs.mongo.db.collection('raw_transactions');

/** POSTs the i-th bench envelope and waits for its row and its processed mark. */
async function postOne(i: number): Promise<void> {
  const response = await fetch(`${system.gatewayUrl}/api/v1/transactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ ...envelopeOf(i), externalId: `path-${i}` }),
  });
  if (response.status !== 202) throw new Error(`POST: ${response.status} ${await response.text()}`);
  const { id } = (await response.json()) as { id: string };
  await waitFor('the row', () => dbs.db.oneOrNone('SELECT 1 FROM transactions WHERE raw_id = $1', [id]), { intervalMs: 10 });
  await waitFor('the processed mark', () => raw.findOne({ _id: new ObjectId(id), processed: true }), { intervalMs: 10 });
}

/** A camt.053 statement of two booked entries, unique by `n`. */
const statementOf = (n: number) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>PATH-${n}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>PATH-${n}</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      ${[1, 2]
        .map(
          (e) => `<Ntry>
        <Amt Ccy="EUR">${e}0.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-28</Dt></BookgDt><ValDt><Dt>2026-11-28</Dt></ValDt>
        <AcctSvcrRef>REF-PATH-${n}-${e}</AcctSvcrRef>
      </Ntry>`,
        )
        .join('\n')}
    </Stmt>
  </BkToCstmrStmt>
</Document>`;

/** Uploads a statement and waits for its entries' rows and their processed marks. */
async function uploadOne(n: number): Promise<void> {
  const before = await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r: { n: number }) => r.n);
  const response = await fetch(`${system.gatewayUrl}/api/v1/statements`, {
    method: 'POST',
    headers: { 'content-type': 'application/xml', ...auth },
    body: statementOf(n),
  });
  if (response.status !== 202) throw new Error(`statement: ${response.status} ${await response.text()}`);
  await waitFor(
    'the entries’ rows',
    async () => (await dbs.db.one('SELECT count(*)::int AS n FROM transactions', [], (r: { n: number }) => r.n)) >= before + 2,
    { intervalMs: 10 },
  );
  await waitFor('the processed marks', async () => (await raw.countDocuments({ processed: { $ne: true } })) === 0, { intervalMs: 10 });
}

/** A receiver on loopback answering 204, and an endpoint of the bench tenant subscribed to it. */
async function subscribeReceiver(): Promise<{ close(): void }> {
  const server = createServer((request, response) => request.resume().on('end', () => response.writeHead(204).end()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const accept = acceptCollections(dbs.mongo.db);
  await ensureAcceptIndexes(accept);
  const admin = (await createApiKey(accept, 'bench', ['admin'])).key;
  const response = await fetch(`${system.gatewayUrl}/api/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ url: `http://127.0.0.1:${port}/hook`, events: ['transaction.processed'] }),
  });
  if (response.status !== 201) throw new Error(`endpoint: ${response.status} ${await response.text()}`);
  return { close: () => server.close() };
}

/** Records a transaction.processed event (the tool's own write) and waits for its 2xx delivery recorded. */
async function deliverOne(n: number): Promise<void> {
  const id = eventIdOf('transaction.processed', `path-event-${n}`);
  const data = { id: `path-event-${n}`, status: 'processed' };
  await insertEvents(dbs.db, [{ id, tenant_id: 'bench', type: 'transaction.processed', raw_id: `path-event-${n}`, data }]);
  await waitFor(
    'the delivery',
    () => dbs.db.oneOrNone('SELECT 1 FROM webhook_deliveries WHERE event_id = $1 AND status BETWEEN 200 AND 299', [id]),
    {
      intervalMs: 10,
    },
  );
}

try {
  if (scenario === 'post') {
    await postOne(0); // warm-up: lazy compilation and first-call setup are not the transaction's path
    await measure('one generic POST to its row and processed mark', () => postOne(1));
  } else if (scenario === 'statement') {
    await uploadOne(0);
    await measure('one camt.053 upload (two entries) to its rows and processed marks', () => uploadOne(1), {
      keep: { 'pg-store/insert-events.ts': "records the entries' events (the failure relay calls it idle, with none)" },
    });
  } else if (scenario === 'webhook') {
    const receiver = await subscribeReceiver();
    await deliverOne(0);
    // insert-events.ts is the tool writing the event row: the path starts at that row.
    await measure('one webhook delivery from the event row to its 2xx recorded', () => deliverOne(1), {
      skip: ['pg-store/insert-events.ts'],
      keep: { 'pg-store/read-due-endpoints.ts': 'finds the endpoint this event is due for' },
    });
    receiver.close();
  } else throw new Error(`unknown scenario ${scenario}: post, statement or webhook`);
} finally {
  await system.stop();
  await dbs.drop();
  await env.stop();
  session.disconnect();
}
