import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from './config.js';

describe('loadSettings', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadSettings({});
    expect(config.gateway.port).toBe(3000);
    expect(config.processor.batchMaxSize).toBe(500);
    expect(config.processor.changeStream).toBe(true);
    expect(config.gateway.apiKeys).toBeUndefined();
  });

  it('names every wrong variable on a line of its own', () => {
    const error = (() => {
      try {
        loadSettings({ PORT: 'eighty', BATCH_MAX_SIZE: '0', MONGODB_URI: 'http://nope', CHANGE_STREAM: 'maybe' });
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

  it('refuses statements kept shorter than their entries: an entry reads its account from its statement', () => {
    expect(loadSettings({}).mongo.retention).toMatchObject({ statementsSeconds: 2_592_000, deadSeconds: 2_592_000 });
    expect(() => loadSettings({ RETENTION_STATEMENTS_SECONDS: '3600', RETENTION_DEAD_SECONDS: '7200' })).toThrow(
      /RETENTION_STATEMENTS_SECONDS: must be at least RETENTION_PROCESSED_SECONDS and RETENTION_DEAD_SECONDS \(2592000\)/,
    );
    expect(() => loadSettings({ RETENTION_STATEMENTS_SECONDS: '7200', RETENTION_DEAD_SECONDS: '0' })).toThrow(/0, for ever/);
    // Kept for ever, a statement outlives anything.
    expect(loadSettings({ RETENTION_STATEMENTS_SECONDS: '0' }).mongo.retention.statementsSeconds).toBe(0);
    expect(loadSettings({ RETENTION_STATEMENTS_SECONDS: '0', RETENTION_DEAD_SECONDS: '0' }).mongo.retention.deadSeconds).toBe(0);
    expect(
      loadSettings({ RETENTION_STATEMENTS_SECONDS: '7200', RETENTION_DEAD_SECONDS: '3600', RETENTION_PROCESSED_SECONDS: '7200' }).mongo
        .retention,
    ).toMatchObject({ statementsSeconds: 7200 });
  });

  it("bounds statement parsing: entries at most the design's 40,000, two parses at once, sixteen waiting, four a tenant's by default", () => {
    expect(loadSettings({}).http.statementParsing).toEqual({ maxEntries: 40_000, concurrency: 2, queueMax: 16, perTenant: 4 });
    expect(loadSettings({ STATEMENT_PARSE_PER_TENANT: '9' }).http.statementParsing.perTenant).toBe(9);
    expect(() => loadSettings({ STATEMENT_PARSE_PER_TENANT: '0' })).toThrow(/STATEMENT_PARSE_PER_TENANT/);
    expect(loadSettings({ STATEMENT_MAX_ENTRIES: '500', STATEMENT_PARSE_QUEUE: '0' }).http.statementParsing).toMatchObject({
      maxEntries: 500,
      queueMax: 0,
    });
    expect(() => loadSettings({ STATEMENT_MAX_ENTRIES: '40001' })).toThrow(
      /STATEMENT_MAX_ENTRIES: must be at most 40000, the most the design holds/,
    );
    expect(() => loadSettings({ STATEMENT_PARSE_CONCURRENCY: '0' })).toThrow(/STATEMENT_PARSE_CONCURRENCY/);
  });

  it('parses API_KEYS into tenants without echoing the keys on error', () => {
    const config = loadSettings({ API_KEYS: 'acme:0123456789abcdef, globex:fedcba9876543210' });
    expect(config.gateway.apiKeys).toEqual([
      { tenantId: 'acme', key: '0123456789abcdef' },
      { tenantId: 'globex', key: 'fedcba9876543210' },
    ]);
    expect(() => loadSettings({ API_KEYS: 'acme:short' })).toThrow(/API_KEYS: must be/);
    try {
      loadSettings({ API_KEYS: 'acme:short' });
    } catch (e) {
      expect(String(e)).not.toContain('short');
    }
  });
});
