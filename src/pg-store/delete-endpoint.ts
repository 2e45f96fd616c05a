// A webhook endpoint deleted, and with it its delivery history (the foreign keys cascade).
import type { Database } from '../db/postgres.js';

export async function deleteEndpoint(db: Database, tenantId: string, id: string): Promise<void> {
  await db.none('DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
}
