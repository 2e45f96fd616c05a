import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.BATCH_MAX_SIZE).toBe(500);
    expect(config.CHANGE_STREAM).toBe('on');
    expect(config.API_KEYS).toBeUndefined();
  });

  it('names every wrong variable on a line of its own', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'eighty', BATCH_MAX_SIZE: '0', MONGODB_URI: 'http://nope', CHANGE_STREAM: 'maybe' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).problems;
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('PORT:'))).toContain('"eighty"');
    expect(lines.find((l) => l.startsWith('BATCH_MAX_SIZE:'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('CHANGE_STREAM:'))).toBeDefined();
    // URLs may hold passwords: their values are never echoed.
    expect(lines.find((l) => l.startsWith('MONGODB_URI:'))).not.toContain('http://nope');
  });

  it('parses API_KEYS into tenants without echoing the keys on error', () => {
    const config = loadConfig({ API_KEYS: 'acme:0123456789abcdef, globex:fedcba9876543210' });
    expect(config.API_KEYS).toEqual([
      { tenantId: 'acme', key: '0123456789abcdef' },
      { tenantId: 'globex', key: 'fedcba9876543210' },
    ]);
    expect(() => loadConfig({ API_KEYS: 'acme:short' })).toThrow(/API_KEYS: must be/);
    try {
      loadConfig({ API_KEYS: 'acme:short' });
    } catch (e) {
      expect(String(e)).not.toContain('short');
    }
  });
});
