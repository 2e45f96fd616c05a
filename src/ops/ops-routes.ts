// /healthz (the process answers), /readyz (its dependencies answer, checked at most once a second) and
// /metrics (Prometheus): the first two on every service's port, /metrics on the ops server (OPS_PORT) alone.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  readiness: Readiness;
  /** Serve /metrics: on the ops port only (OPS_PORT), never on a public one, as its labels name tenants. */
  scrape?: boolean;
}

export const opsRoutes = fp(
  async (app: FastifyInstance, { metrics, readiness, scrape = true }: OpsRoutesOptions) => {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      if (route === '/metrics') return;
      metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });
    app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const report = await readiness.check();
      return reply.code(report.ready ? 200 : 503).send(report);
    });
    if (!scrape) return;
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      await readiness.refreshGauges();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  },
  { name: 'ops' },
);
