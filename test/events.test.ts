// Events on a real system: each state change of a mixed run is recorded once, in the batch's own PostgreSQL
// transaction, and the feed lists them oldest first by cursor, by type, to their tenant only.
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, type EventType } from '../src/domain/events.js';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import plaid from '../src/mapping/transform/vendor/plaid.json' with { type: 'json' };
import stripe from '../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import { eventIdOf } from '../src/pg-store/insert-events.js';
import { mongoUri, waitFor } from './support/databases.js';
import { type SystemHarness, useSystem } from './support/system.js';
import { startTcpProxy, throughProxy } from './support/tcp-proxy.js';
import { type Receiver, startReceiver, verifySignature } from './support/webhook-receiver.js';

const KEYS = { acme: 'events-acme-0123456789', globex: 'events-globex-0123456789' };

interface Event {
  id: string;
  type: string;
  created: string;
  documentId: string;
  data: { id: string; status: string; amount: { minor: string; currency: string }; revisions: unknown[] };
}

/** An endpoint of acme's taking every type, made with an admin key of acme; returns its secret. */
async function subscribe(sys: SystemHarness, gateway: string, url: string): Promise<string> {
  const accept = acceptCollections(sys.mongo.db);
  await ensureAcceptIndexes(accept);
  const admin = (await createApiKey(accept, 'acme', ['admin'])).key;
  const created = await fetch(`${gateway}/api/v1/webhook-endpoints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
    body: JSON.stringify({ url, events: EVENT_TYPES }),
  });
  expect(created.status).toBe(201);
  return ((await created.json()) as { secret: string }).secret;
}

/** The receiver gets exactly the feed's events (duplicates only by id), each signed, each body the feed's entry. */
async function expectDelivered(hook: Receiver, events: Array<{ id: string }>, secret: string) {
  await waitFor('every event delivered', async () => hook.ids().size >= events.length);
  expect(hook.ids()).toEqual(new Set(events.map((e) => e.id)));
  const byId = new Map(events.map((e) => [e.id, e]));
  for (const r of hook.received) {
    expect(verifySignature(r.signature, r.body, secret)).toBe(true);
    expect(r.event).toEqual(byId.get(r.event.id));
  }
}

describe.skipIf(!mongoUri)('events', () => {
  const sys = useSystem({ API_KEYS: `acme:${KEYS.acme},globex:${KEYS.globex}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });

  async function post(gateway: string, body: unknown, key = KEYS.acme): Promise<string> {
    const response = await fetch(`${gateway}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  }
  async function feed(gateway: string, query = '', key = KEYS.acme) {
    const response = await fetch(`${gateway}/api/v1/events${query}`, { headers: { authorization: `Bearer ${key}` } });
    return {
      status: response.status,
      body: (await response.json()) as { data: Event[]; has_more: boolean; next_starting_after: string | null },
    };
  }
  async function everything(gateway: string, key = KEYS.acme): Promise<Event[]> {
    const all: Event[] = [];
    for (let after = ''; ; ) {
      const page = await feed(gateway, `?limit=2${after ? `&starting_after=${after}` : ''}`, key);
      expect(page.status).toBe(200);
      all.push(...page.body.data);
      // The next page's cursor is the last event read, null on the last page.
      expect(page.body.next_starting_after).toBe(page.body.has_more ? page.body.data.at(-1)!.id : null);
      if (!page.body.has_more) return all;
      after = page.body.next_starting_after!;
    }
  }
  const settled = () => waitFor('every document processed', async () => (await sys.mongo.raw.countDocuments({ processed: false })) === 0);

  it('a mixed run records each change once, in the feed by cursor and type, to its tenant only, and delivers it', async () => {
    const hook = await startReceiver();
    sys.defer(() => hook.close());
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const gateway = system.gatewayUrl!;
    const secret = await subscribe(sys, gateway, hook.url);
    const plain = await post(gateway, {
      source: 'generic',
      externalId: 'ev-1',
      payload: { account: 'acc-1', amountMinor: 1234, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
    });
    await settled();
    // A Stripe charge authorised, then captured, then refunded: processed, updated, updated.
    const charge = { ...stripe.charge, id: 'ch_events' };
    const snapshots = [
      charge,
      { ...charge, captured: true, amount_captured: 100 },
      { ...charge, captured: true, amount_captured: 100, amount_refunded: 100, refunded: true },
    ];
    const stripeIds: string[] = [];
    for (const [step, object] of snapshots.entries()) {
      stripeIds.push(
        await post(gateway, {
          source: 'stripe',
          externalId: `evt_ev_${step}`,
          payload: { id: `evt_ev_${step}`, object: 'event', type: 'charge.updated', created: 1_700_000_000 + step, data: { object } },
        }),
      );
      await settled();
    }
    // The same capture sent again under another event id: an unchanged revision, no event.
    await post(gateway, {
      source: 'stripe',
      externalId: 'evt_ev_again',
      payload: { id: 'evt_ev_again', object: 'event', type: 'charge.updated', created: 1_700_000_001, data: { object: snapshots[1] } },
    });
    // Plaid: added, then removed (voided); another tenant's own transaction.
    const added = plaid.syncAdded[0]!;
    const plaidAdded = await post(gateway, { source: 'plaid', externalId: added.transaction_id, payload: added });
    await settled();
    const plaidRemoved = await post(gateway, {
      source: 'plaid',
      payload: { removed: { transaction_id: added.transaction_id, account_id: added.account_id } },
    });
    await post(
      gateway,
      { source: 'generic', payload: { account: 'g-1', amountMinor: 5, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' } },
      KEYS.globex,
    );
    await settled();

    // Each names the document that caused it; its data is the transaction (whose id is its first document's).
    const expected = [
      ['transaction.processed', plain, plain, 'posted'],
      ['transaction.processed', stripeIds[0], stripeIds[0], 'pending'],
      ['transaction.updated', stripeIds[1], stripeIds[0], 'posted'],
      ['transaction.updated', stripeIds[2], stripeIds[0], 'reversed'],
      ['transaction.processed', plaidAdded, plaidAdded, 'posted'],
      ['transaction.voided', plaidRemoved, plaidAdded, 'void'],
    ];
    // Paged two at a time by cursor, oldest first; each event's data is the transaction as it was then.
    const events = await everything(gateway);
    expect(events.map((e) => [e.type, e.documentId, e.data.id, e.data.status])).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // A plain row's id is computed in SQL, the others in Node: the same function of type and document.
    expect(events.map((e) => e.id)).toEqual(events.map((e) => eventIdOf(e.type as EventType, e.documentId)));
    expect(events[0]!.data.amount).toEqual({ minor: '1234', value: '12.34', currency: 'EUR' });
    // The data is what GET /api/v1/transactions/{id} answered at the time: since then, only the resent capture
    // (a stale revision) was added to the charge.
    const now = (await (
      await fetch(`${gateway}/api/v1/transactions/${stripeIds[2]}`, { headers: { authorization: `Bearer ${KEYS.acme}` } })
    ).json()) as {
      transaction: { revisions: Array<{ outcome: string }> };
    };
    expect(now.transaction.revisions.map((r) => r.outcome)).toEqual(['created', 'updated', 'updated', 'stale']);
    expect(events[3]!.data).toEqual({ ...now.transaction, revisions: now.transaction.revisions.slice(0, 3) });

    // By type; after a cursor; another tenant sees only its own.
    const voided = await feed(gateway, '?type=transaction.voided,transaction.updated');
    expect(voided.body.data.map((e) => e.type)).toEqual(['transaction.updated', 'transaction.updated', 'transaction.voided']);
    const after = await feed(gateway, `?starting_after=${events[3]!.id}`);
    expect(after.body.data.map((e) => e.id)).toEqual(events.slice(4).map((e) => e.id));
    expect((await everything(gateway, KEYS.globex)).map((e) => e.type)).toEqual(['transaction.processed']);
    expect((await feed(gateway, `?starting_after=${events[0]!.id}`, KEYS.globex)).status).toBe(404);
    expect((await feed(gateway, '?type=transaction.bogus')).status).toBe(400);
    // Delivered: exactly the feed's events (at least once each, by id), signed, each body the feed's entry.
    await expectDelivered(hook, events, secret);

    // Written again (a batch replayed after a crash: its rows, revisions and events already there): nothing new.
    await system.stop();
    await sys.mongo.raw.updateMany(
      { _id: { $in: [plain, ...stripeIds, plaidAdded, plaidRemoved].map((id) => new ObjectId(id)) } },
      { $set: { processed: false, status: 'pending' } },
    );
    const again = await sys.start(['gateway', 'ingest', 'processor']);
    await settled();
    expect((await everything(again.gatewayUrl!)).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });
});

describe.skipIf(!mongoUri)('failure events', () => {
  const sys = useSystem({
    API_KEYS: `acme:${KEYS.acme}`,
    POLL_INTERVAL_MS: '200',
    BATCH_MAX_WAIT_MS: '20',
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '400',
  });

  it('failures become events once recorded: a failed attempt, then processed; a dead document; PostgreSQL away: accepted, then flowing', async () => {
    const target = new URL(sys.pg.url.replace(/^postgres(ql)?:/, 'http:'));
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => proxy.close());
    const hook = await startReceiver();
    sys.defer(() => hook.close());
    // The deliverer, too, reaches PostgreSQL through the proxy.
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer'], {}, { databaseUrl: throughProxy(sys.pg.url, proxy) });
    const gateway = system.gatewayUrl!;
    const secret = await subscribe(sys, gateway, hook.url);
    const send = async (payload: Record<string, unknown>) => {
      const response = await fetch(`${gateway}/api/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.acme}` },
        body: JSON.stringify({ source: 'generic', payload }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    };
    const valid = (amountMinor: number) => ({ account: 'acc-1', amountMinor, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' });
    const logsOf = (id: string, outcome: 'processed' | 'failed' | 'dead') =>
      sys.mongo.logs.countDocuments({ rawId: new ObjectId(id), outcome });

    // PostgreSQL refuses the row of 13 minor units (a trigger, as a constraint added by hand would): the
    // document fails and will be retried; once the trigger is gone its next attempt writes the row.
    await sys.pg.db.none(`CREATE FUNCTION refuse_13() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.amount_minor = 13 THEN RAISE EXCEPTION 'thirteen refused' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$`);
    await sys.pg.db.none('CREATE TRIGGER refuse_13 BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_13()');
    const refused = await send(valid(13));
    await waitFor('a failed attempt', async () => (await logsOf(refused, 'failed')) > 0);
    await sys.pg.db.none('DROP TRIGGER refuse_13 ON transactions');
    await waitFor('then processed', async () => (await logsOf(refused, 'processed')) > 0);

    // A payload without its date: dead on its first attempt, with its reason.
    const poison = await send({ account: 'acc-1', amountMinor: 1, currency: 'EUR' });
    await waitFor('the dead outcome recorded', async () => (await logsOf(poison, 'dead')) === 1);
    // PostgreSQL away: the gateway still accepts, the processor takes the documents and cannot write them;
    // once it is back, they are processed and their events recorded.
    proxy.cut();
    const during = [await send(valid(21)), await send(valid(22))];
    await waitFor(
      'the processor trying while PostgreSQL is away',
      async () =>
        (await sys.mongo.raw.countDocuments({ _id: { $in: during.map((id) => new ObjectId(id)) }, leaseOwner: { $ne: null } })) > 0,
    );
    expect(await sys.pg.db.one('SELECT count(*)::int AS n FROM events WHERE raw_id = ANY($1)', [during], (r) => r.n)).toBe(0);
    const deliveredBefore = hook.received.length;
    proxy.restore();
    await waitFor(
      'everything processed or dead, every event recorded',
      async () =>
        (await sys.mongo.raw.countDocuments({ status: { $nin: ['processed', 'dead'] } })) === 0 &&
        (await sys.mongo.logs.countDocuments({ eventPending: true })) === 0,
    );

    const response = await fetch(`${gateway}/api/v1/events?limit=100`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
    const events = (
      (await response.json()) as {
        data: Array<{ id: string; type: string; documentId: string; created: string; data: { status: string; lastError: string | null } }>;
      }
    ).data;
    const typesOf = (id: string) => events.filter((e) => e.documentId === id).map((e) => e.type);
    // One transaction.failed per failed attempt (each its own event), and processed. A failure's event is
    // recorded from MongoDB within a second, so it may be listed after the processed one: `created` is when
    // each happened.
    const attempts = await logsOf(refused, 'failed');
    expect(attempts).toBeGreaterThan(0);
    expect(typesOf(refused).sort()).toEqual([...Array(attempts).fill('transaction.failed'), 'transaction.processed'].sort());
    const createdOf = (type: string) => events.filter((e) => e.documentId === refused && e.type === type).map((e) => Date.parse(e.created));
    expect(Math.max(...createdOf('transaction.failed'))).toBeLessThan(Math.min(...createdOf('transaction.processed')));
    expect(events.find((e) => e.documentId === refused && e.type === 'transaction.failed')!.data.lastError).toMatch(/thirteen refused/);
    expect(typesOf(poison)).toEqual(['transaction.dead']);
    expect(events.find((e) => e.documentId === poison)!.data.lastError).toMatch(/occurredAt/);
    for (const id of during) expect(typesOf(id)).toEqual(['transaction.processed']);
    // Delivered too, the events of the outage included, once PostgreSQL was back.
    await expectDelivered(hook, events, secret);
    expect(hook.received.slice(deliveredBefore).map((r) => r.event.documentId)).toEqual(expect.arrayContaining(during));
  });
});

describe.skipIf(!mongoUri)('the events feed', () => {
  const sys = useSystem({ API_KEYS: `acme:${KEYS.acme}` });

  it('never lets a cursor pass an event that commits later: an event shows once every older transaction has ended', async () => {
    const system = await sys.start(['gateway', 'ingest']);
    const at = new Date().toISOString();
    const insert = (db: { none: (q: string, v: unknown[]) => Promise<null> }, id: string) => {
      const rawId = new ObjectId().toHexString();
      const data = {
        ...{ id: rawId, source: 'generic', externalId: null, account: 'acc-1', counterparty: null, direction: 'credit' },
        ...{ amount: { minor: '1', value: '0.01', currency: 'EUR' }, status: 'posted', description: null, category: null },
        ...{ occurredAt: at, bookedAt: null, receivedAt: at, createdAt: at, metadata: {}, revisions: [] },
      };
      return db.none(`INSERT INTO events (id, tenant_id, type, raw_id, data) VALUES ($1, 'acme', 'transaction.processed', $2, $3::jsonb)`, [
        id,
        rawId,
        JSON.stringify(data),
      ]);
    };
    const first = `evt_${'1'.repeat(24)}`;
    const second = `evt_${'2'.repeat(24)}`;
    const listed = async () => {
      const response = await fetch(`${system.gatewayUrl}/api/v1/events`, { headers: { authorization: `Bearer ${KEYS.acme}` } });
      const body = await response.json();
      expect(response.status, JSON.stringify(body)).toBe(200);
      return (body as { data: Array<{ id: string }> }).data.map((e) => e.id);
    };
    // A batch's transaction begins (its xid taken) and records an event before another one that commits first.
    let finish!: () => void;
    const held = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let began!: () => void;
    const started = new Promise<void>((resolve) => {
      began = resolve;
    });
    const slow = sys.pg.db.tx(async (t) => {
      await t.one('SELECT pg_current_xact_id()');
      began();
      await held;
      await insert(t, first);
    });
    await started;
    await insert(sys.pg.db, second);
    // The later-begun one committed, but the older transaction still runs: a reader that saw `second` now and
    // paged on from it would never see `first`, so neither is listed yet.
    expect(await listed()).toEqual([]);
    finish();
    await slow;
    expect(await listed()).toEqual([first, second]);
  });
});
