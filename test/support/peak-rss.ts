// What the kernel says of a process's memory, for suites and benchmarks that measure it from outside.
import { readFile } from 'node:fs/promises';

/** A line of /proc/<pid>/status, in MiB; throws when the process has gone (a bound on it would pass on 0). */
async function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kB = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kB === undefined) throw new Error(`process ${pid} has gone: no ${field} to read`);
  return Number(kB) / 1024;
}

/** The process's peak resident memory (VmHWM), in MiB. */
export const peakRssMiB = (pid: number): Promise<number> => statusMiB(pid, 'VmHWM');

/** The process's resident memory now (VmRSS), in MiB. */
export const rssMiB = (pid: number): Promise<number> => statusMiB(pid, 'VmRSS');
