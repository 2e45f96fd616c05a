// `npm run bench -- --cpu-prof <dir>`: a V8 CPU profile of each of our processes in the e2e and webhooks
// runs (the processor and the deliverer by `node --cpu-prof`, for their whole life; the bench process, which
// hosts the gateway and ingestion, over each measured window through the inspector), summarised at the end.
import { readdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { summariseProfile } from './profile-summary.js';

let dir: string | undefined;

export function profileInto(directory: string | undefined): void {
  dir = directory;
}

/** Node flags that write a profile of a child process named `name` when it exits; none unless profiling. */
export const profileFlags = (name: string): string[] =>
  dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];

/** Profiles this process from now until `stop()`, which writes `<name>-….cpuprofile`; nothing unless profiling. */
export async function profileThisProcess(name: string): Promise<{ stop(): Promise<void> }> {
  const into = dir;
  if (!into) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      await writeFile(join(into, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

/** Each profile written, with its top self-time frames. */
export async function summariseProfiles(): Promise<string> {
  if (!dir) return '';
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const summaries = await Promise.all(files.map((f) => summariseProfile(join(dir!, f), { packages: 8, functions: 12 })));
  return summaries.join('\n\n');
}
