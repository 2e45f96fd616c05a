// What an API key may do.

export const SCOPES = ['transactions:write', 'transactions:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes of API_KEYS entries: everything but admin. */
export const STATIC_KEY_SCOPES: Scope[] = ['transactions:write', 'transactions:read'];
