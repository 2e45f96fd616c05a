// The guides behind the OpenAPI document (docs/*.md), served as text at /guide/<page>.md so that /docs can
// link to the rules, the source formats and the copy-paste examples of docs/model.md.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../http/problem.js';

export const GUIDE_PAGES = ['api', 'model', 'processor', 'operations'] as const;

/** The checkout's or the image's docs/ folder: the first one above this module that holds api.md. */
function docsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'docs', 'api.md'))) return join(dir, 'docs');
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export async function guideRoutes(app: FastifyInstance): Promise<void> {
  const dir = docsDir();
  app.get<{ Params: { page: string } }>('/guide/:page', { schema: { hide: true } }, async (request, reply) => {
    const name = request.params.page.replace(/\.md$/, '');
    if (!dir || !(GUIDE_PAGES as readonly string[]).includes(name)) {
      throw new HttpProblem(
        404,
        'not-found',
        `No guide ${request.params.page}; there are ${GUIDE_PAGES.map((p) => `${p}.md`).join(', ')}.`,
      );
    }
    // Plain text, never sniffed as HTML, never framed.
    return reply
      .headers({ 'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' })
      .type('text/plain; charset=utf-8')
      .send(await readFile(join(dir, `${name}.md`), 'utf8'));
  });
}
