import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadSettings } from './config.js';
import { newWorkerId } from './worker-id.js';

describe('the default WORKER_ID', () => {
  it('differs between two processes of the same host and pid, as containers on the host network are', () => {
    const ids = new Set(Array.from({ length: 100 }, () => newWorkerId('vm-1', 1)));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^vm-1-1-[0-9a-f]{8}$/);
  });

  it('names the host and pid, and stays the same for the life of the process', () => {
    const first = loadSettings({}).processor.workerId;
    expect(first.startsWith(`${hostname()}-${process.pid}-`)).toBe(true);
    expect(loadSettings({}).processor.workerId).toBe(first);
    expect(loadSettings({ WORKER_ID: 'p1' }).processor.workerId).toBe('p1');
  });
});
