// Summarises a V8 .cpuprofile (from `node --cpu-prof`, or `npm run bench -- --cpu-prof <dir>`): where the
// process's time went, by package and by function, and how much of it was idle (waiting on MongoDB or PostgreSQL).
//   node --cpu-prof --cpu-prof-dir=bench/results --import tsx bench/run.ts --only drain
//   npx tsx bench/profile-summary.ts bench/results/<file>.cpuprofile
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function packageOf(url: string): string {
  if (!url) return '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/src/')) return 'prismo src';
  if (url.includes('/bench/')) return 'prismo bench';
  return url;
}

/** The profile's time by package and by function (self time), the `packages` and `functions` largest of each. */
export async function summariseProfile(file: string, { packages = 12, functions = 15 } = {}): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    const special = ['(idle)', '(program)', '(garbage collector)'].includes(name);
    const pkg = special ? name : packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const key = special
      ? name
      : `${name} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  });
  const top = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, us]) => `  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${key}`)
      .join('\n');
  return `profile ${file}: ${(total / 1e6).toFixed(1)} s sampled\n\nby package:\n${top(byPackage, packages)}\n\nby function (self time):\n${top(byFunction, functions)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary <file.cpuprofile>');
  console.log(await summariseProfile(file));
}
