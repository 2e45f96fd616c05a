// What docker-compose.yml deploys, for suites and benchmarks that run a service as it is deployed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const COMPOSE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

/** The processor's Node flags: PROCESSOR_NODE_OPTIONS when set, else the processor service's in docker-compose.yml. */
export function processorNodeOptions(): string {
  if (process.env.PROCESSOR_NODE_OPTIONS !== undefined) return process.env.PROCESSOR_NODE_OPTIONS;
  const compose = parseYaml(readFileSync(COMPOSE, 'utf8'), { merge: true }) as {
    services: { processor: { environment?: Record<string, string> } };
  };
  return compose.services.processor.environment?.NODE_OPTIONS ?? '';
}
