// prismo data's view of the disk: this checkout's data, checkouts that are gone, others', shared binaries;
// and a removal that refuses what a live PostgreSQL still uses.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findData, removeData } from './data-dirs.js';
import { relocatedDataDir } from './embedded-postgres.js';

describe('prismo data', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('sorts what lies outside the checkout by its recorded origin, and removes only what it is asked to', async () => {
    const root = await mkdtemp(join(tmpdir(), 'prismo-data-'));
    made.push(root);
    const system = join(root, 'var-lib-prismo');
    const checkout = join(root, 'checkout', '.prismo');
    const living = join(root, 'other', '.prismo');
    await mkdir(join(checkout, 'mongo'), { recursive: true });
    await mkdir(living, { recursive: true });
    const place = async (origin: string | undefined, name = basename(dirname(relocatedDataDir(origin ?? '/x')))) => {
      await mkdir(join(system, name, 'postgres'), { recursive: true });
      if (origin) await writeFile(join(system, name, 'origin'), `${origin}\n`);
      return join(system, name);
    };
    const mine = await place(join(checkout, 'postgres'));
    const orphan = await place(join(root, 'deleted', '.prismo', 'postgres'));
    const other = await place(join(living, 'postgres'));
    const unrecorded = await place(undefined, 'data-0123456789abcdef');
    await mkdir(join(system, 'postgres-linux-x64-18.4.0'), { recursive: true });

    const report = await findData(checkout, system);
    expect(report.mine.map((p) => p.path)).toEqual([checkout, mine]);
    expect(report.orphans.map((p) => p.path)).toEqual([orphan]);
    expect(report.others.map((p) => p.path).sort()).toEqual([other, unrecorded].sort());
    expect(report.binaries.map((p) => p.path)).toEqual([join(system, 'postgres-linux-x64-18.4.0')]);

    await removeData(report.orphans, checkout);
    expect([existsSync(orphan), existsSync(mine), existsSync(other), existsSync(unrecorded)]).toEqual([false, true, true, true]);

    // A PostgreSQL still running on the data (its postmaster.pid names a live process: this one) is refused,
    // and nothing is removed.
    await writeFile(join(mine, 'postgres', 'postmaster.pid'), `${process.pid}\n${mine}\n`);
    await expect(removeData(report.mine, checkout)).rejects.toThrow(`PostgreSQL (pid ${process.pid}) is running on ${mine}`);
    expect(existsSync(checkout)).toBe(true);
    await rm(join(mine, 'postgres', 'postmaster.pid'));
    await removeData(report.mine, checkout);
    expect([existsSync(checkout), existsSync(mine)]).toEqual([false, false]);
  });
});
