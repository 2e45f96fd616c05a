// Requests as a tenant's client sends them: a JSON POST with an API key, a tenant's generic transaction.

/** POST a JSON body with an API key. */
export const postAs = (url: string, key: string, path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });

/** The tenant's i-th generic transaction: externalId `<tenant>-<i>`, amount i + 1 minor units. */
export const tenantEnvelope = (tenant: string, i: number) => ({
  source: 'generic',
  externalId: `${tenant}-${i}`,
  payload: { account: `${tenant}-acc`, amountMinor: i + 1, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
});
