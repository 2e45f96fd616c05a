// The operator's board page at /board: static, holding no data and no secret; every figure comes from the
// admin JSON routes (routes/admin/), which need an admin key (docs/operations.md, "The board").
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The page and its scripts: read once, served from memory with headers that keep them to themselves. */
function loadAssets() {
  const here = (name: string) => new URL(`./assets/${name}`, import.meta.url);
  const uplot = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
  const read = (file: string | URL) => readFileSync(file, 'utf8');
  return {
    '/board': { type: 'text/html; charset=utf-8', body: read(here('index.html')) },
    '/board/board.js': { type: 'text/javascript; charset=utf-8', body: read(here('board.js')) },
    '/board/board.css': { type: 'text/css; charset=utf-8', body: read(here('board.css')) },
    '/board/uplot.js': { type: 'text/javascript; charset=utf-8', body: read(uplot) },
    '/board/uplot.css': { type: 'text/css; charset=utf-8', body: read(uplot.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css')) },
  };
}

// Scripts and styles only from this origin (no inline code, so injected markup cannot run), no framing,
// no referrer (the page's URL carries nothing, but a link followed from it should not tell where from).
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Serves the page and its assets from memory. */
export async function boardPage(app: FastifyInstance): Promise<void> {
  for (const [url, asset] of Object.entries(loadAssets())) {
    app.get(url, { schema: { hide: true } }, async (_request, reply: FastifyReply) =>
      reply.headers(PAGE_HEADERS).type(asset.type).send(asset.body),
    );
  }
}
