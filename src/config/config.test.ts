import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings, opsPortOf } from './config.js';

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
    // Equal is enough: a statement is kept that long after its last entry settled, died or was replayed.
    expect(loadSettings({}).mongo.retention).toEqual({
      processedSeconds: 2_592_000,
      logsSeconds: 2_592_000,
      statementsSeconds: 2_592_000,
      deadSeconds: 2_592_000,
    });
    expect(() =>
      loadSettings({ RETENTION_STATEMENTS_SECONDS: '7199', RETENTION_DEAD_SECONDS: '7200', RETENTION_PROCESSED_SECONDS: '60' }),
    ).toThrow(
      /RETENTION_STATEMENTS_SECONDS: must be at least .* \(7200\), so that a statement, kept that long after its last entry settled, died or was replayed, outlives its entries, .*\(got "7199"\)/,
    );
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

  it("holds a full batch in a tenant's budget of body bytes in flight, and that budget in the gateway's", () => {
    expect(loadSettings({}).http.inflightBodies).toEqual({
      perTenantBytes: 40 * 1_048_576,
      totalBytes: 256 * 1_048_576,
      perTenantSmallBytes: 512 * 1024,
    });
    expect(loadSettings({}).http.jsonParsing.slicedQueueMax).toBe(256);
    expect(() => loadSettings({ TENANT_MAX_INFLIGHT_BODY_BYTES: String(16 * 1_048_576) })).toThrow(
      /TENANT_MAX_INFLIGHT_BODY_BYTES: must be at least BATCH_BODY_LIMIT_BYTES \+ BODY_LIMIT_BYTES \(17825792\)/,
    );
    expect(
      loadSettings({ TENANT_MAX_INFLIGHT_BODY_BYTES: '3000000', BATCH_BODY_LIMIT_BYTES: '2000000', BODY_LIMIT_BYTES: '1000000' }).http
        .inflightBodies.perTenantBytes,
    ).toBe(3_000_000);
    expect(() => loadSettings({ JSON_SLICED_QUEUE: '16' })).toThrow(
      /JSON_SLICED_PER_TENANT: must be less than JSON_SLICED_QUEUE \+ JSON_PARSE_CONCURRENCY \(18\)/,
    );
    expect(loadSettings({ JSON_SLICED_QUEUE: '16', JSON_SLICED_PER_TENANT: '8' }).http.jsonParsing.slicedPerTenant).toBe(8);
    expect(() => loadSettings({ MAX_INFLIGHT_BODY_BYTES: String(32 * 1_048_576) })).toThrow(
      /MAX_INFLIGHT_BODY_BYTES: must be at least TENANT_MAX_INFLIGHT_BODY_BYTES \(41943040\)/,
    );
    expect(() => loadSettings({ JSON_SLICED_QUEUE: '0' })).toThrow(/JSON_SLICED_QUEUE/);
  });

  it('believes X-Forwarded-For only from the proxies TRUST_PROXY names; never from everyone, nor by hop count', () => {
    expect(loadSettings({}).gateway.trustProxy).toBe(false);
    expect(loadSettings({ TRUST_PROXY: 'false' }).gateway.trustProxy).toBe(false);
    expect(loadSettings({ TRUST_PROXY: '10.0.0.0/8, fd00::/8,127.0.0.1 , ::1, loopback' }).gateway.trustProxy).toEqual([
      '10.0.0.0/8',
      'fd00::/8',
      '127.0.0.1',
      '::1',
      'loopback',
    ]);
    // What passes here is what Fastify's proxy-addr compiles (it throws at start-up on what it cannot read).
    const trustProxy = loadSettings({ TRUST_PROXY: '10.0.0.0/8,fd00::/8,127.0.0.1,::1,::ffff:10.1.2.3,loopback,uniquelocal' }).gateway
      .trustProxy;
    expect(() => Fastify({ trustProxy })).not.toThrow();
    expect(() => loadSettings({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: must not be true: .* any client picks its own address/);
    expect(() => loadSettings({ TRUST_PROXY: '1' })).toThrow(/TRUST_PROXY: must not be a hop count: .* give the addresses or CIDRs/);
    for (const wrong of [
      '0.0.0.0/0',
      '::/0',
      '10.0.0.0/33',
      'fd00::/129',
      '10.0.0/8',
      '10.0.0.0/8/1',
      'proxy.example.com',
      '0x7f.1',
      'fe80::1%eth0',
      ',',
    ])
      expect(() => loadSettings({ TRUST_PROXY: wrong }), wrong).toThrow(
        /TRUST_PROXY: must be false, or comma-separated proxy addresses or CIDRs/,
      );
  });

  it('listens for ops on OPS_HOST, loopback by default whatever HOST says', () => {
    expect(loadSettings({ HOST: '0.0.0.0' }).ops).toEqual({ port: undefined, host: '127.0.0.1' });
    expect(loadSettings({ HOST: '0.0.0.0' }).http.host).toBe('0.0.0.0');
    expect(loadSettings({ OPS_HOST: '0.0.0.0', OPS_PORT: '9100' }).ops).toEqual({ port: 9100, host: '0.0.0.0' });
  });

  it('gives each role its own ops port unless OPS_PORT says one, so roles run apart on one host never clash', () => {
    const ports = ['gateway', 'ingest', 'processor', 'deliverer'].map((role) => opsPortOf(undefined, [role]));
    expect(ports).toEqual([9466, 9467, 9464, 9465]);
    expect(new Set(ports).size).toBe(4);
    // One process of several roles has one ops server: prismo start's is the processor's, as before.
    expect(opsPortOf(undefined, ['gateway', 'ingest', 'processor', 'deliverer'])).toBe(9464);
    expect(opsPortOf(undefined, ['gateway', 'ingest'])).toBe(9466);
    expect(opsPortOf(9100, ['deliverer'])).toBe(9100);
    expect(opsPortOf(0, ['deliverer'])).toBe(0);
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
