// Ingestion as the gateway needs it (the port): in-process over the raw store, or the separate ingestion
// service through its HTTP client. The composition root (cli/) chooses which.
import type { CamtDocument } from '../domain/camt053-xml.js';
import type { Accepted, Envelope } from '../domain/envelope.js';
import type { ReplayResult, ReplaySelectors } from '../raw-store/replay.js';
import type { EntriesPage, StatementStatusView } from '../raw-store/statement-status.js';
import type { RawStatusView } from '../raw-store/status-view.js';

export interface Ingest {
  accept(tenantId: string, envelope: Envelope): Promise<Accepted>;
  /** Stores many envelopes with one bulk write; results in the same order, an error per failed item. */
  acceptMany(tenantId: string, envelopes: Envelope[]): Promise<Array<Accepted | { error: string }>>;
  /** Puts the tenant's (null: every tenant's) failed or dead documents matching the selectors back in line. */
  replay(tenantId: string | null, selectors: Omit<ReplaySelectors, 'tenantId'>): Promise<ReplayResult>;
  /** The raw document's progress, or undefined when the tenant has no such document. */
  status(tenantId: string, id: string): Promise<RawStatusView | undefined>;
  /** Stores a camt.053 file (`xml` as sent, `file` as the gateway parsed it) and one raw document per entry. */
  acceptStatement(tenantId: string, xml: string, file: CamtDocument): Promise<Accepted>;
  /** The statement's progress and a page of its entries' (all when no page), or undefined when the tenant has no such statement. */
  statementStatus(tenantId: string, id: string, page?: EntriesPage): Promise<StatementStatusView | undefined>;
  close?(): Promise<void>;
}
