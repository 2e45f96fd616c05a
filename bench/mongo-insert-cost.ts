// The development MongoDB's CPU per batch insert of 100 raw documents, into one database indexed by each
// worktree's ensureMongoIndexes (its settings' retention): what an index set costs every insert, measured
// as the stand-in's own CPU time (/proc), interleaved A,B,B,A,... Diagnostic for docs/benchmarks.md.
//   npx tsx bench/mongo-insert-cost.ts --a /work/wt/base --b . [--rounds 10 --batches 200]
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveMongo } from '../src/dev/mongo-resolver.js';
import { envelopeOf } from './envelope.js';
import { median } from './support.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '10' },
    batches: { type: 'string', default: '200' },
  },
});
const [rounds, batches] = [Number(values.rounds), Number(values.batches)];
const cpuUs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
};
const { mongo } = await resolveMongo({ testcontainers: false });
if (!mongo) throw new Error('no MongoDB');
const jvm = readdirSync('/proc')
  .filter((name) => /^\d+$/.test(name))
  .find((name) => {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      return stat.includes('(java)') && Number(stat.split(') ')[1]!.split(' ')[1]) === process.pid;
    } catch {
      return false;
    }
  });
if (!jvm) throw new Error('not the stand-in');
const subjects = await Promise.all(
  (['A', 'B'] as const).map(async (label) => {
    const root = resolve(label === 'A' ? values.a! : values.b!);
    const load = (path: string) => import(pathToFileURL(`${root}/${path}`).href);
    const { connectMongo, ensureMongoIndexes } = await load('src/raw-store/collections.ts');
    const { newRawTransaction } = await load('src/raw-store/insert.ts');
    const { loadSettings } = await load('src/config/config.ts');
    const connection = await connectMongo(mongo.uri, `insert_cost_${label.toLowerCase()}`);
    await connection.db.dropDatabase();
    await ensureMongoIndexes(connection, loadSettings({}).mongo.retention);
    const indexes = (await connection.raw.listIndexes().toArray()).map((index: { name: string }) => index.name);
    console.log(`${label} (${root}): raw_transactions indexes ${indexes.join(', ')}`);
    const insert = () => connection.raw.insertMany(Array.from({ length: 100 }, (_, i) => newRawTransaction('bench', envelopeOf(i))));
    return { label, connection, insert, perBatch: [] as number[] };
  }),
);
for (const s of subjects) for (let i = 0; i < 50; i++) await s.insert();
for (let round = 0; round < rounds; round++) {
  for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
    const before = cpuUs(Number(jvm));
    for (let i = 0; i < batches; i++) await s.insert();
    s.perBatch.push((cpuUs(Number(jvm)) - before) / batches);
  }
  console.log(`round ${round + 1}: ${subjects.map((s) => `${s.label} ${s.perBatch.at(-1)!.toFixed(0)} µs`).join(', ')}`);
}
const [a, b] = subjects as [(typeof subjects)[0], (typeof subjects)[0]];
const ratios = a.perBatch.map((x, i) => b.perBatch[i]! / x);
console.log(
  `median µs of stand-in CPU per insertMany of 100: A ${median(a.perBatch).toFixed(0)}, B ${median(b.perBatch).toFixed(0)}; B/A per round, median ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).join(' ')})`,
);
for (const s of subjects) await s.connection.close();
await mongo.stop();
