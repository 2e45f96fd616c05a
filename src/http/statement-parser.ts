// Statement files as the gateway and the ingestion service parse them: in slices that let the event loop run,
// a bounded number at once with a bounded queue behind them, and every refusal as the problem a client reads.
import type { ServerResponse } from 'node:http';
import pLimit from 'p-limit';
import { type CamtDocument, CamtLimitError, CamtTooManyEntriesError, CamtXmlError, parseCamt053InSlices } from '../domain/camt053-xml.js';
import { HttpProblem } from './problem.js';
import { STATEMENT_RETRY_AFTER_S, StatementPlaces } from './statement-places.js';

export interface StatementParsing {
  /** Entries one file may hold (STATEMENT_MAX_ENTRIES); the entry past it is a 413. */
  maxEntries: number;
  /** Files parsed at once (STATEMENT_PARSE_CONCURRENCY); the rest wait their turn. */
  concurrency: number;
  /** Files waiting for a turn (STATEMENT_PARSE_QUEUE); one more is a 503 with Retry-After. */
  queueMax: number;
  /** Uploads one tenant may have in progress (STATEMENT_PARSE_PER_TENANT); one more is a 429 with Retry-After. */
  perTenant: number;
}

export interface StatementParser {
  /**
   * For the route's onRequest, once the tenant is known and before the body is read: holds one of the
   * `concurrency + queueMax` places until the answer is sent or the request dropped, so an upload that could
   * only wait or be refused after its body was read is refused before (503; 429 past the tenant's share).
   */
  admit(tenantId: string, response: ServerResponse): void;
  /** The file's statements, once it has a turn; a 503 if the queue is full (for a caller that did not admit). */
  parse(xml: string): Promise<CamtDocument>;
}

/** The file's statements, or a 400 (413 for too many entries) naming where the file stops being acceptable. */
async function parseOrRefuse(xml: string, maxEntries: number): Promise<CamtDocument> {
  try {
    return await parseCamt053InSlices(xml, { maxEntries });
  } catch (error) {
    if (error instanceof CamtTooManyEntriesError) {
      throw new HttpProblem(
        413,
        'too-many-entries',
        `A statement upload holds at most ${error.maxEntries} entries (<Ntry>); this file holds more (the entry at line ${error.line} is one too many). Send the statements in several files.`,
        { errors: [{ path: 'body', message: `more than ${error.maxEntries} entries` }] },
      );
    }
    if (error instanceof CamtLimitError) {
      throw new HttpProblem(413, 'statement-too-large', `The statement file was refused at ${error.message}.`, {
        errors: [{ path: `body${(error.path ?? '').replaceAll('/', '.')}`, message: error.reason }],
      });
    }
    if (!(error instanceof CamtXmlError)) throw error;
    const where = `line ${error.line}, column ${error.column}`;
    throw new HttpProblem(400, 'invalid-statement', `The statement file was refused at ${error.message.replace(/\.+$/, '')}.`, {
      errors: [
        error.path
          ? { path: `body${error.path.replaceAll('/', '.')}`, message: `${error.reason} (${where})` }
          : { path: `body (${where})`, message: error.reason },
      ],
    });
  }
}

/** The parser of a service's statement route: at most `concurrency` at once, `queueMax` waiting, a tenant's share of both. */
export function createStatementParser({ maxEntries, concurrency, queueMax, perTenant }: StatementParsing): StatementParser {
  const slots = pLimit(concurrency);
  const busy = () =>
    new HttpProblem(
      503,
      'statement-parsing-busy',
      `${concurrency} statement files are being read and ${queueMax} wait their turn (or are on their way): send this one again shortly.`,
      { headers: { 'retry-after': String(STATEMENT_RETRY_AFTER_S) } },
    );
  const places = new StatementPlaces(concurrency + queueMax, perTenant, busy);
  return {
    admit: (tenantId, response) => places.holdUntilAnswered(tenantId, response),
    async parse(xml) {
      if (slots.pendingCount >= queueMax) throw busy();
      return slots(() => parseOrRefuse(xml, maxEntries));
    },
  };
}
