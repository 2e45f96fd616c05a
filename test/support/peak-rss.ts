// What the kernel says of a process's memory, for suites and benchmarks that measure it from outside.
import { readFile } from 'node:fs/promises';

/** The process's peak resident memory (VmHWM), in MiB; 0 once it has gone. */
export async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}

/** The process's resident memory now (VmRSS), in MiB; 0 once it has gone. */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
}
