// Chooses the mapper by the envelope's `source` and checks what it built against the canonical schema.
// Adding a format is one module, one line in `mappers` and its name in SOURCES (domain/envelope.ts); docs/model.md says how.
import { SOURCES, type Source } from '../../domain/envelope.js';
import { PermanentError } from '../../domain/errors.js';
import { isRemoval, type Mapped, type RawInput, removalSchema, type SourceMapper, transactionSchema } from '../../domain/transaction.js';
import { mapGeneric } from './generic.js';
import { mapIso20022 } from './iso20022.js';
import { mapPlaid } from './plaid.js';
import { mapStripe } from './stripe.js';

const mappers: Record<Source, SourceMapper> = {
  generic: mapGeneric,
  stripe: mapStripe,
  plaid: mapPlaid,
  iso20022: mapIso20022,
};

/**
 * A stored raw document as far as a mapper reads it: its fields and id, typed here rather than imported from
 * raw-store/ so the mapping stays pure (a RawTransaction is one).
 */
export type StoredRaw = Omit<RawInput, 'rawId'> & { _id: { toHexString(): string } };

/** What a mapper reads of a stored raw document. */
export const rawInputOf = (doc: StoredRaw): RawInput => ({
  rawId: doc._id.toHexString(),
  tenantId: doc.tenantId,
  source: doc.source,
  externalId: doc.externalId,
  payload: doc.payload,
  receivedAt: doc.receivedAt,
});

export function transformRaw(raw: RawInput): Mapped {
  const mapper = Object.hasOwn(mappers, raw.source) ? mappers[raw.source as Source] : undefined;
  if (!mapper) throw new PermanentError('unknown_source', `no mapper for source "${raw.source}" (known: ${SOURCES.join(', ')})`);
  const mapped = mapper(raw);
  const checked = isRemoval(mapped) ? removalSchema.safeParse(mapped) : transactionSchema.safeParse(mapped);
  if (!checked.success) {
    const reasons = checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new PermanentError('invalid_transaction', `the ${raw.source} mapper built an invalid transaction: ${reasons}`, {
      cause: checked.error,
    });
  }
  return checked.data;
}
