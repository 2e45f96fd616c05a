// prismo keys create|list|revoke: API keys kept (hashed) in PostgreSQL.
import { MONGO_DEADLINES_MS, readWithin } from '../../db/mongo.js';
import { isTenantId } from '../../domain/ids.js';
import { acceptCollections, ensureAcceptIndexes } from '../../gateway/accept-collections.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../../gateway/api-key-store.js';
import { type Scope, STATIC_KEY_SCOPES } from '../../gateway/api-keys.js';
import { type Command, StartupError } from '../context.js';
import { connectRunningMongo } from '../resolve.js';

export const keysCommand: Command = async ({ settings, args, values, cleanups }) => {
  // Keys live in MongoDB beside the raw documents: MONGODB_URI, or the MongoDB of a running `prismo start`.
  const { mongo } = await connectRunningMongo(settings, 'keys', cleanups);
  const db = acceptCollections(mongo.db);
  await ensureAcceptIndexes(db);
  const action = args[0];
  if (action === 'create') {
    if (!values.tenant || !isTenantId(values.tenant)) throw new StartupError('keys create needs --tenant <1-64 of A-Z a-z 0-9 _ ->');
    let scopes: Scope[];
    try {
      scopes = parseScopes(values.scopes ?? STATIC_KEY_SCOPES.join(','));
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
    const tenantId = values.tenant;
    const { key, record } = await readWithin(MONGO_DEADLINES_MS.command, (bound) =>
      createApiKey(db, tenantId, scopes, values.label ?? null, bound),
    );
    console.log(
      `created key ${record.id} for tenant ${record.tenantId} with scopes ${record.scopes.join(',')}; it is shown only now:\n${key}`,
    );
  } else if (action === 'list') {
    console.log(['id', 'tenant', 'prefix', 'scopes', 'state', 'label'].join('\t'));
    for (const k of await readWithin(MONGO_DEADLINES_MS.command, (bound) => listApiKeys(db, values.tenant, bound))) {
      const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active';
      console.log([k.id, k.tenantId, k.prefix, k.scopes.join(','), state, k.label ?? ''].join('\t'));
    }
  } else if (action === 'revoke') {
    const id = args[1];
    if (!id || !/^\d+$/.test(id)) throw new StartupError('keys revoke needs the key id (see keys list)');
    if (!(await readWithin(MONGO_DEADLINES_MS.command, (bound) => revokeApiKey(db, id, bound))))
      throw new StartupError(`no active key ${id}`);
    console.log(`revoked key ${id}`);
  } else {
    throw new StartupError('keys needs create, list or revoke (prismo keys --help)');
  }
  return 'done';
};
