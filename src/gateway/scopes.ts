// What an API key may do, within its tenant, except `operator`: the admin routes for every tenant, for the
// people running Prismo, granted only by `prismo keys create`, never to API_KEYS entries.

export const SCOPES = ['transactions:write', 'transactions:read', 'admin', 'operator'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes of API_KEYS entries: everything but admin and operator. */
export const STATIC_KEY_SCOPES: Scope[] = ['transactions:write', 'transactions:read'];

/** Scopes another one includes: an operator may do what a tenant's admin may, for any tenant. */
export const IMPLIED_SCOPES: Partial<Record<Scope, Scope[]>> = { operator: ['admin'] };
