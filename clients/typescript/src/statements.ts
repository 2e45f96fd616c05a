// The statements resource: a camt.053 file uploaded as XML (from text, bytes, a stream or a file path), and
// its progress with a page of entries.
import type { ListOptions } from './pages.js';
import type { WriteOptions } from './transactions.js';
import type { CallOptions, Send } from './transport.js';
import type { Statement, StatementAccepted, StatementQuery } from './types.js';

/** A camt.053 file: its text, its bytes, a stream of them, or the path of a file (Node, Deno, Bun). */
export type StatementSource = string | Uint8Array | ReadableStream<Uint8Array> | { path: string };

/**
 * The file's bytes in memory: the API reads the whole file before it answers (STATEMENT_BODY_LIMIT_BYTES
 * bounds it), and a body held in memory can be sent again on a retry, a stream could not.
 */
async function bytesOf(source: StatementSource): Promise<string | Uint8Array<ArrayBuffer>> {
  if (typeof source === 'string') return source;
  if (source instanceof Uint8Array) return new Uint8Array(source);
  if ('path' in source) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(source.path));
  }
  return new Uint8Array(await new Response(source).arrayBuffer());
}

export function statementsResource(send: Send) {
  /** GET /api/v1/statements/{id}: its progress and a page of its entries (`startingAfter`: the last index read). */
  const get = (id: string, { limit, startingAfter, ...call }: StatementQuery & CallOptions = {}): Promise<Statement> =>
    send({ method: 'GET', path: `api/v1/statements/${encodeURIComponent(id)}`, query: { limit, starting_after: startingAfter }, ...call });
  return {
    get,
    /** POST /api/v1/statements: 202 with the statement's id; its entries become transactions as it is processed. */
    async upload(
      source: StatementSource,
      { idempotencyKey = crypto.randomUUID(), ...call }: WriteOptions = {},
    ): Promise<StatementAccepted> {
      const body = await bytesOf(source);
      return send({ method: 'POST', path: 'api/v1/statements', body, contentType: 'application/xml', idempotencyKey, ...call });
    },
    /** GET /api/v1/statements/{id}, every page of its entries: each one's status and transaction once processed. */
    async *entries(id: string, { pageSize, ...call }: ListOptions = {}): AsyncGenerator<Statement['entries'][number], void, undefined> {
      let after: number | undefined;
      for (;;) {
        const page: Statement = await get(id, { limit: pageSize, startingAfter: after, ...call });
        yield* page.entries;
        if (!page.has_more || page.next_starting_after === null) return;
        after = page.next_starting_after;
      }
    },
  };
}
