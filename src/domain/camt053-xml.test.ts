import { describe, expect, it } from 'vitest';
import {
  CamtLimitError,
  CamtTooManyEntriesError,
  CamtXmlError,
  MAX_ENTRY_BYTES,
  MAX_SHARED_BYTES,
  parseCamt053,
  parseCamt053InSlices,
} from './camt053-xml.js';

const NS = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.04';

/** A camt.053 file with one statement: `account` inside <Acct>, `inside` after it in <Stmt>. */
const statementFile = ({ account = '<Nm>Acme</Nm>', inside = '' } = {}) =>
  `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="${NS}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><IBAN>CH9300762011623852957</IBAN></Id>${account}</Acct>${inside}</Stmt>
</BkToCstmrStmt></Document>`;

const entry = (ref: string, extra = '') =>
  `<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><AcctSvcrRef>${ref}</AcctSvcrRef>${extra}</Ntry>`;

/** The refusal parseCamt053 throws for `xml`. */
function refusal(xml: string, options = {}): CamtXmlError {
  try {
    parseCamt053(xml, options);
  } catch (error) {
    if (error instanceof CamtXmlError) return error;
    throw error;
  }
  throw new Error('the file was accepted');
}

/** The fastest of a few runs, in ms: a shared machine's noise only ever adds time. */
function fastest(run: () => void, times = 5): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

/** How much longer a shape eight times as large takes to parse (linear: about 8, a little more with GC; quadratic: 64). */
function growth(shape: (n: number) => string, n: number): number {
  const parse = (xml: string) => () => {
    try {
      parseCamt053(xml);
    } catch (error) {
      if (!(error instanceof CamtXmlError)) throw error;
    }
  };
  const small = shape(n);
  const large = shape(8 * n);
  parse(small)(); // warm the JIT before timing
  return fastest(parse(large)) / fastest(parse(small));
}

describe('parseCamt053', () => {
  it('reads a statement, its account and entries, repeated names as lists', () => {
    const file = parseCamt053(statementFile({ inside: entry('A') + entry('B') }));
    expect(file).toMatchObject({ version: 'camt.053.001.04', messageId: 'M1' });
    const [stmt] = file.statements;
    expect(stmt).toMatchObject({ id: 'S1', accountRef: 'CH9300762011623852957' });
    expect(stmt!.entries).toEqual([
      { Amt: { Ccy: 'EUR', value: '1.00' }, CdtDbtInd: 'CRDT', AcctSvcrRef: 'A' },
      { Amt: { Ccy: 'EUR', value: '1.00' }, CdtDbtInd: 'CRDT', AcctSvcrRef: 'B' },
    ]);
  });

  it.each([
    ['40,000 empty siblings', (n: number) => statementFile({ inside: '<Ustrd/>'.repeat(n) })],
    ['siblings with text', (n: number) => statementFile({ inside: '<Ustrd>x</Ustrd>'.repeat(n) })],
    ['many entries', (n: number) => statementFile({ inside: entry('R').repeat(n / 4) })],
    ['deep and wide trees', (n: number) => statementFile({ inside: `${'<A>'.repeat(50)}${'<B>y</B>'.repeat(n)}${'</A>'.repeat(50)}` })],
    [
      'one element with many attributes',
      (n: number) => statementFile({ inside: `<Ext ${Array.from({ length: n }, (_, i) => `a${i}="x"`).join(' ')}/>` }),
    ],
    ['long texts', (n: number) => statementFile({ inside: `<AddtlStmtInf>${'z'.repeat(400)}</AddtlStmtInf>`.repeat(n / 8) })],
  ])('parses %s in time linear in the file', (_shape, shape) => {
    // A renderer that copies each child list again per child takes 64x the time for 8x the siblings (18 s at
    // 40,000); linear is 8x. The bound sits between them, with room for a loaded machine's noise.
    expect(growth(shape, 5_000)).toBeLessThan(24);
  });

  it('parses 40,000 sibling elements in well under a second', () => {
    const xml = statementFile({ inside: '<Ustrd/>'.repeat(40_000) });
    expect(fastest(() => parseCamt053(xml), 1)).toBeLessThan(1_000);
  });

  it('keeps element and attribute names such as __proto__, constructor and toString as plain keys', () => {
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    const inside = names.map((name) => `<${name}>${name}-text</${name}>`).join('');
    const file = parseCamt053(statementFile({ inside: entry('P', `<Ext>${inside}</Ext><Tag __proto__="a" toString="b">c</Tag>`) }));
    const { Ext: ext, Tag: tag } = file.statements[0]!.entries[0] as Record<string, Record<string, unknown>>;
    for (const name of names) {
      expect(Object.hasOwn(ext!, name)).toBe(true);
      expect(ext![name]).toBe(`${name}-text`);
    }
    expect(Object.entries(tag!)).toEqual([
      ['__proto__', 'a'],
      ['toString', 'b'],
      ['value', 'c'],
    ]);
    // Repeated, they become a list like any other name; nothing reached any prototype.
    const twice = parseCamt053(statementFile({ inside: entry('Q', '<__proto__>1</__proto__><__proto__>2</__proto__>') }));
    expect(Object.getOwnPropertyDescriptor(twice.statements[0]!.entries[0], '__proto__')?.value).toEqual(['1', '2']);
    expect(Object.getPrototypeOf(ext)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.toString.call({})).toBe('[object Object]');
  });

  it('does not take an element named constructor or toString for one the statement lacks', () => {
    const file = statementFile().replace('<Id>S1</Id>', '<constructor>S1</constructor>');
    expect(refusal(file).reason).toMatch(/lacks its <Id>/);
  });

  it.each([
    ['Acct/Nm', 'Max70Text', 70, (text: string) => statementFile({ account: `<Nm>${text}</Nm>` }), '/Document/BkToCstmrStmt/Stmt/Acct/Nm'],
    [
      'Ustrd',
      'Max140Text',
      140,
      (text: string) => statementFile({ inside: `<Ustrd>${text}</Ustrd>` }),
      '/Document/BkToCstmrStmt/Stmt/Ustrd',
    ],
    [
      'AcctSvcrRef',
      'Max35Text',
      35,
      (text: string) => statementFile({ inside: entry(text) }),
      '/Document/BkToCstmrStmt/Stmt/Ntry/AcctSvcrRef',
    ],
    [
      'any other element',
      'the floor',
      2048,
      (text: string) => statementFile({ inside: `<Xyz>${text}</Xyz>` }),
      '/Document/BkToCstmrStmt/Stmt/Xyz',
    ],
  ])('takes %s at its schema limit (%s) and refuses one character more, naming the path', (_name, _type, max, file, path) => {
    expect(() => parseCamt053(file(`  ${'é'.repeat(max)}\n  `))).not.toThrow();
    const refused = refusal(file('é'.repeat(max + 1)));
    expect(refused.path).toBe(path);
    expect(refused.reason).toMatch(new RegExp(`holds ${max + 1} characters; camt.053 allows at most ${max}`));
  });

  it('counts characters as the schema does: 70 characters outside the BMP fit a Max70Text', () => {
    expect(() => parseCamt053(statementFile({ account: `<Nm>${'😀'.repeat(70)}</Nm>` }))).not.toThrow();
    expect(refusal(statementFile({ account: `<Nm>${'😀'.repeat(71)}</Nm>` })).path).toBe('/Document/BkToCstmrStmt/Stmt/Acct/Nm');
  });

  it('refuses an account name of 300,000 characters promptly, at the element where it starts', () => {
    const xml = statementFile({ account: `<Nm>${'N'.repeat(300_000)}</Nm>` });
    const started = performance.now();
    const refused = refusal(xml);
    expect(performance.now() - started).toBeLessThan(500);
    expect(refused).toMatchObject({ path: '/Document/BkToCstmrStmt/Stmt/Acct/Nm', line: 3 });
    expect(refused.reason).toMatch(/<Nm> holds 300000 characters; camt.053 allows at most 70/);
  });

  it('refuses an attribute value longer than any camt.053 text', () => {
    const refused = refusal(statementFile({ inside: `<Amt Ccy="${'E'.repeat(2049)}">1</Amt>` }));
    expect(refused.reason).toMatch(/attribute Ccy holds 2049 characters/);
    expect(refused.path).toBe('/Document/BkToCstmrStmt/Stmt/Amt');
  });

  it('refuses the entry past maxEntries as it opens, saying the maximum', () => {
    const xml = statementFile({ inside: entry('A') + entry('B') + entry('C') });
    expect(parseCamt053(xml, { maxEntries: 3 }).statements[0]!.entries).toHaveLength(3);
    const refused = refusal(xml, { maxEntries: 2 });
    expect(refused).toBeInstanceOf(CamtTooManyEntriesError);
    expect(refused).toMatchObject({ maxEntries: 2 });
    expect(refused.reason).toMatch(/more than 2 entries/);
  });

  it('still refuses DTDs and excessive depth', () => {
    expect(refusal(`<!DOCTYPE x [<!ENTITY a "b">]>${statementFile()}`).reason).toMatch(/DTD/);
    expect(refusal(statementFile({ inside: '<A>'.repeat(70) + '</A>'.repeat(70) })).reason).toMatch(/deeper than 64/);
  });
});

describe('parseCamt053InSlices', () => {
  it('gives what parseCamt053 gives, letting the event loop run while it parses', async () => {
    const xml = statementFile({ inside: `${entry('A', '<Ustrd>ö</Ustrd>').repeat(4_000)}${'<Ustrd/>'.repeat(200_000)}` });
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    const sliced = await parseCamt053InSlices(xml);
    clearInterval(counting);
    expect(sliced).toEqual(parseCamt053(xml));
    expect(turns).toBeGreaterThan(0);
  });

  it('refuses as parseCamt053 does', async () => {
    const xml = statementFile({ account: `<Nm>${'N'.repeat(300_000)}</Nm>` });
    await expect(parseCamt053InSlices(xml)).rejects.toMatchObject({ path: '/Document/BkToCstmrStmt/Stmt/Acct/Nm' });
    await expect(parseCamt053InSlices(statementFile({ inside: entry('A').repeat(3) }), { maxEntries: 2 })).rejects.toBeInstanceOf(
      CamtTooManyEntriesError,
    );
  });
});

describe('what one entry and the parts outside the entries may span, in UTF-8 bytes', () => {
  const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

  it('refuses an entry spanning more than MAX_ENTRY_BYTES of the file, as it reads', () => {
    const details = '<TxDtls><AddtlTxInf>x</AddtlTxInf></TxDtls>';
    const fits = entry('BIG', details.repeat(Math.floor((MAX_ENTRY_BYTES - 200) / details.length)));
    expect(parseCamt053(statementFile({ inside: fits + entry('NEXT') })).statements[0]!.entries).toHaveLength(2);
    const refused = refusal(statementFile({ inside: entry('BIG', details.repeat(Math.ceil(MAX_ENTRY_BYTES / details.length) + 10)) }));
    expect(refused).toBeInstanceOf(CamtLimitError);
    expect(refused.reason).toMatch(/entry 1 \(<Ntry>\) spans more than 8388608 bytes of the file \(UTF-8\)/);
  });

  it('counts a CJK character as the three bytes it takes, not as one UTF-16 unit: an entry of 2.9 M characters and 8 MiB is refused', () => {
    // The review's file: legal texts (AddtlNtryInf holds 500 characters), an entry far under 8 M characters.
    const info = `<AddtlNtryInf>${'中'.repeat(500)}</AddtlNtryInf>`;
    const big = entry('CJK', info.repeat(Math.ceil(MAX_ENTRY_BYTES / utf8(info)) + 10));
    expect(big.length).toBeLessThan(MAX_ENTRY_BYTES / 2);
    const refused = refusal(statementFile({ inside: big + entry('NEXT') }));
    expect(refused).toBeInstanceOf(CamtLimitError);
    expect(refused.reason).toMatch(/entry 1 \(<Ntry>\) spans more than 8388608 bytes/);
    expect(refused.path).toMatch(/^\/Document\/BkToCstmrStmt\/Stmt\/Ntry/);
  });

  it('counts bytes exactly, surrogate pairs included: an entry of emoji just under the limit passes, sliced or whole', async () => {
    // 😀 is two UTF-16 units and four bytes: a bound of three bytes a unit would refuse this entry at 2/3 of it.
    const info = `<AddtlNtryInf>${'😀'.repeat(500)}</AddtlNtryInf>`;
    const fits = entry('EMOJI', info.repeat(Math.floor((MAX_ENTRY_BYTES - 200) / utf8(info))));
    expect(utf8(fits)).toBeGreaterThan(MAX_ENTRY_BYTES - utf8(info) - 200);
    const xml = statementFile({ inside: fits + entry('NEXT') });
    expect(parseCamt053(xml).statements[0]!.entries).toHaveLength(2);
    // Its slices (16 Ki units) cut surrogate pairs in two: the count holds across them.
    expect((await parseCamt053InSlices(xml)).statements[0]!.entries).toHaveLength(2);
    const over = statementFile({ inside: entry('EMOJI', info.repeat(Math.ceil(MAX_ENTRY_BYTES / utf8(info)) + 1)) });
    await expect(parseCamt053InSlices(over)).rejects.toBeInstanceOf(CamtLimitError);
  });

  it('refuses parts outside the entries spanning more than MAX_SHARED_BYTES, however many entries there are', () => {
    const balance = '<Bal><Amt Ccy="EUR">1.00</Amt></Bal>';
    const many = (n: number) => `${entry('A')}${balance.repeat(n)}${entry('B')}`;
    expect(() => parseCamt053(statementFile({ inside: many(Math.floor((MAX_SHARED_BYTES - 1000) / balance.length)) }))).not.toThrow();
    const refused = refusal(statementFile({ inside: many(Math.ceil(MAX_SHARED_BYTES / balance.length)) }));
    expect(refused).toBeInstanceOf(CamtLimitError);
    expect(refused.reason).toMatch(/outside its entries .* spans more than 4194304 bytes \(UTF-8\)/);
  });

  it('counts the shared parts in bytes too: CJK statements of 1.5 M characters and 4 MiB are refused, with entries between them', async () => {
    const stmt = (i: number) =>
      `<Stmt><Id>${'账'.repeat(30)}${i}</Id><Acct><Id><Othr><Id>${'户'.repeat(30)}${i}</Id></Othr></Id><Nm>${'名'.repeat(70)}</Nm></Acct>${
        i % 100 === 0 ? entry(`E${i}`) : ''
      }</Stmt>`;
    const file = (n: number) =>
      `<Document xmlns="${NS}"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>${Array.from({ length: n }, (_, i) => stmt(i)).join('')}</BkToCstmrStmt></Document>`;
    const per = utf8(stmt(1));
    const fits = file(Math.floor((MAX_SHARED_BYTES - 100_000) / per));
    expect(parseCamt053(fits).statements.length).toBeGreaterThan(1000);
    const over = file(Math.ceil(MAX_SHARED_BYTES / per) + 10);
    expect(over.length).toBeLessThan(MAX_SHARED_BYTES / 2);
    const refused = refusal(over);
    expect(refused).toBeInstanceOf(CamtLimitError);
    expect(refused.reason).toMatch(/outside its entries .* spans more than 4194304 bytes/);
    await expect(parseCamt053InSlices(over)).rejects.toBeInstanceOf(CamtLimitError);
  });
});
