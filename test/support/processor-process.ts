// `prismo process` as deployed: the compiled processor in a child process of its own (its own event loop
// and memory, as a deployment's processors have), on a suite's databases.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
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

/**
 * Whether this machine can give a child process a host name and pid numbering of its own (Linux namespaces,
 * root or user namespaces), as a container has.
 */
export const canIsolate = spawnSync('unshare', ['--uts', '--pid', '--fork', '--kill-child', 'hostname', 'probe']).status === 0;

/** The command line: the processor alone, or in a UTS and pid namespace of its own, named `hostname`, as pid 1. */
function commandLine(isolated?: { hostname: string }): [string, string[]] {
  const node = [process.execPath, ...processorNodeOptions().split(/\s+/).filter(Boolean), CLI, 'process'];
  if (!isolated) return [node[0]!, node.slice(1)];
  const namespaces = ['--uts', '--pid', '--fork', '--kill-child'];
  return ['unshare', [...namespaces, 'sh', '-c', 'hostname "$0" && exec "$@"', isolated.hostname, ...node]];
}

/**
 * Starts it with docker-compose.yml's Node flags and resolves once it says it runs. `isolated`: as in a
 * container, under a host name of its own choosing and as pid 1 (signals then go to its process group).
 */
export async function startProcessorProcess(
  databases: { mongoDb: string; pgUrl: string },
  env: Record<string, string> = {},
  isolated?: { hostname: string },
): Promise<ProcessorProcess> {
  const [command, args] = commandLine(isolated);
  const child = spawn(command, args, {
    detached: isolated !== undefined,
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
  // unshare ignores SIGTERM; the processor, pid 1 of its namespace, is reached through the group.
  const signal = (name: NodeJS.Signals) => (isolated ? process.kill(-child.pid!, name) : child.kill(name));
  return {
    child,
    exited,
    stop: () => {
      signal('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) signal('SIGKILL');
      await exited;
    },
  };
}
