// A known path asked with a method it does not answer is 405 with Allow (RFC 9110), not 404: collect the
// API's routes as they are declared, then answer every other method on each path.
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../../http/problem.js';

/** Every method Fastify routes (it knows TRACE and QUERY too). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY'];

/** Call before the routes are registered; call the returned function after. */
export function collectMethods(app: FastifyInstance, prefix = '/api/'): () => void {
  const byUrl = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith(prefix)) return;
    const methods = byUrl.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method.toUpperCase());
    byUrl.set(route.url, methods);
  });
  return () => {
    for (const [url, methods] of [...byUrl]) {
      const allow = METHODS.filter((method) => methods.has(method)).join(', ');
      const missing = METHODS.filter((method) => !methods.has(method));
      if (missing.length === 0) continue;
      const refuse = async () => {
        throw new HttpProblem(405, 'method-not-allowed', `This path answers ${allow}.`, { headers: { Allow: allow } });
      };
      // Refused in onRequest, before the body is read: a QUERY without a body is still a 405, not a 400.
      app.route({ method: missing, url, schema: { hide: true }, onRequest: refuse, handler: refuse });
    }
  };
}
