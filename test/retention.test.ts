// Retention: MongoDB forgets processed raw documents and old logs, dead documents, statements and their files
// (TTL indexes, and the processors' sweep of GridFS), and nothing a client relies on goes with them. The
// development MongoDB expires documents through TTL indexes like mongod (its monitor runs every second under
// the tests), so the documents really go.
import { calculateObjectSize } from 'bson';
import { type Db, ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMongoIngest } from '../src/ingest/mongo-ingest.js';
import { ensureMongoIndexes } from '../src/raw-store/collections.js';
import { reconcile } from '../src/reconcile/reconcile.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const API_KEY = 'retention-key-0123456789';
const auth = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

describe.skipIf(!mongoUri)('retention', () => {
  const sys = useSystem({
    API_KEYS: `acme:${API_KEY}`,
    POLL_INTERVAL_MS: '200',
    BATCH_MAX_WAIT_MS: '10',
    RETENTION_PROCESSED_SECONDS: '3600',
    RETENTION_LOGS_SECONDS: '7200',
    RETENTION_STATEMENTS_SECONDS: '3600',
    RETENTION_DEAD_SECONDS: '3600',
  });
  let pg: TestPostgres;
  let mongo: TestMongo;
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });

  const envelope = (externalId: string, amount: string) => ({
    source: 'generic',
    externalId,
    payload: { account: 'acc-1', amount, currency: 'EUR', occurredAt: '2026-11-24T12:00:00Z' },
  });
  const post = async (url: string, body: unknown) => {
    const response = await fetch(`${url}/api/v1/transactions`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const get = async (url: string, id: string) => {
    const response = await fetch(`${url}/api/v1/transactions/${id}`, { headers: auth });
    return {
      status: response.status,
      body: (await response.json()) as { status: string; transaction: { id: string } | null } & Record<string, unknown>,
    };
  };
  const upload = async (url: string, xml: string) => {
    const response = await fetch(`${url}/api/v1/statements`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/xml' },
      body: xml,
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const processed = (id: string) => async () => (await mongo.raw.findOne({ _id: new ObjectId(id) }))?.processed;

  it('TTL indexes: processed raw documents (partial: failed and dead stay) and logs, with the configured ages', async () => {
    await sys.start(['gateway', 'ingest']);
    const rawIndex = (await mongo.raw.listIndexes().toArray()).find((index) => index.name === 'retention');
    expect(rawIndex).toMatchObject({ key: { processedAt: 1 }, expireAfterSeconds: 3600, partialFilterExpression: { processed: true } });
    const logIndex = (await mongo.logs.listIndexes().toArray()).find((index) => index.name === 'retention');
    expect(logIndex).toMatchObject({ key: { at: 1 }, expireAfterSeconds: 7200 });

    // A changed setting replaces the index (createIndex alone would refuse other options under the same name).
    await ensureMongoIndexes(mongo, { processedSeconds: 60, logsSeconds: 7200 });
    const changed = (await mongo.raw.listIndexes().toArray()).filter((index) => index.name === 'retention');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ expireAfterSeconds: 60, partialFilterExpression: { processed: true } });
  });

  it('TTL indexes: dead raw documents from when they died, statements from their last entry (retainFrom); 0 keeps them for ever', async () => {
    await sys.start(['gateway', 'ingest']);
    const deadIndex = (await mongo.raw.listIndexes().toArray()).find((index) => index.name === 'dead_retention');
    expect(deadIndex).toMatchObject({ key: { deadAt: 1 }, expireAfterSeconds: 3600, partialFilterExpression: { status: 'dead' } });
    const statementIndex = () => mongo.statements.listIndexes().toArray();
    expect((await statementIndex()).find((index) => index.name === 'retention')).toMatchObject({
      key: { retainFrom: 1 },
      expireAfterSeconds: 3600,
    });

    // An earlier release's: the index on receivedAt, a statement without retainFrom. The start replaces the
    // index and gives the statement its receivedAt, so it is not kept for ever.
    await mongo.statements.dropIndex('retention');
    await mongo.statements.createIndex({ receivedAt: 1 }, { name: 'retention', expireAfterSeconds: 3600 });
    const receivedAt = new Date(Date.now() - 60_000);
    const { insertedId } = await mongo.statements.insertOne({
      _id: new ObjectId(),
      tenantId: 'acme',
      key: 'earlier-release',
      version: '001.02',
      messageId: null,
      statements: [],
      receivedAt,
      fileId: null,
      complete: true,
    });
    await ensureMongoIndexes(mongo, { processedSeconds: 3600, logsSeconds: 7200, statementsSeconds: 3600, deadSeconds: 3600 });
    expect((await statementIndex()).filter((index) => index.name === 'retention')).toEqual([
      expect.objectContaining({ key: { retainFrom: 1 }, expireAfterSeconds: 3600 }),
    ]);
    expect((await mongo.statements.findOne({ _id: insertedId }))?.retainFrom).toEqual(receivedAt);

    await ensureMongoIndexes(mongo, { processedSeconds: 60, logsSeconds: 7200, statementsSeconds: 0, deadSeconds: 0 });
    expect((await mongo.raw.listIndexes().toArray()).map((index) => index.name)).not.toContain('dead_retention');
    expect((await mongo.statements.listIndexes().toArray()).map((index) => index.name)).not.toContain('retention');
  });

  it('expired statements, their files and chunks and dead documents are removed, fresh ones kept; a removed statement is 404', async () => {
    const system = await sys.start(['gateway', 'ingest'], { MAX_ATTEMPTS: '1' });
    const url = system.gatewayUrl!;
    const oldStatement = await upload(url, statementOf('STMT-OLD'));
    const freshStatement = await upload(url, statementOf('STMT-FRESH'));
    // Each entry's raw document carries its payload's bytes (the waiting-bytes quota sums them).
    const entries = await mongo.raw.find({ statementId: { $exists: true } }).toArray();
    expect(entries.map((entry) => entry.bytes)).toEqual(entries.map((entry) => calculateObjectSize(entry.payload)));
    const files = filesOf(mongo.db);
    const oldFile = (await mongo.statements.findOne({ _id: new ObjectId(oldStatement) }))!.fileId!;
    expect(await chunksOf(mongo.db).countDocuments({ files_id: oldFile })).toBeGreaterThan(0);
    // Uploaded two hours ago: past the retention of an hour (the processor's sweep at its start sees it).
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    await files.updateOne({ _id: oldFile }, { $set: { uploadDate: twoHoursAgo } });
    const noDate = (id: string) => ({ source: 'generic', externalId: id, payload: { account: 'acc-1', amount: '1.00', currency: 'EUR' } });
    const [oldDead, freshDead] = [await post(url, noDate('dead-old')), await post(url, noDate('dead-fresh'))];

    // A processor: the entries are processed, the two documents dead (with when), and the sweep runs at its start.
    await sys.start(['processor'], { MAX_ATTEMPTS: '1' });
    const deadAt = async (id: string) => (await mongo.raw.findOne({ _id: new ObjectId(id), status: 'dead' }))?.deadAt;
    await waitFor('both dead', async () => (await deadAt(oldDead)) !== undefined && (await deadAt(freshDead)) !== undefined);
    expect(Date.now() - (await deadAt(freshDead))!.getTime()).toBeLessThan(60_000);
    await mongo.raw.updateOne({ _id: new ObjectId(oldDead) }, { $set: { deadAt: twoHoursAgo } });
    // The old statement's entry settled two hours ago (its retention too): the statement is kept an hour from then.
    const oldEntry = { statementId: new ObjectId(oldStatement) };
    await waitFor('the old entry processed', async () => (await mongo.raw.findOne(oldEntry))?.processed === true);
    await mongo.raw.updateOne(oldEntry, { $set: { processedAt: twoHoursAgo } });
    await mongo.statements.updateOne({ _id: new ObjectId(oldStatement) }, { $set: { retainFrom: twoHoursAgo } });

    await waitFor(
      'the old statement, its file, its chunks and the old dead document removed',
      async () => {
        const left = await Promise.all([
          mongo.statements.countDocuments({ _id: new ObjectId(oldStatement) }),
          files.countDocuments({ _id: oldFile }),
          chunksOf(mongo.db).countDocuments({ files_id: oldFile }),
          mongo.raw.countDocuments({ _id: new ObjectId(oldDead) }),
        ]);
        return left.every((n) => n === 0);
      },
      { timeoutMs: 30_000 },
    );
    const freshFile = (await mongo.statements.findOne({ _id: new ObjectId(freshStatement) }))?.fileId;
    expect(freshFile).toBeTruthy();
    expect(await files.countDocuments({ _id: freshFile! })).toBe(1);
    expect(await chunksOf(mongo.db).countDocuments({ files_id: freshFile! })).toBeGreaterThan(0);
    expect(await mongo.raw.findOne({ _id: new ObjectId(freshDead) })).toMatchObject({ status: 'dead' });
    expect((await fetch(`${url}/api/v1/statements/${oldStatement}`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${url}/api/v1/statements/${freshStatement}`, { headers: auth })).status).toBe(200);
  });

  it('a statement outlives its entries: a dead entry replayed at the end of its retention is processed, a processed one reconciles', async () => {
    const system = await sys.start(['gateway', 'ingest'], { MAX_ATTEMPTS: '1' });
    const url = system.gatewayUrl!;
    const [dying, settling] = [await upload(url, statementOf('STMT-DIES')), await upload(url, statementOf('STMT-SETTLES'))];
    const entryOf = async (statement: string) => (await mongo.raw.findOne({ statementId: new ObjectId(statement) }))!;
    const statementOfId = async (statement: string) => (await mongo.statements.findOne({ _id: new ObjectId(statement) }))!;
    const dead = await entryOf(dying);
    // Stored without its account, which its statement holds.
    expect(dead.payload.Acct).toBeUndefined();
    // An entry its mapper refuses (no amount) dies at its first attempt.
    const amount = (dead.payload.Ntry as Record<string, unknown>).Amt;
    await mongo.raw.updateOne({ _id: dead._id }, { $unset: { 'payload.Ntry.Amt': '' } });
    await sys.start(['processor'], { MAX_ATTEMPTS: '1' });
    await waitFor('one entry dead, the other processed', async () => {
      const [a, b] = [await entryOf(dying), await entryOf(settling)];
      return a.status === 'dead' && b.processed;
    });
    // Each statement's retention starts again when its entry dies or is processed, from the same time.
    expect((await statementOfId(dying)).retainFrom).toEqual((await entryOf(dying)).deadAt);
    expect((await statementOfId(settling)).retainFrom).toEqual((await entryOf(settling)).processedAt);

    // Both received two hours ago: retention counted from receipt (an hour) would have removed both statements.
    // The dead entry died 59 minutes ago, its statement with it: a minute of its retention left.
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    const diedAt = new Date(Date.now() - 3_540_000);
    for (const statement of [dying, settling]) {
      await mongo.statements.updateOne({ _id: new ObjectId(statement) }, { $set: { receivedAt: twoHoursAgo } });
      await mongo.raw.updateOne({ statementId: new ObjectId(statement) }, { $set: { receivedAt: twoHoursAgo } });
    }
    await mongo.raw.updateOne({ _id: dead._id }, { $set: { deadAt: diedAt } });
    await mongo.statements.updateOne({ _id: new ObjectId(dying) }, { $set: { retainFrom: diedAt } });
    // A statement whose last entry went two hours ago: once the TTL monitor removed it, it has seen the others.
    const { insertedId: gone } = await mongo.statements.insertOne({
      _id: new ObjectId(),
      tenantId: 'acme',
      key: 'long-settled',
      version: '001.08',
      messageId: null,
      statements: [],
      receivedAt: twoHoursAgo,
      retainFrom: twoHoursAgo,
      fileId: null,
      complete: true,
    });
    await waitFor('the long-settled statement removed', async () => (await mongo.statements.countDocuments({ _id: gone })) === 0, {
      timeoutMs: 30_000,
    });
    expect(await mongo.statements.countDocuments({ _id: { $in: [new ObjectId(dying), new ObjectId(settling)] } })).toBe(2);

    // The operator fixes the entry and replays it (as the ingestion service does): its statement is kept from now.
    await mongo.raw.updateOne({ _id: dead._id }, { $set: { 'payload.Ntry.Amt': amount } });
    const replayedAt = Date.now();
    const ingest = createMongoIngest({ db: mongo.db, raw: mongo.raw, statements: mongo.statements });
    expect(await ingest.replay('acme', { ids: [dead._id.toHexString()], statuses: ['dead'], dryRun: false })).toMatchObject({
      replayed: 1,
    });
    expect((await statementOfId(dying)).retainFrom!.getTime()).toBeGreaterThanOrEqual(replayedAt);
    await waitFor('the replayed entry processed', processed(dead._id.toHexString()));
    const transaction = (await get(url, dead._id.toHexString())).body.transaction;
    expect(transaction).toMatchObject({ id: dead._id.toHexString(), account: 'DE89370400440532013000' });
    expect((await statementOfId(dying)).retainFrom).toEqual((await entryOf(dying)).processedAt);

    // Reconciliation maps both entries again from their statements' accounts: no mismatch, both counted.
    const found = await reconcile(mongo, pg.db, {
      tenantId: 'acme',
      from: new Date(twoHoursAgo.getTime() - 60_000),
      to: new Date(Date.now() + 60_000),
      waitingThresholdMs: 3_600_000,
      retentionSeconds: 3600,
    });
    expect(found.mismatches).toEqual([]);
    expect(found.days.reduce((sum, day) => sum + day.processed, 0)).toBe(2);
    const sums = found.days.flatMap((day) => day.sums);
    const total = (side: 'rowsMinor' | 'documentsMinor') => sums.reduce((sum, day) => sum + BigInt(day[side]), 0n);
    expect([total('rowsMinor'), total('documentsMinor')]).toEqual([50_000n, 50_000n]);
  });

  it('processed documents and logs expire, dead ones stay; the transaction is still read by id, and resending its externalId adds no row', async () => {
    // Retention of one second; the development MongoDB's TTL monitor runs every second in tests (mongod's: 60 s).
    const system = await sys.start(['gateway', 'ingest', 'processor'], {
      RETENTION_PROCESSED_SECONDS: '1',
      RETENTION_LOGS_SECONDS: '1',
      MAX_ATTEMPTS: '1',
    });
    const url = system.gatewayUrl!;
    const first = await post(url, envelope('order-77', '12.34'));
    const dead = await post(url, {
      source: 'generic',
      externalId: 'no-date',
      payload: { account: 'acc-1', amount: '1.00', currency: 'EUR' },
    });
    await waitFor('the first document processed', processed(first));
    const before = await get(url, first);
    expect(before.status).toBe(200);
    expect(before.body.transaction?.id).toBe(first);

    const expiry = { timeoutMs: 90_000 };
    await waitFor(
      'the processed document and every log entry expired',
      async () => {
        const [raw, logs] = await Promise.all([mongo.raw.countDocuments({ processed: true }), mongo.logs.countDocuments({})]);
        return raw === 0 && logs === 0;
      },
      expiry,
    );
    // The dead document is kept (the index is partial on processed documents) until replayed or purged.
    expect(await mongo.raw.findOne({ _id: new ObjectId(dead) })).toMatchObject({ status: 'dead' });

    const after = await get(url, first);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ id: first, status: 'processed', lastError: null, transaction: before.body.transaction });

    // MongoDB no longer knows the external id: the resubmission is a new raw document...
    const again = await post(url, envelope('order-77', '12.34'));
    expect(again).not.toBe(first);
    await waitFor('the resubmission processed', processed(again));
    // ...which resolves to the original transaction, and PostgreSQL holds one row for the external id.
    const resolved = await get(url, again);
    expect(resolved.status).toBe(200);
    expect(resolved.body.transaction).toEqual(before.body.transaction);
    expect(await pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE external_id = 'order-77'", [], (r) => r.n)).toBe(1);
    // The alias outlives its raw document too.
    await waitFor('the resubmission expired', async () => (await mongo.raw.countDocuments({ processed: true })) === 0, expiry);
    expect((await get(url, again)).body.transaction?.id).toBe(first);

    // A different external id is still a new transaction; an unknown id is still 404.
    const other = await post(url, envelope('order-78', '1.00'));
    await waitFor('the other document processed', processed(other));
    expect((await get(url, other)).body.transaction?.id).toBe(other);
    expect((await get(url, '0123456789abcdef01234567')).status).toBe(404);
  });
});

const filesOf = (db: Db) => db.collection<{ _id: ObjectId; uploadDate: Date }>('statement_files.files');
const chunksOf = (db: Db) => db.collection<{ files_id: ObjectId }>('statement_files.chunks');

/** A camt.053 file of one statement with one booked entry. */
const statementOf = (stmtId: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>${stmtId}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${stmtId}</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">250.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-28</Dt></BookgDt>
        <ValDt><Dt>2026-11-28</Dt></ValDt>
        <AcctSvcrRef>${stmtId}-0001</AcctSvcrRef>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>`;
