// The payload storage rule, and the door's rule beside it: both walk the same way (one scan,
// document order, recursion no deeper than the depth limit), each refusing what its rule names, with the path.
import { describe, expect, it } from 'vitest';
import { envelopeSchema, findUnsafePayloadKey, MAX_PAYLOAD_DEPTH } from './envelope.js';
import { findUnsafeJson, MAX_JSON_DEPTH } from './refusals.js';

const nested = (depth: number): unknown => (depth === 0 ? 'bottom' : { d: nested(depth - 1) });

describe('the payload storage rule', () => {
  it('refuses $-keys, NUL in keys and the prototype names, naming the path; dotted keys pass', () => {
    expect(findUnsafePayloadKey({ a: [{ $gt: 1 }] })).toEqual({ path: ['a', 0, '$gt'], message: 'keys may not start with "$"' });
    expect(findUnsafePayloadKey({ 'n\0l': 1 })).toEqual({ path: ['n\0l'], message: 'keys may not contain NUL' });
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(findUnsafePayloadKey(JSON.parse(`{"x":{"${name}":{}}}`))).toEqual({
        path: ['x', name],
        message: `key "${name}" is not allowed`,
      });
    }
    expect(findUnsafePayloadKey({ 'a.b': { c: 'x\0y' } })).toBeUndefined();
  });

  it('reports the first refusal in document order', () => {
    expect(findUnsafePayloadKey({ a: { $first: 1 }, $second: 2 })?.path).toEqual(['a', '$first']);
    // The path after a walk through an earlier branch is the later key's alone.
    expect(findUnsafePayloadKey({ a: { b: [1, { c: [[]] }], f: 'x' }, d: [{}, { $e: 1 }] })?.path).toEqual(['d', 1, '$e']);
  });

  it(`refuses nesting deeper than ${MAX_PAYLOAD_DEPTH} levels, and the envelope schema says where`, () => {
    expect(findUnsafePayloadKey(nested(MAX_PAYLOAD_DEPTH))).toBeUndefined();
    expect(findUnsafePayloadKey(nested(MAX_PAYLOAD_DEPTH + 1))?.message).toBe(`nesting deeper than ${MAX_PAYLOAD_DEPTH} levels`);
    const parsed = envelopeSchema.safeParse({ source: 'generic', payload: { $where: 'x' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['payload', '$where']);
  });
});

describe('the door rule', () => {
  it('refuses NUL in strings and keys, __proto__ and constructor.prototype anywhere, with dotted paths', () => {
    expect(findUnsafeJson({ payload: { note: 'a\u0000b' } })).toEqual({ path: 'payload.note', message: 'must not contain NUL characters' });
    expect(findUnsafeJson({ m: { 'k\u0000': 1 } })).toEqual({ path: 'm.k\\u0000', message: 'keys must not contain NUL characters' });
    expect(findUnsafeJson(JSON.parse('{"p":{"__proto__":{}}}'))?.path).toBe('p.__proto__');
    expect(findUnsafeJson({ p: { constructor: { prototype: {} } } })?.path).toBe('p.constructor.prototype');
    // A constructor without a prototype and a $-key are the payload rule's business, not the door's.
    expect(findUnsafeJson({ p: { constructor: 1, $x: 2 } })).toBeUndefined();
    expect(findUnsafeJson({ ok: 1 }, ['items', 3])).toBeUndefined();
    expect(findUnsafeJson([{ s: '\u0000' }], ['items', 3])?.path).toBe('items.3.0.s');
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels without exhausting the stack`, () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findUnsafeJson(deep)).toEqual({
      path: Array(MAX_JSON_DEPTH).fill(0).join('.'),
      message: `nesting deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });
});
