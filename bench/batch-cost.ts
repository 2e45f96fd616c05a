// What one batch request costs the gateway (and MongoDB), measured without timing the machine: two
// worktrees' gateways side by side in their own processes, a fixed number of batch requests to each,
// interleaved, and per request: MongoDB commands sent, the gateway's CPU time, the MongoDB process's CPU time.
//   npx tsx bench/batch-cost.ts --a /work/wt/base --b . [--rounds 6 --requests 600 --profile dir]
// --single: single POSTs of one envelope (POST /api/v1/transactions, 202) instead of batches.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { envelopeOf } from './envelope.js';
import { BENCH_API_KEY, median, startBenchEnv } from './support.js';

const { values } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '6' },
    requests: { type: 'string', default: '600' },
    connections: { type: 'string', default: '4' },
    items: { type: 'string', default: '100' },
    profile: { type: 'string' },
    /** Raw documents built but not sent to MongoDB: the gateway's own cost per request. */
    'no-insert': { type: 'boolean', default: false },
    single: { type: 'boolean', default: false },
  },
});
if (!values.a) throw new Error('usage: batch-cost --a <worktree> --b <worktree>');
const roots = { A: resolve(values.a), B: resolve(values.b!) };
const [rounds, requests, connections, items] = [values.rounds, values.requests, values.connections, values.items].map(Number) as [
  number,
  number,
  number,
  number,
];

/** CPU time of a process so far, µs, from /proc (user + system). */
function procCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
}
/** The development MongoDB this process started (a java child), if it is one. */
function mongoPid(): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [, rest] = stat.split(') ');
      if (stat.includes('(java)') && Number(rest!.split(' ')[1]) === process.pid) return Number(name);
    } catch {}
  }
  return undefined;
}

const env = await startBenchEnv({ DATABASE_URL: process.env.DATABASE_URL, MONGODB_URI: process.env.MONGODB_URI });
const mongo = mongoPid();
const child = fileURLToPath(new URL('./batch-cost-child.ts', import.meta.url));
type Reply = { url?: string; started?: boolean; cpuUs?: number; counts?: Record<string, number>; ms?: Record<string, number> };
const subjects = await Promise.all(
  (['A', 'B'] as const).map(async (label) => {
    const proc = fork(
      child,
      [roots[label], env.pgServerUrl, env.mongoUri, label.toLowerCase(), values['no-insert'] ? 'no-insert' : 'insert'],
      {
        cwd: roots[label],
        execArgv: ['--import', 'tsx'],
      },
    );
    const next = () => new Promise<Reply>((done) => proc.once('message', (m) => done(m as Reply)));
    const { url } = await next();
    return {
      label,
      proc,
      url: url!,
      ask: (m: object) => {
        // Listening before sending: the reply cannot come first.
        const reply = next();
        proc.send(m);
        return reply;
      },
    };
  }),
);

const single = values.single === true;
const body = JSON.stringify(single ? envelopeOf(0) : { items: Array.from({ length: items }, (_, i) => envelopeOf(i)) });
const agent = new Agent({ keepAlive: true, maxSockets: connections });
function post(url: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(
      `${url}/api/v1/transactions${single ? '' : '/batch'}`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_API_KEY}` } },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode!));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}
async function load(url: string, n: number): Promise<number> {
  let sent = 0;
  let bad = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < n) {
        sent++;
        if ((await post(url)) !== (single ? 202 : 207)) bad++;
      }
    }),
  );
  return bad;
}

/** One subject's window: per request, the gateway's CPU, the MongoDB process's CPU (µs) and commands; its wall time. */
interface Window {
  cpu: number;
  mongo: number;
  commands: number;
  ms: number;
}
const results: Record<'A' | 'B', Window[]> = { A: [], B: [] };
for (const s of subjects) await load(s.url, Math.min(200, requests)); // warm: JIT, the stand-in's JVM
// What each costs with no request at all (timers, background rounds): a share of every window below.
for (const s of subjects) {
  await s.ask({ do: 'start' });
  const mongo0 = mongo ? procCpuUs(mongo) : 0;
  await new Promise((done) => setTimeout(done, 5_000));
  const { cpuUs, counts } = await s.ask({ do: 'stop' });
  const mongoMs = mongo ? (procCpuUs(mongo) - mongo0) / 1000 : Number.NaN;
  console.log(
    `${s.label} idle 5 s: gateway ${(cpuUs! / 1000).toFixed(0)} ms CPU, MongoDB ${mongoMs.toFixed(0)} ms, commands ${JSON.stringify(counts)}`,
  );
}
for (let round = 0; round < rounds; round++) {
  // A-B, then B-A: drift (the collection growing, the machine's load) hits both alike.
  for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
    const profile = values.profile && round === rounds - 1 ? resolve(values.profile, `batch-${s.label}.cpuprofile`) : undefined;
    await s.ask({ do: 'start', profile });
    const mongo0 = mongo ? procCpuUs(mongo) : 0;
    const t0 = performance.now();
    const bad = await load(s.url, requests);
    const ms = performance.now() - t0;
    const mongoUs = mongo ? procCpuUs(mongo) - mongo0 : Number.NaN;
    const { cpuUs, counts, ms: waited } = await s.ask({ do: 'stop', profile });
    const commands = Object.values(counts!).reduce((a, b) => a + b, 0);
    const window = { cpu: cpuUs! / requests, mongo: mongoUs / requests, commands: commands / requests, ms };
    results[s.label].push(window);
    console.log(
      `${s.label} round ${round + 1}: gateway ${window.cpu.toFixed(0)} µs/req, mongo ${window.mongo.toFixed(0)} µs/req, ` +
        `${window.commands.toFixed(3)} commands/req, ${((requests / ms) * 1000).toFixed(0)} req/s${bad ? `, ${bad} not 207` : ''} ` +
        `${JSON.stringify(counts)}, ms waited (inserts aside) ${JSON.stringify(waited)}`,
    );
  }
}
const field = (label: 'A' | 'B', key: keyof Window) => results[label].map((w) => (key === 'ms' ? (requests / w.ms) * 1000 : w[key]));
for (const label of ['A', 'B'] as const) {
  const [cpu, mongoCpu, commands, rate] = (['cpu', 'mongo', 'commands', 'ms'] as const).map((key) => median(field(label, key)));
  console.log(
    `${label} (${roots[label]}): medians ${cpu!.toFixed(0)} µs gateway CPU/req, ${mongoCpu!.toFixed(0)} µs MongoDB CPU/req, ` +
      `${commands!.toFixed(3)} commands/req, ${rate!.toFixed(0)} req/s`,
  );
}
// The same round's B over A: the pair shares the machine's moment, so this is the steadier figure.
const paired = (key: keyof Window) => median(field('B', key).map((b, i) => b / field('A', key)[i]!));
console.log(`B / A, median of the rounds' ratios: gateway CPU ${paired('cpu').toFixed(3)}, MongoDB CPU ${paired('mongo').toFixed(3)}`);
for (const s of subjects) s.proc.send({ do: 'quit' });
await Promise.all(subjects.map((s) => new Promise((done) => s.proc.once('exit', done))));
agent.destroy();
await env.stop();
