// One line per request at debug, not info: at the default level a busy API's request lines would drown
// what an operator needs to see (start-up, warnings, batches). Errors are still logged by the problem
// plugin at their own level.
import { type FastifyInstance, LogController } from 'fastify';

/** For Fastify's `logController` option: its own per-request lines off. */
export const quietRequestLogController = () => new LogController({ disableRequestLogging: true });

/** With Fastify's own per-request lines off, logs one per request at debug instead. */
export function logRequestsAtDebug(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
}
