// One line per request at debug, not info, so a busy API's requests do not drown what an operator needs;
// errors are still logged by the problem plugin at their own level.
import { type FastifyInstance, LogController } from 'fastify';
import { levels } from 'pino';

/** For Fastify's `logController` option: its own per-request lines off. */
export const quietRequestLogController = () => new LogController({ disableRequestLogging: true });

/**
 * With Fastify's own per-request lines off, logs one per request at debug instead; at a higher level (the
 * level is fixed at start-up) no hook at all, so a busy gateway does not pay an async hook per request for
 * lines nobody sees.
 */
export function logRequestsAtDebug(app: FastifyInstance): void {
  // pino's level names to numbers; 'silent' has none, and logs nothing.
  if ((levels.values[app.log.level] ?? Number.POSITIVE_INFINITY) > levels.values.debug!) return;
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
}
