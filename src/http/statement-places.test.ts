import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from './problem.js';
import { StatementPlaces } from './statement-places.js';

const busy = () => new HttpProblem(503, 'statement-parsing-busy', 'busy', { headers: { 'retry-after': '2' } });
const refusal = (act: () => unknown) => {
  try {
    act();
  } catch (error) {
    return error as HttpProblem;
  }
  throw new Error('not refused');
};

describe('StatementPlaces', () => {
  it('a tenant at its share is a 429 with Retry-After, while another tenant still takes a place', () => {
    const places = new StatementPlaces(6, 2, busy);
    places.take('a');
    places.take('a');
    const over = refusal(() => places.take('a'));
    expect(over).toMatchObject({ status: 429, slug: 'statement-uploads-quota', extra: { headers: { 'Retry-After': '2' } } });
    expect(over.detail).toMatch(/at most 2 at once \(STATEMENT_PARSE_PER_TENANT\)/);
    places.take('b');
    expect(places.inUse).toBe(3);
  });

  it('every place taken is the 503 it was given; a place given back (once, however often) is taken again', () => {
    const places = new StatementPlaces(2, 2, busy);
    const give = places.take('a');
    places.take('b');
    expect(refusal(() => places.take('c'))).toMatchObject({ status: 503, slug: 'statement-parsing-busy' });
    give();
    give();
    expect(places.inUse).toBe(1);
    expect(places.heldBy('a')).toBe(0);
    places.take('c');
    expect(refusal(() => places.take('d')).status).toBe(503);
  });

  it('a place held until answered is given back when the response closes, or at once if it already had', () => {
    const places = new StatementPlaces(2, 2, busy);
    const open = Object.assign(new EventEmitter(), { closed: false }) as unknown as ServerResponse;
    places.holdUntilAnswered('a', open);
    places.holdUntilAnswered('a', Object.assign(new EventEmitter(), { closed: true }) as unknown as ServerResponse);
    expect(places.heldBy('a')).toBe(1);
    open.emit('close');
    expect(places.inUse).toBe(0);
  });

  it('weighs places: a take of `weight` holds that many, refused when it would pass the share or the whole', () => {
    const places = new StatementPlaces(10, 6, busy);
    const give = places.take('a', 5);
    expect(refusal(() => places.take('a', 2)).status).toBe(429);
    places.take('a', 1);
    places.take('b', 4);
    expect(refusal(() => places.take('c', 1)).status).toBe(503);
    give();
    expect(places.heldBy('a')).toBe(1);
    expect(places.inUse).toBe(5);
  });
});
