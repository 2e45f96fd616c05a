// The OpenAPI document's examples: a request per source that "Try it out" in /docs can send and see processed
// (the providers' published objects; docs/model.md shows the same), and problems as each error carries them.
import type { Source } from '../domain/envelope.js';

type Json = Record<string, unknown>;

/** Stripe's published balance transaction (stripe/openapi fixtures3.json), as its API returns it. */
const stripeBalanceTransaction = {
  id: 'txn_1PgaxNB7WZ01zgkWEV3TLf40',
  object: 'balance_transaction',
  amount: 100,
  available_on: 1234567890,
  balance_type: 'payments',
  created: 1234567890,
  currency: 'usd',
  description: 'My First Test Charge (created for API docs)',
  exchange_rate: null,
  fee: 0,
  fee_details: [],
  net: 100,
  reporting_category: 'charge',
  source: 'ch_1PgafuB7WZ01zgkWXYmPNZs8',
  status: 'available',
  type: 'charge',
};

/** Plaid's published /transactions/sync `added[0]` (plaid/plaid-openapi 2020-09-14.yml). */
const plaidTransaction = {
  account_id: 'BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp',
  account_owner: null,
  amount: 72.1,
  iso_currency_code: 'USD',
  unofficial_currency_code: null,
  check_number: null,
  counterparties: [{ name: 'Walmart', type: 'merchant', website: 'walmart.com', confidence_level: 'VERY_HIGH' }],
  date: '2023-09-24',
  datetime: '2023-09-24T11:01:01Z',
  authorized_date: '2023-09-22',
  authorized_datetime: '2023-09-22T10:34:50Z',
  location: { address: '13425 Community Rd', city: 'Poway', region: 'CA', postal_code: '92064', country: 'US', store_number: '1700' },
  name: 'PURCHASE WM SUPERCENTER #1700',
  merchant_name: 'Walmart',
  merchant_entity_id: 'O5W5j4dN9OR3E6ypQmjdkWZZRoXEzVMz2ByWM',
  payment_channel: 'in store',
  pending: false,
  pending_transaction_id: 'no86Eox18VHMvaOVL7gPUM9ap3aR1LsAVZ5nc',
  personal_finance_category: { primary: 'GENERAL_MERCHANDISE', detailed: 'GENERAL_MERCHANDISE_SUPERSTORES', confidence_level: 'VERY_HIGH' },
  transaction_id: 'lPNjeW1nR6CDn5okmGQ6hEpMo4lLNoSrzqDje',
  transaction_code: null,
  transaction_type: 'place',
};

/** The first entry of ISO 20022's camt.053 business example (.001.04), in the JSON rendering of docs/model.md. */
const camtEntry = {
  Acct: { Id: { Othr: { Id: '50000000054910000003' } }, Ownr: { Nm: 'FINPETROL' } },
  Ntry: {
    Amt: { Ccy: 'SEK', value: '105678.50' },
    CdtDbtInd: 'CRDT',
    Sts: 'BOOK',
    BookgDt: { DtTm: '2010-10-18T13:15:00+01:00' },
    ValDt: { Dt: '2010-10-18' },
    AcctSvcrRef: 'AAAASESS-FP-CN_98765/01',
    BkTxCd: { Domn: { Cd: 'PAYM', Fmly: { Cd: '0001', SubFmlyCd: '0005' } } },
    NtryDtls: { TxDtls: { Refs: { EndToEndId: 'MUELL/FINP/RA12345' }, RltdPties: { Dbtr: { Nm: 'MUELLER' } } } },
  },
};

/** One envelope per source, each one its mapper processes. */
export const SOURCE_EXAMPLES: Record<Source, { summary: string; value: Json }> = {
  generic: {
    summary: 'generic: our canonical JSON (docs/api.md)',
    value: {
      source: 'generic',
      externalId: 'order-1001',
      payload: {
        account: 'acc-1',
        amount: '-12.34',
        currency: 'EUR',
        occurredAt: '2026-11-24T10:00:00Z',
        description: 'Printer paper',
        counterparty: { name: 'Staples', merchantCategoryCode: '5943' },
      },
    },
  },
  stripe: {
    summary: "stripe: a balance transaction, Stripe's published example",
    value: { source: 'stripe', externalId: stripeBalanceTransaction.id, payload: stripeBalanceTransaction },
  },
  plaid: {
    summary: "plaid: a /transactions/sync added entry, Plaid's published example",
    value: { source: 'plaid', externalId: plaidTransaction.transaction_id, payload: plaidTransaction },
  },
  iso20022: {
    summary: "iso20022: one camt.053 entry with its account, from ISO 20022's business example",
    value: { source: 'iso20022', externalId: 'AAAASESS-FP-CN_98765/01', payload: camtEntry },
  },
};

/** A camt.053.001.02 statement with one booked credit and one booked debit, as a bank delivers it. */
export const STATEMENT_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>EXAMPLE-20261124</MsgId><CreDtTm>2026-11-24T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>EXAMPLE-STMT-20261124</Id>
      <CreDtTm>2026-11-24T18:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-24</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">1200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-24</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="CHF">250.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt>
        <AcctSvcrRef>EXAMPLE-0001</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Muster AG</Nm></Dbtr></RltdPties><RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CHF">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-11-24</Dt></BookgDt><ValDt><Dt>2026-11-24</Dt></ValDt>
        <AcctSvcrRef>EXAMPLE-0002</AcctSvcrRef>
        <NtryDtls><TxDtls><RltdPties><Cdtr><Nm>Swisscom</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;

const ID = '6743a1f0c2b9e41d8a5f0c11';
const example = (summary: string, value: unknown) => ({ summary, value });

/** Request bodies, by "METHOD path" as the OpenAPI document names the operation. */
export const REQUEST_EXAMPLES: Record<string, Record<string, Record<string, { summary: string; value: unknown }>>> = {
  'post /api/v1/transactions': { 'application/json': SOURCE_EXAMPLES },
  'post /api/v1/transactions/batch': {
    'application/json': {
      mixed: example('one item of each source', {
        items: Object.values(SOURCE_EXAMPLES).map(({ value }) => ({ ...value, externalId: `batch-${String(value.externalId)}` })),
      }),
    },
  },
  'post /api/v1/statements': {
    'application/xml': { camt053: example('a camt.053 statement of two booked entries', STATEMENT_EXAMPLE) },
  },
  'post /api/v1/admin/replay': {
    'application/json': {
      dryRun: example('count what a replay of dead stripe documents would take', { source: 'stripe', statuses: ['dead'], dryRun: true }),
      byId: example('put one document back in line', { ids: [ID] }),
    },
  },
  'post /api/v1/webhook-endpoints': {
    'application/json': {
      processed: example('transaction.processed and transaction.dead events to a receiver', {
        url: 'https://hooks.example.com/prismo',
        events: ['transaction.processed', 'transaction.dead'],
      }),
      local: example('a receiver on this machine, in development (`prismo start` allows private addresses)', {
        url: 'http://127.0.0.1:8080/prismo',
        events: ['transaction.processed'],
      }),
    },
  },
  'patch /api/v1/webhook-endpoints/{id}': {
    'application/json': { rotate: example('a new signing secret (the old one signs too for 24 hours)', { rotateSecret: true }) },
  },
  'post /api/v1/webhook-endpoints/{id}/resends': {
    'application/json': { one: example('send one event again', { eventId: 'evt_0c1d2e3f4a5b6c7d8e9f0a1b' }) },
  },
  'post /api/v1/admin/documents/{id}/payload': {
    'application/json': {
      corrected: example('a generic payload with its date corrected', {
        payload: { account: 'acc-1', amount: '-12.34', currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
      }),
    },
  },
};

const WEBHOOK_ENDPOINT_ID = 'we_4f3c2a1b0e9d8c7b6a594837';

/**
 * Path and query parameters, by name (or by operation and name, where an id has another shape): an id's
 * shape and a page size. Filters get none, since "Try it out" would send them and narrow the answer to nothing.
 */
export const PARAMETER_EXAMPLES: Record<string, unknown> = {
  id: ID,
  limit: 10,
  'get /api/v1/webhook-endpoints/{id} id': WEBHOOK_ENDPOINT_ID,
  'patch /api/v1/webhook-endpoints/{id} id': WEBHOOK_ENDPOINT_ID,
  'delete /api/v1/webhook-endpoints/{id} id': WEBHOOK_ENDPOINT_ID,
  'get /api/v1/webhook-endpoints/{id}/deliveries id': WEBHOOK_ENDPOINT_ID,
  'post /api/v1/webhook-endpoints/{id}/resends id': WEBHOOK_ENDPOINT_ID,
};

/** The generic example, processed, as GET /api/v1/transactions/{id} shows its row. */
const processedGeneric = {
  id: ID,
  source: 'generic',
  externalId: 'order-1001',
  account: 'acc-1',
  counterparty: { name: 'Staples', merchantCategoryCode: '5943' },
  direction: 'debit',
  amount: { minor: '1234', value: '12.34', currency: 'EUR' },
  status: 'posted',
  description: 'Printer paper',
  category: null,
  occurredAt: '2026-11-24T10:00:00.000Z',
  bookedAt: '2026-11-24T10:00:00.000Z',
  receivedAt: '2026-11-24T10:00:01.120Z',
  createdAt: '2026-11-24T10:00:01.161Z',
  metadata: {},
};

/** The success answers worth showing: what a POST and a duplicate tell, and what the reads answer. */
export const RESPONSE_EXAMPLES: Record<string, Record<string, Record<string, { summary: string; value: unknown }>>> = {
  'get /api/v1/transactions/{id}': {
    '200': {
      processed: example("the generic example, processed: the document's status and the row", {
        id: ID,
        source: 'generic',
        externalId: 'order-1001',
        status: 'processed',
        attempts: 1,
        lastError: null,
        receivedAt: '2026-11-24T10:00:01.120Z',
        processedAt: '2026-11-24T10:00:01.170Z',
        transaction: { ...processedGeneric, revisions: [] },
      }),
      dead: example('refused by its mapper: dead on the first attempt, with the reason', {
        id: ID,
        source: 'generic',
        externalId: 'order-1002',
        status: 'dead',
        attempts: 1,
        lastError: 'payload.occurredAt: Invalid ISO datetime',
        receivedAt: '2026-11-24T10:00:01.120Z',
        processedAt: null,
        transaction: null,
      }),
    },
  },
  'get /api/v1/transactions': {
    '200': {
      page: example('one page, newest first', { data: [processedGeneric], has_more: true, next_starting_after: ID }),
    },
  },
  'post /api/v1/transactions': {
    '202': {
      accepted: example('a new document', { id: ID, status: 'pending', statusUrl: `/api/v1/transactions/${ID}` }),
      duplicate: example('the externalId was sent before: the first document, and its status now', {
        id: ID,
        status: 'processed',
        statusUrl: `/api/v1/transactions/${ID}`,
        duplicate: true,
      }),
    },
  },
};

/** A problem of each type, by type, as it really comes: `errors` only on a 400, `requestId` only on 503 and 500. */
export const PROBLEM_EXAMPLES: Record<string, Json> = {
  'validation-error': {
    type: '/problems/validation-error',
    title: 'Bad Request',
    status: 400,
    detail: 'body.source: unknown source "stirpe": must be one of generic, stripe, plaid, iso20022',
    instance: '/api/v1/transactions',
    errors: [{ path: 'body.source', message: 'unknown source "stirpe": must be one of generic, stripe, plaid, iso20022' }],
  },
  unauthorized: {
    type: '/problems/unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".',
    instance: '/api/v1/transactions',
  },
  forbidden: {
    type: '/problems/forbidden',
    title: 'Forbidden',
    status: 403,
    detail: 'This API key lacks the "admin" scope.',
    instance: '/api/v1/admin/replay',
  },
  'idempotency-in-flight': {
    type: '/problems/idempotency-in-flight',
    title: 'Conflict',
    status: 409,
    detail: 'A request with this Idempotency-Key is still being processed; retry shortly.',
    instance: '/api/v1/transactions',
  },
  'not-correctable': {
    type: '/problems/not-correctable',
    title: 'Conflict',
    status: 409,
    detail: 'Only failed or dead documents can be corrected; this one is processed.',
    instance: `/api/v1/admin/documents/${ID}/payload`,
  },
  'payload-too-large': {
    type: '/problems/payload-too-large',
    title: 'Payload Too Large',
    status: 413,
    detail: 'Request body is too large',
    instance: '/api/v1/transactions',
  },
  'unsupported-media-type': {
    type: '/problems/unsupported-media-type',
    title: 'Unsupported Media Type',
    status: 415,
    detail: 'Unsupported Media Type',
    instance: '/api/v1/transactions',
  },
  'idempotency-key-reused': {
    type: '/problems/idempotency-key-reused',
    title: 'Unprocessable Entity',
    status: 422,
    detail: 'This Idempotency-Key was used with a different request; use a new key for a new request.',
    instance: '/api/v1/transactions',
  },
  'not-found': {
    type: '/problems/not-found',
    title: 'Not Found',
    status: 404,
    detail: `No transaction ${ID}.`,
    instance: `/api/v1/transactions/${ID}`,
  },
  'rate-quota': {
    type: '/problems/rate-quota',
    title: 'Too Many Requests',
    status: 429,
    detail:
      'Tenant dev may have at most 50000 documents accepted per second (TENANT_DOCS_PER_SECOND); this request carries 60000. Retry after 1 s.',
    instance: '/api/v1/transactions',
  },
  unavailable: {
    type: '/problems/unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail: 'A dependency is unavailable; retry shortly.',
    instance: '/api/v1/transactions',
    requestId: 'req-1f',
  },
};
