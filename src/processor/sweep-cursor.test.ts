import { describe, expect, it } from 'vitest';
import { SweepCursor, WaitingTenants } from './sweep-cursor.js';
import { TenantsSeen } from './tenants-seen.js';

describe('the sweep cursor', () => {
  it('continues a pass after the last document of a full page, and starts again from the oldest after a short one', () => {
    let now = 0;
    const cursor = new SweepCursor(1000, () => now);
    expect(cursor.after()).toBeUndefined();
    cursor.advance(true, 'b');
    now = 500;
    expect(cursor.after()).toBe('b');
    cursor.advance(true, 'd');
    expect(cursor.after()).toBe('d');
    cursor.advance(false, 'e');
    expect(cursor.after()).toBeUndefined();
  });

  it('starts again from the oldest once the pass is a poll interval old, however full its pages', () => {
    let now = 0;
    const cursor = new SweepCursor(1000, () => now);
    cursor.advance(true, 'b');
    now = 900;
    cursor.advance(true, 'c');
    expect(cursor.after()).toBe('c');
    now = 1000;
    expect(cursor.after()).toBeUndefined();
  });

  it('moves the fair rotation on by one page each time', () => {
    const cursor = new SweepCursor(1000);
    expect([cursor.nextPage(), cursor.nextPage(), cursor.nextPage()]).toEqual([0, 1, 2]);
  });
});

describe('the tenants waiting', () => {
  it('asks the store at most once per interval, and keeps the last list when it fails', async () => {
    let now = 0;
    const answers: Array<() => Promise<string[]>> = [() => Promise.resolve(['a']), () => Promise.reject(new Error('down'))];
    let asked = 0;
    const waiting = new WaitingTenants(
      () => answers[asked++]!(),
      100,
      () => now,
    );
    expect(await waiting.list()).toEqual(['a']);
    now = 50;
    expect(await waiting.list()).toEqual(['a']);
    expect(asked).toBe(1);
    now = 100;
    expect(await waiting.list()).toEqual(['a']);
    expect(asked).toBe(2);
  });
});

describe('the tenants seen', () => {
  it('keeps a sighting for its time, then forgets it', () => {
    let now = 0;
    const seen = new TenantsSeen(10_000, () => now);
    seen.see('a');
    now = 5000;
    seen.see('b');
    expect(seen.recent().sort()).toEqual(['a', 'b']);
    now = 10_000;
    expect(seen.recent()).toEqual(['b']);
    now = 15_000;
    expect(seen.recent()).toEqual([]);
  });
});
