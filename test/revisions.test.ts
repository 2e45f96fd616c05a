// Provider revisions over the public API, on the whole system: a Stripe charge forwarded from webhooks as it
// is captured and refunded, and a Plaid transaction added, modified and removed, each end as one row.
import { beforeAll, describe, expect, it } from 'vitest';
import type { System } from '../src/cli/system.js';
import plaid from '../src/mapping/transform/vendor/plaid.json' with { type: 'json' };
import stripe from '../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import { mongoUri, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const API_KEY = 'revisions-key-0123456789';

interface Detail {
  status: string;
  transaction: { id: string; status: string; amount: { minor: string }; revisions: Array<{ rawId: string; outcome: string }> } | null;
}

describe.skipIf(!mongoUri)('revisions through the API', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });
  let pg: TestPostgres;
  let system: System;
  beforeAll(() => {
    pg = sys.pg;
  });

  const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
  async function post(source: string, payload: object, externalId?: string): Promise<{ id: string; duplicate?: boolean }> {
    const response = await fetch(`${system.gatewayUrl}/api/v1/transactions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ source, ...(externalId ? { externalId } : {}), payload }),
    });
    expect(response.status).toBe(202);
    return (await response.json()) as { id: string; duplicate?: boolean };
  }
  const get = async (id: string) => (await (await fetch(`${system.gatewayUrl}/api/v1/transactions/${id}`, { headers })).json()) as Detail;
  const processed = (ids: string[]) =>
    waitFor('every revision processed', async () => (await Promise.all(ids.map(get))).every((d) => d.status === 'processed'));

  const authorised = stripe.charge;
  const captured = { ...authorised, captured: true, amount_captured: 100 };
  const refunded = { ...captured, amount_refunded: 100, refunded: true };

  it.each([
    ['unset', () => undefined],
    ['the object id', () => authorised.id],
    ['each event id', (i: number) => `evt_api_${i}`],
  ])('a Stripe charge sent authorised, captured, refunded with externalId %s: one row, reversed', async (_label, externalIdOf) => {
    system = await sys.start(['gateway', 'ingest', 'processor']);
    const ids: string[] = [];
    for (const [i, payload] of [authorised, captured, refunded].entries()) {
      ids.push((await post('stripe', payload, externalIdOf(i))).id);
      await processed(ids);
    }
    expect(new Set(ids).size).toBe(3);
    // The same snapshot forwarded twice (a webhook retry) is one document.
    const retry = await post('stripe', refunded, externalIdOf(2));
    expect(retry.id === ids[2] && retry.duplicate === true).toBe(externalIdOf(2) !== undefined);
    if (retry.id !== ids[2]) ids.push(retry.id);
    await processed(ids);
    for (const id of ids) expect((await get(id)).transaction).toMatchObject({ id: ids[0], status: 'reversed', amount: { minor: '100' } });
    expect(await pg.db.any('SELECT status FROM transactions')).toEqual([{ status: 'reversed' }]);
    expect((await get(ids[1]!)).transaction?.revisions.map((r) => r.outcome).slice(0, 3)).toEqual(['created', 'updated', 'updated']);
  });

  it('a Plaid transaction added, modified, removed: one row, void, with the modified amount', async () => {
    system = await sys.start(['gateway', 'ingest', 'processor']);
    const added = plaid.syncAdded[0]!;
    const ids = [(await post('plaid', added)).id];
    await processed(ids);
    ids.push((await post('plaid', { ...added, amount: 74.1 })).id);
    await processed(ids);
    expect((await get(ids[0]!)).transaction).toMatchObject({ status: 'posted', amount: { minor: '7410' } });
    ids.push((await post('plaid', { removed: { transaction_id: added.transaction_id, account_id: added.account_id } })).id);
    await processed(ids);
    for (const id of ids) expect((await get(id)).transaction).toMatchObject({ id: ids[0], status: 'void', amount: { minor: '7410' } });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)).toBe(1);
  });
});
