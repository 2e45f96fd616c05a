// Chooses the mapper by the envelope's `source`. Adding a format is one module plus one line here.
import { PermanentError } from '../../errors.js';
import { mapGeneric } from './generic.js';
import type { RawInput, SourceMapper, Transaction } from './model.js';

const mappers: Record<string, SourceMapper> = {
  generic: mapGeneric,
};

export const knownSources = () => Object.keys(mappers);

export function transformRaw(raw: RawInput): Transaction {
  const mapper = Object.hasOwn(mappers, raw.source) ? mappers[raw.source] : undefined;
  if (!mapper) throw new PermanentError('unknown_source', `no mapper for source "${raw.source}" (known: ${knownSources().join(', ')})`);
  return mapper(raw);
}
