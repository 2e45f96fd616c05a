// A tenant's webhook endpoint by id: another tenant's is not found.
import type { Database } from '../db/postgres.js';
import { ENDPOINT_COLUMNS, type EndpointRow } from './rows.js';

export async function findEndpoint(db: Database, tenantId: string, id: string): Promise<EndpointRow | null> {
  return db.oneOrNone<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}
