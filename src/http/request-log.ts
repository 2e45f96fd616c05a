// One line per request at debug, not info, so a busy API's requests do not drown what an operator needs;
// errors are still logged by the problem plugin at their own level.
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
