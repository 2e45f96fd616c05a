// The camt.053 statements ISO 20022, PostFinance and the Finnish banks' federation published
// (copied from shared/vendor-samples/camt053 into ./vendor/camt053, with SOURCES.md), read and mapped as an upload is: every row stated here was
// read off the XML by hand, and each file's opening balance plus its entries must give its closing balance.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entryPayloads, parseCamt053 } from '../../domain/camt053-xml.js';
import { parseMajorAmount } from '../../domain/money.js';
import type { Transaction } from '../../domain/transaction.js';
import { transformRaw } from './index.js';

const SAMPLES = fileURLToPath(new URL('./vendor/camt053/', import.meta.url));

/** Each entry of the file as the processor maps it. */
function mapFile(name: string) {
  const file = parseCamt053(readFileSync(`${SAMPLES}${name}`, 'utf8'));
  const statement = file.statements[0]!;
  const rows = entryPayloads(statement).map(
    (payload, i) =>
      transformRaw({
        rawId: `raw-${i}`,
        tenantId: 'acme',
        source: 'iso20022',
        externalId: null,
        payload,
        receivedAt: new Date('2026-11-29T12:00:00Z'),
      }) as Transaction,
  );
  return { file, statement, rows };
}

type Expected = [amount: string, direction: 'credit' | 'debit', status: string, booked: string, value: string, ref: string];

function expectRows(rows: Transaction[], account: string, currency: string, expected: Expected[]) {
  expect(rows).toHaveLength(expected.length);
  rows.forEach((row, i) => {
    const [amount, direction, status, booked, value, ref] = expected[i]!;
    expect(
      {
        amountMinor: row.amountMinor,
        currency: row.currency,
        direction: row.direction,
        status: row.status,
        bookedAt: row.bookedAt?.toISOString(),
        valueDate: row.metadata.valueDate,
        providerRef: row.providerRef,
        accountRef: row.accountRef,
      },
      `entry ${i}`,
    ).toEqual({
      amountMinor: parseMajorAmount(amount, currency),
      currency,
      direction,
      status,
      bookedAt: new Date(booked).toISOString(),
      valueDate: new Date(`${value}T00:00:00Z`).toISOString(),
      providerRef: `${account}:${ref}`,
      accountRef: account,
    });
  });
}

/** The file's balance of this type (OPBD, CLBD), signed, in minor units. */
function balance(statement: ReturnType<typeof mapFile>['statement'], code: string): bigint {
  const bal = statement.balances.find((b) => JSON.stringify(b).includes(`"Cd":"${code}"`)) as {
    Amt: { Ccy: string; value: string };
    CdtDbtInd: string;
  };
  const amount = parseMajorAmount(bal.Amt.value, bal.Amt.Ccy);
  return bal.CdtDbtInd === 'DBIT' ? -amount : amount;
}
const net = (rows: Transaction[]) => rows.reduce((sum, r) => sum + (r.direction === 'credit' ? r.amountMinor : -r.amountMinor), 0n);

describe('ISO 20022 business example (camt.053.001.04, SEK)', () => {
  const { file, statement, rows } = mapFile('iso20022-business-sample.camt.053.001.04.xml');

  it('maps its three entries exactly', () => {
    expect(file.version).toBe('camt.053.001.04');
    expect(statement.id).toBe('AAAASESS-FP-STAT001');
    expectRows(rows, '50000000054910000003', 'SEK', [
      ['105678.50', 'credit', 'posted', '2010-10-18T13:15:00+01:00', '2010-10-18', 'AAAASESS-FP-CN_98765/01'],
      ['200000', 'debit', 'posted', '2010-10-18T10:15:00+01:00', '2010-10-18', 'AAAASESS-FP-ACCR-01'],
      ['30000', 'credit', 'posted', '2010-10-18T15:15:00+01:00', '2010-10-18', 'AAAASESS-FP-CONF-FX'],
    ]);
    expect(rows[0]!.counterparty?.name).toBe('MUELLER');
  });

  it('the batch without details is one row with its batch; the FX entry keeps its own SEK amount, not the EUR detail', () => {
    expect(rows[1]!.metadata).toMatchObject({
      batch: { MsgId: 'FINP-0055', PmtInfId: 'FINP-0055/001', NbOfTxs: '20' },
      transactionDetails: [],
    });
    expect(rows[2]).toMatchObject({ currency: 'SEK', amountMinor: 3_000_000n, metadata: { endToEndId: 'AAAASS1085FINPSS' } });
  });

  it('opening balance plus entries is the closing balance', () => {
    expect(balance(statement, 'OPBD') + net(rows)).toBe(balance(statement, 'CLBD'));
    expect(balance(statement, 'CLBD')).toBe(43_567_850n);
  });
});

describe('PostFinance 2016 (camt.053.001.04, CHF)', () => {
  const { statement, rows } = mapFile('postfinance-2016.camt.053.001.04.xml');
  const ACCOUNT = 'CH0309000000250090342';

  it('maps its 13 entries exactly, the two reversals reversed', () => {
    expect(statement.id).toBe('20160430375204000008574');
    expectRows(rows, ACCOUNT, 'CHF', [
      ['24.00', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160401001027080060699001000107'],
      ['328.75', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160430001001080060699000901107'],
      ['200.80', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160430001001080060699015801107'],
      ['638.15', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160430001025080060699000000012'],
      ['24.00', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160430001025080060699000000031'],
      ['35.72', 'debit', 'posted', '2016-04-30', '2016-04-30', '20160430001025080060699000010012'],
      ['1000.00', 'credit', 'posted', '2016-05-27', '2016-05-30', '20160530007602769939022000000012'],
      ['620.00', 'credit', 'posted', '2016-05-27', '2016-05-27', '20160527007602769947016000000012'],
      ['110.00', 'credit', 'posted', '2016-04-06', '2016-03-23', '20160323007602726186629000000012'],
      ['24.00', 'credit', 'posted', '2016-04-10', '2016-04-10', '20160410375244000000000000000081'],
      ['56.56', 'credit', 'posted', '2016-04-10', '2016-04-10', '20160410375244000000000000000071'],
      ['6.00', 'debit', 'reversed', '2016-04-10', '2016-04-10', '20160410375244000000000000000082'],
      ['15.53', 'debit', 'reversed', '2016-04-10', '2016-04-10', '20160410375244000000000000000072'],
    ]);
    expect(rows.filter((r) => r.metadata.reversal === true).map((r) => r.amountMinor)).toEqual([600n, 1553n]);
  });

  it('batches of 10, 8 and 3 are one row each with their details; charges not included stay out of the amount', () => {
    expect(rows.slice(6, 9).map((r) => (r.metadata.transactionDetails as unknown[]).length)).toEqual([10, 8, 3]);
    expect(rows.slice(6, 9).map((r) => r.counterparty)).toEqual([null, null, null]);
    // The 1000.00 entry's charges (5.60, ChrgInclInd false) are billed apart: the entry is still 1000.00.
    expect(rows[6]!.amountMinor).toBe(100_000n);
  });

  it('opening balance plus entries is the closing balance', () => {
    expect(balance(statement, 'OPBD')).toBe(32_215_216n);
    expect(balance(statement, 'OPBD') + net(rows)).toBe(balance(statement, 'CLBD'));
  });
});

describe('Federation of Finnish Financial Services 2009 (camt.053.001.02, EUR)', () => {
  const { file, statement, rows } = mapFile('fffs-finland-2009.camt.053.001.02.xml');
  const ACCOUNT = 'FI7433010001222090';

  it('maps its 10 entries exactly, whatever the comments in between', () => {
    expect(file.version).toBe('camt.053.001.02');
    expect(statement.id).toBe('BANKSTMTID0972009');
    expectRows(rows, ACCOUNT, 'EUR', [
      ['1000.12', 'debit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH01'],
      ['4000.00', 'debit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH02'],
      ['4230.05', 'debit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH03'],
      ['2000.00', 'credit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH04'],
      ['500.00', 'credit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH21'],
      ['3000.00', 'credit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH05'],
      ['2120.00', 'credit', 'posted', '2009-10-29', '2009-10-30', '091029ACCTSTMTARCH06'],
      ['5455.00', 'credit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH07'],
      ['10000.00', 'credit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH08'],
      ['200.00', 'debit', 'posted', '2009-10-29', '2009-10-29', '091029ACCTSTMTARCH09'],
    ]);
  });

  it('the USD-instructed entry books its EUR amount; its one detail names the payer', () => {
    expect(rows[6]).toMatchObject({ currency: 'EUR', amountMinor: 212_000n, counterparty: { name: 'DEBTOR NAME' } });
  });

  it('opening balance plus entries is the closing balance; the summary counts agree', () => {
    expect(balance(statement, 'OPBD')).toBe(1_000_000n);
    expect(balance(statement, 'OPBD') + net(rows)).toBe(balance(statement, 'CLBD'));
    expect(rows.filter((r) => r.direction === 'credit').reduce((s, r) => s + r.amountMinor, 0n)).toBe(2_307_500n);
    expect(rows.filter((r) => r.direction === 'debit').reduce((s, r) => s + r.amountMinor, 0n)).toBe(943_017n);
  });
});
