// A tenant's webhook endpoints, oldest first.
import type { Database } from '../db/postgres.js';
import { ENDPOINT_COLUMNS, type EndpointRow } from './rows.js';

export async function listEndpoints(db: Database, tenantId: string): Promise<EndpointRow[]> {
  return db.any<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
}
