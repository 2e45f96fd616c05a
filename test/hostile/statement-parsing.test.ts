// Issue 42, part 1: what one client sends to be parsed never holds the event loop every other client shares.
// Each hostile upload runs while /healthz is probed every 50 ms, on the real gateway and ingestion service.
import { describe, expect, it } from 'vitest';
import type { System } from '../../src/cli/system.js';
import { mongoUri } from '../support/databases.js';
import { PROBE_BAR_MS, whileProbing } from '../support/health-probe.js';
import { useSystem } from '../support/system.js';

const API_KEY = 'hostile-parse-key-0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };

/** A camt.053 file with one statement: `account` inside <Acct>, `inside` after it in <Stmt>. */
const statementFile = ({ account = '<Ccy>EUR</Ccy>', inside = '' } = {}) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>HOSTILE-1</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>HOSTILE-1</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id>${account}</Acct>${inside}
    </Stmt>
  </BkToCstmrStmt>
</Document>`;

const entry = (n: number) =>
  `<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-28</Dt></BookgDt><AcctSvcrRef>R-${n}</AcctSvcrRef></Ntry>`;

interface Answer {
  status: number;
  contentType: string | null;
  body: { detail?: string; errors?: Array<{ path: string; message: string }> };
  ms: number;
}

async function answerOf(response: Promise<Response>): Promise<Answer> {
  const started = performance.now();
  const res = await response;
  const body = (await res.json()) as Answer['body'];
  return { status: res.status, contentType: res.headers.get('content-type'), body, ms: performance.now() - started };
}

describe.skipIf(!mongoUri)('hostile: statement parsing and amounts never hold the event loop', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}` });
  let system: System;

  const postStatement = (xml: string) =>
    answerOf(
      fetch(`${system.gatewayUrl}/api/v1/statements`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/xml' },
        body: xml,
      }),
    );

  it('a statement with 40,000 sibling elements is answered promptly, and /healthz never waits 250 ms meanwhile', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const xml = statementFile({ inside: '<Ustrd/>'.repeat(40_000) });
    expect(xml.length).toBeGreaterThan(300 * 1024);
    const { result, worstMs } = await whileProbing(system.gatewayUrl!, () => postStatement(xml));
    // Accepted or refused, it is prompt; this file has no entries and 40,000 stray <Ustrd>: a 202 of nothing.
    expect([202, 400]).toContain(result.status);
    console.info(`40,000 siblings: ${result.status} after ${result.ms.toFixed(0)} ms, worst /healthz wait ${worstMs.toFixed(0)} ms`);
    expect(result.ms).toBeLessThan(2_000);
    expect(worstMs).toBeLessThan(PROBE_BAR_MS);
  });

  it('eight single POSTs with million-digit amounts at once are each a 400 problem, and /healthz never waits 250 ms', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const body = (i: number) =>
      JSON.stringify({
        source: 'generic',
        externalId: `million-${i}`,
        payload: { account: 'acc-1', amount: '9'.repeat(1_000_000), currency: 'EUR', occurredAt: '2026-11-28T12:00:00Z' },
      });
    const bodies = Array.from({ length: 8 }, (_, i) => body(i));
    const { result, worstMs } = await whileProbing(system.gatewayUrl!, () =>
      Promise.all(
        bodies.map((b) =>
          answerOf(
            fetch(`${system.gatewayUrl}/api/v1/transactions`, {
              method: 'POST',
              headers: { ...auth, 'content-type': 'application/json' },
              body: b,
            }),
          ),
        ),
      ),
    );
    for (const answer of result) {
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body.errors).toEqual([{ path: 'payload.amount', message: expect.stringMatching(/at most 40 digits/) }]);
    }
    console.info(
      `8 x million-digit amounts: slowest ${Math.max(...result.map((a) => a.ms)).toFixed(0)} ms, worst /healthz wait ${worstMs.toFixed(0)} ms`,
    );
    expect(worstMs).toBeLessThan(PROBE_BAR_MS);
  });

  it('an <Acct><Nm> of 300,000 characters is a 400 naming the path and the schema limit', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const xml = statementFile({
      account: `<Nm>${'N'.repeat(300_000)}</Nm>`,
      inside: Array.from({ length: 200 }, (_, i) => entry(i)).join(''),
    });
    const { result, worstMs } = await whileProbing(system.gatewayUrl!, () => postStatement(xml));
    expect(result.status).toBe(400);
    expect(result.contentType).toMatch(/^application\/problem\+json/);
    expect(result.body.errors).toEqual([
      {
        path: 'body.Document.BkToCstmrStmt.Stmt.Acct.Nm',
        message: expect.stringMatching(/<Nm> holds 300000 characters; camt.053 allows at most 70 there \(line 7, column \d+\)/),
      },
    ]);
    expect(result.body.detail).toMatch(/^The statement file was refused at line 7, column \d+: <Nm> holds 300000 characters/);
    expect(worstMs).toBeLessThan(PROBE_BAR_MS);
    // Nothing of it was stored.
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
  });

  it('the ingestion service parses as the gateway does: 40,000 siblings and a long account name never hold its loop', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const ingest = (xml: string) =>
      answerOf(
        fetch(`${system.ingestUrl}/internal/v1/statements/acme`, {
          method: 'POST',
          // The fixture's INGEST_TOKEN (test/support/system.ts): the ingestion service answers nobody else.
          headers: { 'content-type': 'application/xml', authorization: 'Bearer test-ingest-token-0123456789' },
          body: xml,
        }),
      );
    const {
      result: [siblings, longName],
      worstMs,
    } = await whileProbing(system.ingestUrl!, async () => [
      await ingest(statementFile({ inside: '<Ustrd/>'.repeat(40_000) })),
      await ingest(statementFile({ account: `<Nm>${'N'.repeat(300_000)}</Nm>` }).replace('HOSTILE-1</Id>', 'HOSTILE-2</Id>')),
    ]);
    expect(siblings.status).toBe(201);
    expect(longName.status).toBe(400);
    expect(longName.body.errors?.[0]?.path).toBe('body.Document.BkToCstmrStmt.Stmt.Acct.Nm');
    expect(worstMs).toBeLessThan(PROBE_BAR_MS);
  });

  it('a statement with more entries than STATEMENT_MAX_ENTRIES is a 413 saying the maximum, and stores nothing', async () => {
    system = await sys.start(['gateway', 'ingest'], { STATEMENT_MAX_ENTRIES: '50' });
    const entries = (n: number) => Array.from({ length: n }, (_, i) => entry(i)).join('');
    const refused = await postStatement(statementFile({ inside: entries(51) }));
    expect(refused.status).toBe(413);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toMatch(/at most 50 entries/);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
    expect((await postStatement(statementFile({ inside: entries(50) }))).status).toBe(202);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(50);
  });

  it('a file whose parts outside its entries pass 4 MiB is a 413 naming the limit, before MongoDB could refuse its statement', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const balances = '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1.00</Amt></Bal>'.repeat(60_000);
    const refused = await postStatement(statementFile({ inside: entry(1) + balances }));
    expect(refused.status).toBe(413);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toMatch(/outside its entries .* spans more than 4194304 bytes \(UTF-8\)/);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
  });

  it('uploads past the parse queue wait or are a 503 with Retry-After, never a pile of parses', async () => {
    system = await sys.start(['gateway', 'ingest'], { STATEMENT_PARSE_CONCURRENCY: '1', STATEMENT_PARSE_QUEUE: '1' });
    const xml = statementFile({ inside: '<Ustrd/>'.repeat(200_000) });
    const answers = await Promise.all(
      // Six different statements: the same one sent at once would meet its own storing lease (also a 503).
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${system.gatewayUrl}/api/v1/statements`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/xml' },
          body: xml.replace('HOSTILE-1</Id>', `HOSTILE-Q${i}</Id>`),
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    // One parses, one waits; the others were refused as they arrived (how many arrive together depends on the machine).
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 503 || s === 202)).toBe(true);
    const busy = answers.find((a) => a.status === 503)!;
    expect(busy.headers.get('retry-after')).toBe('2');
    expect(((await busy.json()) as { detail: string }).detail).toMatch(/1 statement files are being read and 1 wait their turn/);
  });

  it("a tenant filling its share of the parse places gets 429s before its bodies are read; another tenant's upload still goes through", async () => {
    const OTHER_KEY = 'hostile-parse-other-0123456789';
    system = await sys.start(['gateway', 'ingest'], {
      API_KEYS: `acme:${API_KEY},globex:${OTHER_KEY}`,
      STATEMENT_PARSE_CONCURRENCY: '1',
      STATEMENT_PARSE_QUEUE: '3',
      STATEMENT_PARSE_PER_TENANT: '2',
    });
    const heavy = (id: string) => statementFile({ inside: '<Ustrd/>'.repeat(200_000) }).replace('HOSTILE-1</Id>', `${id}</Id>`);
    const small = (id: string) => statementFile({ inside: entry(1) }).replace('HOSTILE-1</Id>', `${id}</Id>`);
    const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/xml' });

    /** Six heavy uploads of acme sent at once and, once the first is answered (while acme's others parse), one small of globex. */
    async function flood(post: (tenant: 'acme' | 'globex', xml: string) => Promise<Response>, tag: string) {
      const a = Array.from({ length: 6 }, (_, i) => post('acme', heavy(`${tag}-A${i}`)));
      await Promise.race(a);
      const b = await post('globex', small(`${tag}-B`));
      return { a: await Promise.all(a), b };
    }

    const viaGateway = await flood(
      (tenant, xml) =>
        fetch(`${system.gatewayUrl}/api/v1/statements`, {
          method: 'POST',
          headers: headers(tenant === 'acme' ? API_KEY : OTHER_KEY),
          body: xml,
        }),
      'GW',
    );
    const statuses = viaGateway.a.map((r) => r.status);
    console.info(`gateway: acme ${JSON.stringify(statuses)}, globex ${viaGateway.b.status}`);
    expect(viaGateway.b.status).toBe(202);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    const over = viaGateway.a.find((r) => r.status === 429)!;
    expect(over.headers.get('retry-after')).toBe('2');
    expect(await over.json()).toMatchObject({
      type: '/problems/statement-uploads-quota',
      detail: expect.stringMatching(/at most 2 at once \(STATEMENT_PARSE_PER_TENANT\)/),
    });

    // The ingestion service gives each tenant (named in its path) the same share.
    const viaIngest = await flood(
      (tenant, xml) =>
        fetch(`${system.ingestUrl}/internal/v1/statements/${tenant}`, {
          method: 'POST',
          headers: headers('test-ingest-token-0123456789'),
          body: xml,
        }),
      'IN',
    );
    const ingestStatuses = viaIngest.a.map((r) => r.status);
    console.info(`ingestion: acme ${JSON.stringify(ingestStatuses)}, globex ${viaIngest.b.status}`);
    expect(viaIngest.b.status).toBe(201);
    expect(ingestStatuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(ingestStatuses.every((s) => s === 201 || s === 429)).toBe(true);
  });

  it("a gateway apart from its ingestion service passes on the service's 429 for a tenant at its share, never a 500", async () => {
    const ingest = await sys.start(['ingest'], { STATEMENT_PARSE_PER_TENANT: '1' });
    system = await sys.start(['gateway'], { INGEST_URL: ingest.ingestUrl!, STATEMENT_PARSE_PER_TENANT: '4' });
    const answers = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        fetch(`${system.gatewayUrl}/api/v1/statements`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/xml' },
          body: statementFile({ inside: '<Ustrd/>'.repeat(200_000) }).replace('HOSTILE-1</Id>', `HOSTILE-R${i}</Id>`),
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    console.info(`gateway apart, ingestion's share 1: ${JSON.stringify(statuses)}`);
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    const over = answers.find((a) => a.status === 429);
    expect(over?.headers.get('retry-after')).toBe('2');
    expect(await over?.json()).toMatchObject({ type: '/problems/statement-uploads-quota' });
  });
});
