// prismo data [remove [--orphans]]: what `prismo start` left on disk, inside the checkout and outside it.
import { type Command, StartupError } from '../context.js';
import { type DataPlace, loadDataDirs } from '../resolve.js';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const lines = (places: DataPlace[]) => places.map((p) => `  ${p.path}   ${mib(p.bytes)}   ${p.what}`);

export const dataCommand: Command = async ({ settings, args, values }) => {
  const dev = await loadDataDirs();
  const report = await dev.findData(settings.dataDir);
  const action = args[0];
  if (action === undefined) {
    const sections: Array<[string, DataPlace[]]> = [
      ['this checkout (prismo data remove)', report.mine],
      ['checkouts that no longer exist (prismo data remove --orphans)', report.orphans],
      ['other checkouts (remove from there, or by hand if none uses it)', report.others],
      ['shared (copied again when needed; safe to remove by hand)', report.binaries],
    ];
    for (const [title, places] of sections) console.log([`${title}:`, ...(places.length ? lines(places) : ['  nothing'])].join('\n'));
    return 'done';
  }
  if (action !== 'remove') throw new StartupError('data takes no argument, or remove [--orphans] (prismo data --help)');
  const places = values.orphans ? report.orphans : report.mine;
  if (places.length === 0) {
    console.log(values.orphans ? 'no data of a checkout that no longer exists' : `no data kept for ${settings.dataDir}`);
    return 'done';
  }
  await dev.removeData(places, settings.dataDir).catch((error: unknown) => {
    throw new StartupError((error as Error).message);
  });
  console.log([`removed ${mib(places.reduce((sum, p) => sum + p.bytes, 0))}:`, ...places.map((p) => `  ${p.path}`)].join('\n'));
  return 'done';
};
