// The Idempotency-Key's fingerprint of a request: SHA-256 of its RFC 8785 canonical JSON, as `canonicalize`
// writes it, but written piece by piece with turns of the event loop between pieces. A 16 MiB batch made one
// string in one call held the loop for 85–140 ms (canonicalize, then the hash) for every tenant.
import { createHash, type Hash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import canonicalize from 'canonicalize';

/** How long writing may hold the event loop before it yields. */
const SLICE_MS = 8;
/** Containers this far down are written whole by `canonicalize`: an envelope at most, bounded by the parser's counts. */
const WHOLE_BELOW_DEPTH = 3;

/**
 * The hex SHA-256 of `canonicalize(value)`, the same digest to the byte (records written before it still match).
 * RFC 8785 has no form for a lone UTF-16 surrogate (canonicalize throws): such a value (a batch item holding one,
 * refused in its own result after this) is hashed as JSON.stringify writes it, the same bytes each time.
 */
export async function canonicalHash(value: unknown): Promise<string> {
  const writer = { hash: createHash('sha256'), sliceStarted: performance.now() };
  try {
    await write(writer, value, 0);
    return writer.hash.digest('hex');
  } catch {
    return createHash('sha256')
      .update(`not-unicode:${JSON.stringify(value)}`)
      .digest('hex');
  }
}

type Writer = { hash: Hash; sliceStarted: number };

async function write(writer: Writer, value: unknown, depth: number): Promise<void> {
  if (performance.now() - writer.sliceStarted > SLICE_MS) {
    await nextTurn();
    writer.sliceStarted = performance.now();
  }
  // Primitives, objects with toJSON, and whatever lies deep enough: canonicalize's own text.
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function' ||
    depth >= WHOLE_BELOW_DEPTH
  ) {
    writer.hash.update(canonicalize(value) ?? '');
    return;
  }
  if (Array.isArray(value)) {
    writer.hash.update('[');
    for (const [index, item] of value.entries()) {
      if (index > 0) writer.hash.update(',');
      await write(writer, item === undefined || typeof item === 'symbol' ? null : item, depth + 1);
    }
    writer.hash.update(']');
    return;
  }
  const object = value as Record<string, unknown>;
  writer.hash.update('{');
  let first = true;
  for (const key of Object.keys(object).sort()) {
    const child = object[key];
    if (child === undefined || typeof child === 'symbol') continue;
    writer.hash.update(`${first ? '' : ','}${canonicalize(key)}:`);
    first = false;
    await write(writer, child, depth + 1);
  }
  writer.hash.update('}');
}
