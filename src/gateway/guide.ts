// The guides behind the OpenAPI document (docs/*.md), served as text at /guide/<page>.md so that /docs can
// link to the rules, the source formats and the copy-paste examples of docs/model.md; with them the pages and
// the picture they link to, so no link on a served page is a 404. The image ships exactly these files.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../http/problem.js';

/** The four /docs names and every page they lead to by relative links (a test follows them all). */
export const GUIDE_PAGES = [
  'api',
  'model',
  'processor',
  'operations',
  'runbook',
  'configuration',
  'benchmarks',
  'scaling',
  'testing',
] as const;
/** What the pages link to besides each other: docs/operations.md's picture of the board. */
export const GUIDE_IMAGES = ['board.jpg'] as const;
/** Every file /guide serves, by its name under docs/ (the Dockerfile copies these and no other). */
export const GUIDE_FILES = [...GUIDE_PAGES.map((page) => `${page}.md`), ...GUIDE_IMAGES];

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
    const file = request.params.page.includes('.') ? request.params.page : `${request.params.page}.md`;
    if (!dir || !GUIDE_FILES.includes(file)) {
      throw new HttpProblem(
        404,
        'not-found',
        `No guide ${request.params.page}; there are ${GUIDE_PAGES.map((p) => `${p}.md`).join(', ')}.`,
      );
    }
    // Plain text, never sniffed as HTML, never framed.
    return reply
      .headers({ 'content-security-policy': "default-src 'none'; frame-ancestors 'none'", 'x-content-type-options': 'nosniff' })
      .type(file.endsWith('.jpg') ? 'image/jpeg' : 'text/plain; charset=utf-8')
      .send(await readFile(join(dir, file)));
  });
}
