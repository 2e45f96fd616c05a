// /healthz (the process answers), /readyz (its dependencies answer) and /metrics (Prometheus) for any of
// the services, registered on its own Fastify app or on the small ops server the processor runs.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from './metrics.js';
import type { Readiness } from './readiness.js';

export interface OpsRoutesOptions {
  metrics: Metrics;
  readiness: Readiness;
}

export const opsRoutes = fp(
  async (app: FastifyInstance, { metrics, readiness }: OpsRoutesOptions) => {
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
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      await readiness.refreshGauges();
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  },
  { name: 'ops' },
);
