// camt.053 files over HTTP, on the whole system: uploaded as banks deliver them, each entry one row, the
// same statement in another version adding nothing, PDNG then BOOK one row, and hostile XML refused.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/cli/system.js';
import { mongoUri, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const API_KEY = 'statements-key-0123456789';
const SAMPLES = fileURLToPath(new URL('../src/mapping/transform/vendor/camt053/', import.meta.url));
const iso04 = readFileSync(`${SAMPLES}iso20022-business-sample.camt.053.001.04.xml`, 'utf8');

/** The same statement as camt.053.001.08 renders it: another namespace, Sts as a code element. */
const iso08 = iso04
  .replaceAll('camt.053.001.04', 'camt.053.001.08')
  .replaceAll('<Sts>BOOK</Sts>', '<Sts>\n\t\t\t\t\t<Cd>BOOK</Cd>\n\t\t\t\t</Sts>');

/** A one-entry statement of an account, with the entry's status. */
const oneEntry = (stmtId: string, status: 'PDNG' | 'BOOK', version = '08') => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>${stmtId}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${stmtId}</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">250.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>${status}</Cd></Sts>
        ${status === 'BOOK' ? '<BookgDt><Dt>2026-11-28</Dt></BookgDt>' : ''}
        <ValDt><Dt>2026-11-28</Dt></ValDt>
        <AcctSvcrRef>REF-2026-11-28-0001</AcctSvcrRef>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>`;

describe.skipIf(!mongoUri)('POST /api/v1/statements', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}`, POLL_INTERVAL_MS: '300', BATCH_MAX_WAIT_MS: '20' });
  let pg: TestPostgres;
  let system: System;
  beforeAll(() => {
    pg = sys.pg;
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${system.gatewayUrl}/api/v1/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml', authorization: `Bearer ${API_KEY}`, ...headers },
      body,
    });
  const get = async (id: string) =>
    (await (await fetch(`${system.gatewayUrl}/api/v1/statements/${id}`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as {
      status: string;
      entries: Array<{
        index: number;
        status: string;
        transaction: { amount: { minor: string; currency: string }; status: string } | null;
      }>;
    };
  const rowCount = () => pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number);

  it('a statement becomes one row per entry; sent again in camt.053.001.08 it adds nothing', async () => {
    system = await sys.start(['gateway', 'ingest', 'processor']);
    const first = await post(iso04, { 'idempotency-key': 'stmt-upload-1' });
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { id: string; status: string; statusUrl: string };
    expect(accepted).toMatchObject({ status: 'pending', statusUrl: `/api/v1/statements/${accepted.id}` });
    await waitFor('the statement processed', async () => (await get(accepted.id)).status === 'processed');
    const view = await get(accepted.id);
    expect(view.entries.map((e) => [e.index, e.status, e.transaction?.amount.minor, e.transaction?.amount.currency])).toEqual([
      [0, 'processed', '10567850', 'SEK'],
      [1, 'processed', '20000000', 'SEK'],
      [2, 'processed', '3000000', 'SEK'],
    ]);
    // Each entry's transaction.processed, then the upload's statement.processed (processors look every 5 s).
    const events = async () =>
      (
        (await (await fetch(`${system.gatewayUrl}/api/v1/events`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as {
          data: Array<{ type: string; documentId: string; data: { id: string; status: string; statements?: unknown[] } }>;
        }
      ).data;
    await waitFor('the statement.processed event', async () => (await events()).some((e) => e.type === 'statement.processed'), {
      timeoutMs: 20_000,
    });
    const recorded = await events();
    expect(recorded.map((e) => e.type).sort()).toEqual([...Array(3).fill('transaction.processed'), 'statement.processed'].sort());
    const statementEvent = recorded.find((e) => e.type === 'statement.processed')!;
    expect([statementEvent.documentId, statementEvent.data.id, statementEvent.data.status]).toEqual([
      accepted.id,
      accepted.id,
      'processed',
    ]);
    expect(statementEvent.data.statements).toHaveLength(1);

    // Retention removes processed raw documents; the statement still shows each entry's row.
    await sys.mongo.raw.deleteMany({ status: 'processed' });
    expect((await get(accepted.id)).entries.map((e) => [e.status, e.transaction?.amount.minor])).toEqual([
      ['processed', '10567850'],
      ['processed', '20000000'],
      ['processed', '3000000'],
    ]);

    const again = await post(iso08);
    expect(again.status).toBe(202);
    expect(await again.json()).toMatchObject({ id: accepted.id, status: 'processed', duplicate: true });
    expect((await events()).filter((e) => e.type === 'statement.processed')).toHaveLength(1);
    // The same upload with the same Idempotency-Key is replayed as it was answered.
    const replayed = await post(iso04, { 'idempotency-key': 'stmt-upload-1' });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(await rowCount()).toBe(3);
  });

  it('an entry sent PDNG, then BOOK in the next statement, is one row, booked', async () => {
    system = await sys.start(['gateway', 'ingest', 'processor']);
    const pending = (await (await post(oneEntry('STMT-PDNG', 'PDNG'))).json()) as { id: string };
    await waitFor('the pending statement processed', async () => (await get(pending.id)).status === 'processed');
    expect((await get(pending.id)).entries[0]?.transaction?.status).toBe('pending');
    const booked = (await (await post(oneEntry('STMT-BOOK', 'BOOK', '02'))).json()) as { id: string };
    await waitFor('the booked statement processed', async () => (await get(booked.id)).status === 'processed');
    expect(await pg.db.any('SELECT status, amount_minor, direction FROM transactions')).toEqual([
      { status: 'posted', amount_minor: 25000n, direction: 'debit' },
    ]);
    // Both uploads' entries read the one row, now booked.
    expect((await get(pending.id)).entries[0]?.transaction?.status).toBe('posted');
  });

  it('the same through a gateway and an ingestion service running apart (INGEST_URL)', async () => {
    const ingest = await sys.start(['ingest']);
    system = await sys.start(['gateway'], { INGEST_URL: ingest.ingestUrl! });
    await sys.start(['processor']);
    const accepted = (await (await post(oneEntry('STMT-APART', 'BOOK'))).json()) as { id: string };
    await waitFor('the statement processed', async () => (await get(accepted.id)).status === 'processed');
    expect((await get(accepted.id)).entries).toMatchObject([{ index: 0, status: 'processed', transaction: { status: 'posted' } }]);
    expect(((await (await post(oneEntry('STMT-APART', 'BOOK', '04'))).json()) as { duplicate?: boolean }).duplicate).toBe(true);
    // Refused by the gateway before it reaches ingestion.
    expect((await post('<Document/>')).status).toBe(400);
  });

  it("GET pages a statement's entries by cursor, as /api/v1/transactions pages", async () => {
    system = await sys.start(['gateway', 'ingest']);
    // Five entries told apart by their AcctSvcrRef.
    const one = oneEntry('PAGED', 'BOOK');
    const ntry = one.slice(one.indexOf('<Ntry>'), one.indexOf('</Ntry>') + '</Ntry>'.length);
    const file = one.replace(ntry, Array.from({ length: 5 }, (_, i) => ntry.replace('0001', `000${i}`)).join(''));
    const { id } = (await (await post(file)).json()) as { id: string };
    const page = async (query: string) => {
      const response = await fetch(`${system.gatewayUrl}/api/v1/statements/${id}?${query}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      const body = (await response.json()) as {
        entries?: Array<{ index: number }>;
        has_more?: boolean;
        next_starting_after?: number | null;
      };
      return { status: response.status, body, indexes: body.entries?.map((e) => e.index) };
    };
    expect(await page('')).toMatchObject({ indexes: [0, 1, 2, 3, 4], body: { has_more: false, next_starting_after: null } });
    expect(await page('limit=2')).toMatchObject({ indexes: [0, 1], body: { has_more: true, next_starting_after: 1 } });
    expect(await page('limit=2&starting_after=1')).toMatchObject({ indexes: [2, 3], body: { has_more: true, next_starting_after: 3 } });
    expect(await page('limit=2&starting_after=3')).toMatchObject({ indexes: [4], body: { has_more: false, next_starting_after: null } });
    const past = await page('starting_after=5');
    expect(past.status).toBe(404);
    expect(past.body).toMatchObject({ errors: [{ path: 'querystring.starting_after' }] });
    expect((await page('limit=1001')).status).toBe(400);
  });

  it('refuses hostile and malformed XML with a 400 naming line and column, and files over the limit with 413', async () => {
    system = await sys.start(['gateway', 'ingest'], { STATEMENT_BODY_LIMIT_BYTES: '65536' });
    const xxe = `<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<Document>&xxe;</Document>`;
    const laughs = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>`;
    const cases: Array<[string, string, RegExp]> = [
      ['external entity', xxe, /line 2, column \d+: a DTD \(<!DOCTYPE …>\) is not accepted/],
      ['entity expansion', laughs, /line 2, column \d+: a DTD/],
      ['malformed', oneEntry('S', 'BOOK').replace('</Amt>', '</Amount>'), /line 9, column \d+: unexpected close tag/],
      [
        'not camt.053',
        '<?xml version="1.0"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>',
        /line 2, column \d+: not a camt.053 statement: the root element is <Document> in namespace "urn:iso:std:iso:20022:tech:xsd:pain/,
      ],
      [
        'too deep',
        `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">${'<a>'.repeat(100)}${'</a>'.repeat(100)}</Document>`,
        /nest deeper than 64/,
      ],
    ];
    for (const [label, body, detail] of cases) {
      const response = await post(body);
      expect(response.status, label).toBe(400);
      expect(response.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { detail: string }).detail, label).toMatch(detail);
    }
    const tooLarge = await post(`${iso04}${' '.repeat(70_000)}`);
    expect(tooLarge.status).toBe(413);
    // JSON is not a statement file.
    const json = await fetch(`${system.gatewayUrl}/api/v1/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: '{}',
    });
    expect(json.status).toBe(415);
  });
});
