// One worktree's gateway + ingestion in a process of its own, for bench/batch-cost.ts: counts the MongoDB
// commands it sends (the driver's command monitoring) and its CPU time over the windows the parent asks for.
// Imports everything from the worktree named in argv, so the same file measures another commit's code.

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [root, pgServerUrl, mongoUri, label, mode] = process.argv.slice(2) as [string, string, string, string, string?];
const requireFromRoot = createRequire(`${root}/package.json`);
const { MongoClient } = requireFromRoot('mongodb') as typeof import('mongodb');
const connect = MongoClient.prototype.connect;
// Every client this process opens monitors its commands (the system's among them).
MongoClient.prototype.connect = function (this: import('mongodb').MongoClient) {
  this.options.monitorCommands = true;
  return connect.call(this);
};
if (mode === 'no-insert') {
  // The gateway's and ingestion's own work alone: raw documents are built but not sent (the same in A and B
  // but for B's `bytes` field), so MongoDB's pace no longer shapes the event loop's turns.
  const { Collection } = requireFromRoot('mongodb') as typeof import('mongodb');
  const insertMany = Collection.prototype.insertMany;
  Collection.prototype.insertMany = async function (this: import('mongodb').Collection, docs: unknown[], options?: object) {
    if (this.collectionName !== 'raw_transactions') return insertMany.call(this, docs as never, options);
    await new Promise((resolve) => setImmediate(resolve));
    return { acknowledged: true, insertedCount: docs.length, insertedIds: {} };
  } as typeof insertMany;
}
const support = (await import(pathToFileURL(`${root}/bench/support.ts`).href)) as typeof import('./support.js');
const env = { pgServerUrl, mongoUri } as import('./support.js').BenchEnv;
const dbs = await support.freshDatabases(env, `cost_${label}`);
// Quotas out of the way: documents not stored still count as waiting, and the rate is the machine's.
const system = await support.startBenchSystem(env, dbs, ['gateway', 'ingest'], {
  TENANT_DOCS_PER_SECOND: '100000000',
  TENANT_MAX_UNPROCESSED: '1000000000',
  TENANT_MAX_WAITING_BYTES: String(2 ** 50),
  TENANT_MAX_BYTES_PER_DAY: String(2 ** 50),
});
let counts = new Map<string, number>();
system.mongo!.client.on('commandStarted', (event) => {
  const target = event.command[event.commandName];
  const key = `${event.commandName}${typeof target === 'string' ? ` ${target}` : ''}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
});
let durations = new Map<string, number>();
system.mongo!.client.on('commandSucceeded', (event) => {
  if (event.commandName === 'insert') return;
  durations.set(event.commandName, (durations.get(event.commandName) ?? 0) + event.duration);
});
let cpu = process.cpuUsage();
let session: Session | undefined;
process.on('message', async (message: { do: 'start' | 'stop' | 'quit'; profile?: string }) => {
  if (message.do === 'start') {
    counts = new Map();
    durations = new Map();
    if (message.profile) {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    cpu = process.cpuUsage();
    process.send!({ started: true });
  } else if (message.do === 'stop') {
    const used = process.cpuUsage(cpu);
    if (session && message.profile) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(message.profile, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    }
    process.send!({ cpuUs: used.user + used.system, counts: Object.fromEntries(counts), ms: Object.fromEntries(durations) });
  } else {
    await system.stop();
    await dbs.drop();
    process.exit(0);
  }
});
process.send!({ url: system.gatewayUrl });
