// Ingestion over the raw store: what the ingestion service serves, and what the gateway calls directly
// when both run in one process.
import type { Collection } from 'mongodb';
import type { Accepted, Envelope } from '../domain/envelope.js';
import { type RawTransaction, tenantFilter } from '../raw-store/collections.js';
import { insertRaw, insertRawMany } from '../raw-store/insert.js';
import { type ReplayResult, type ReplaySelectors, replay } from '../raw-store/replay.js';
import { findRawStatus, type RawStatusView } from '../raw-store/status-view.js';

export interface MongoIngest {
  accept(tenantId: string, envelope: Envelope): Promise<Accepted>;
  acceptMany(tenantId: string, envelopes: Envelope[]): Promise<Array<Accepted | { error: string }>>;
  replay(tenantId: string | null, selectors: Omit<ReplaySelectors, 'tenantId'>): Promise<ReplayResult>;
  status(tenantId: string, id: string): Promise<RawStatusView | undefined>;
}

export function createMongoIngest(
  raw: Collection<RawTransaction>,
  { onStored }: { onStored?: (source: string) => void } = {},
): MongoIngest {
  return {
    async accept(tenantId, envelope) {
      const accepted = await insertRaw(raw, tenantId, envelope);
      if (!accepted.duplicate) onStored?.(envelope.source);
      return accepted;
    },
    async acceptMany(tenantId, envelopes) {
      const results = await insertRawMany(raw, tenantId, envelopes);
      results.forEach((result, i) => {
        if ('id' in result && !result.duplicate) onStored?.(envelopes[i]!.source);
      });
      return results;
    },
    replay: (tenantId, selectors) => replay(raw, { ...selectors, ...tenantFilter(tenantId) }),
    status: (tenantId, id) => findRawStatus(raw, tenantId, id),
  };
}
