// `prismo serve --role gateway,ingest` as deployed, compiled, in a process of its own: its memory and event loop
// are measured apart from the suite's (a peak RSS read from /proc is the gateway's alone, not the test runner's).
// PRISMO_PROFILE_DIR=<dir> in the suite's environment runs it under `node --cpu-prof` (the profile is written when
// the process exits on SIGTERM, not on the SIGKILL of the clean-up: stop it yourself to keep one).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { mongoUri } from './databases.js';

const CLI = fileURLToPath(new URL('../../bin/prismo.js', import.meta.url));

export interface GatewayProcess {
  pid: number;
  gatewayUrl: string;
  ingestUrl: string;
  opsUrl?: string;
  child: ChildProcess;
}

/**
 * A starter for the suite that calls it at its top level: `start(databases, env)` resolves once the process says it
 * runs; every process started is killed after each test.
 */
export function useGatewayProcesses(): (
  databases: { mongoDb: string; pgUrl: string },
  env: Record<string, string>,
) => Promise<GatewayProcess> {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
  });
  return async (databases, env) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.PRISMO_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PRISMO_PROFILE_DIR}`] : []),
        CLI,
        'serve',
        '--role',
        'gateway,ingest',
      ],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          HOST: '127.0.0.1',
          PORT: '0',
          INGEST_PORT: '0',
          OPS_PORT: '0',
          MONGODB_URI: mongoUri!,
          MONGODB_DB: databases.mongoDb,
          DATABASE_URL: databases.pgUrl,
          LOG_LEVEL: 'info',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (text) => {
        if (text.includes('"prismo is running"')) resolve(JSON.parse(text) as Record<string, unknown>);
      });
      void exited.then((code) => reject(new Error(`prismo serve exited with ${code} before it ran`)));
    });
    return {
      pid: child.pid!,
      child,
      gatewayUrl: String(line.gateway),
      ingestUrl: String(line.ingest),
      opsUrl: line.ops === undefined ? undefined : String(line.ops),
    };
  };
}
