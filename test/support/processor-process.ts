// `prismo process` as deployed: the compiled processor in a child process of its own (its own event loop
// and memory, as a deployment's processors have), on a suite's databases.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processorNodeOptions } from './compose.js';
import { mongoUri } from './databases.js';

const CLI = fileURLToPath(new URL('../../bin/prismo.js', import.meta.url));

export interface ProcessorProcess {
  child: ChildProcess;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
  /** SIGTERM (the processor drains and gives its leases back), then its exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, for a suite's clean-up; resolves once it has gone. */
  kill(): Promise<void>;
}

/** Starts it with docker-compose.yml's Node flags and resolves once it says it runs. */
export async function startProcessorProcess(
  databases: { mongoDb: string; pgUrl: string },
  env: Record<string, string> = {},
): Promise<ProcessorProcess> {
  const child = spawn(process.execPath, [...processorNodeOptions().split(/\s+/).filter(Boolean), CLI, 'process'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MONGODB_URI: mongoUri!,
      MONGODB_DB: databases.mongoDb,
      DATABASE_URL: databases.pgUrl,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('"prismo is running"') && resolve());
    void exited.then((code) => reject(new Error(`prismo process exited with ${code} before it ran`)));
  });
  return {
    child,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
