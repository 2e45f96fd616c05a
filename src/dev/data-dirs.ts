// What `prismo start` keeps on disk, inside the checkout (DATA_DIR) and outside it (as root, PostgreSQL's
// data under /var/lib/prismo): found, measured and removed for `prismo data`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { relocatedDataDir, SYSTEM_DIR } from './embedded-postgres.js';

export interface DataPlace {
  path: string;
  what: string;
  bytes: number;
}

export interface DataReport {
  /** This checkout's: DATA_DIR, and its PostgreSQL data when it was moved out. */
  mine: DataPlace[];
  /** Another checkout's data under SYSTEM_DIR whose checkout no longer exists. */
  orphans: DataPlace[];
  /** Data under SYSTEM_DIR of a checkout that still exists, or of one an earlier release did not record. */
  others: DataPlace[];
  /** The PostgreSQL binaries copied for the postgres user: shared by every checkout, copied again on need. */
  binaries: DataPlace[];
}

const sizeOf = (path: string) => Number(spawnSync('du', ['-sk', path], { encoding: 'utf8' }).stdout.split('\t')[0] ?? 0) * 1024;

/** What start keeps for `dataDir` (DATA_DIR), and what lies in `systemDir` (SYSTEM_DIR; a test's own folder). */
export async function findData(dataDir: string, systemDir = SYSTEM_DIR): Promise<DataReport> {
  const report: DataReport = { mine: [], orphans: [], others: [], binaries: [] };
  const home = resolve(dataDir);
  if (existsSync(home))
    report.mine.push({ path: home, what: 'DATA_DIR: development key, MongoDB data, PostgreSQL data', bytes: sizeOf(home) });
  const moved = join(systemDir, basename(dirname(relocatedDataDir(join(home, 'postgres')))));
  const entries = existsSync(systemDir) ? await readdir(systemDir) : [];
  for (const name of entries.sort()) {
    const path = join(systemDir, name);
    if (name.startsWith('postgres-')) report.binaries.push({ path, what: 'PostgreSQL binaries (shared)', bytes: sizeOf(path) });
    if (!name.startsWith('data-')) continue;
    const origin = await readFile(join(path, 'origin'), 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    );
    if (path === moved) {
      report.mine.push({
        path,
        what: 'PostgreSQL data, moved out of the checkout (the postgres user cannot reach it)',
        bytes: sizeOf(path),
      });
    } else if (origin && !existsSync(dirname(origin))) {
      report.orphans.push({ path, what: `PostgreSQL data of ${origin}, which no longer exists`, bytes: sizeOf(path) });
    } else {
      report.others.push({
        path,
        what: origin ? `PostgreSQL data of ${origin}` : 'PostgreSQL data of a checkout not recorded',
        bytes: sizeOf(path),
      });
    }
  }
  return report;
}

/** Whether a PostgreSQL still runs on a place (DATA_DIR or a moved data-<hash>): postgres/postmaster.pid names a live process. */
async function postgresRunsOn(place: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(place, 'postgres', 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  return pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/** Removes the places, refusing (before removing any) one a PostgreSQL or a `prismo start` still uses. */
export async function removeData(places: DataPlace[], dataDir: string): Promise<void> {
  const runtime = await readFile(join(resolve(dataDir), 'runtime.json'), 'utf8').then(
    (text) => JSON.parse(text) as { pid?: number },
    () => undefined,
  );
  if (runtime?.pid && isAlive(runtime.pid) && places.some((p) => p.path === resolve(dataDir)))
    throw new Error(`prismo start (pid ${runtime.pid}) is running on ${resolve(dataDir)}: stop it first`);
  for (const place of places) {
    const pid = await postgresRunsOn(place.path);
    if (pid) throw new Error(`PostgreSQL (pid ${pid}) is running on ${place.path}: stop it first`);
  }
  for (const place of places) await rm(place.path, { recursive: true, force: true });
}
