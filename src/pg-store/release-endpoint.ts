// A deliverer gives an endpoint's lease back at the end of its turn, unless another has taken it since.
import type { Database } from '../db/postgres.js';

export async function releaseEndpoint(db: Database, endpointId: string, worker: string): Promise<void> {
  await db.none('UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [
    endpointId,
    worker,
  ]);
}
