// Where the machine's cores went during a run: CPU seconds (user + system) of this process and every process
// below it (the processor, the development MongoDB, PostgreSQL and its backends), read from /proc before
// and after, grouped by what each process is. A process that exits between the two readings is missing
// (the load generator reports its own).
import { readdir, readFile } from 'node:fs/promises';

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

interface ProcessCpu {
  ppid: number;
  seconds: number;
  command: string;
}

async function readProcesses(): Promise<Map<number, ProcessCpu>> {
  const processes = new Map<number, ProcessCpu>();
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const [stat, cmdline] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''),
      readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
    ]);
    // After the command name in parentheses (which may hold spaces): state, ppid, …, utime (14th), stime (15th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 13) continue;
    processes.set(pid, {
      ppid: Number(fields[1]),
      seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      command: cmdline.replaceAll('\0', ' '),
    });
  }
  return processes;
}

/** What a process is, for the report. */
function roleOf(pid: number, { command }: ProcessCpu): string {
  if (pid === process.pid) return 'bench process (gateway + ingestion)';
  if (command.includes('prismo.js') && command.includes('deliverer')) return 'deliverer';
  if (command.includes('prismo.js') && command.includes('process')) return 'processor';
  if (command.includes('receiver')) return 'webhook receiver';
  if (command.includes('java')) return 'MongoDB (development stand-in)';
  if (command.includes('postgres')) return 'PostgreSQL';
  if (command.includes('loadgen')) return 'load generator';
  return 'other';
}

/** A reading of this process tree's CPU; `since` gives the seconds each role used from the first to now. */
export async function cpuReading() {
  const tree = async () => {
    const all = await readProcesses();
    const mine = new Map<number, ProcessCpu>();
    const visit = (pid: number) => {
      const own = all.get(pid);
      if (!own || mine.has(pid)) return;
      mine.set(pid, own);
      for (const [child, cpu] of all) if (cpu.ppid === pid) visit(child);
    };
    visit(process.pid);
    return mine;
  };
  const before = await tree();
  return {
    async since(): Promise<Record<string, number>> {
      const after = await tree();
      const byRole: Record<string, number> = {};
      for (const [pid, cpu] of after) {
        const used = cpu.seconds - (before.get(pid)?.seconds ?? 0);
        const role = roleOf(pid, cpu);
        byRole[role] = (byRole[role] ?? 0) + used;
      }
      return byRole;
    },
  };
}

/** `processor 3.1 s, PostgreSQL 2.0 s, …` largest first. */
export const formatCpu = (byRole: Record<string, number>) =>
  Object.entries(byRole)
    .filter(([, seconds]) => seconds >= 0.05)
    .sort(([, a], [, b]) => b - a)
    .map(([role, seconds]) => `${role} ${seconds.toFixed(1)} s`)
    .join(', ');

/** Our own processes (what carries over to production), as `roleOf` names them, with their names in the report. */
const OURS: Array<[string, string]> = [
  ['bench process (gateway + ingestion)', 'gateway + ingestion'],
  ['processor', 'processor'],
  ['deliverer', 'deliverer'],
];

/**
 * CPU milliseconds per document of each of our processes present, and their sum (`ours`). The gateway and
 * ingestion run in the bench process, so theirs includes the harness's own small share (its polling for rows).
 */
export function cpuPerDocument(byRole: Record<string, number>, documents: number): Record<string, number> {
  const perDocument: Record<string, number> = {};
  let ours = 0;
  for (const [role, name] of OURS) {
    if (byRole[role] === undefined) continue;
    perDocument[name] = (byRole[role] * 1000) / documents;
    ours += perDocument[name];
  }
  return { ...perDocument, ours };
}

/** `gateway + ingestion 0.42, processor 0.41, ours 0.83 ms/doc`. */
export const formatPerDocument = (perDocument: Record<string, number>) =>
  `${Object.entries(perDocument)
    .map(([name, ms]) => `${name} ${ms.toFixed(3)}`)
    .join(', ')} ms/doc`;
