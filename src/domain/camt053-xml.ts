// Reads a camt.053 statement file as banks deliver it into the JSON rendering the iso20022 mapper reads
// (docs/model.md): one entry per Ntry, with its statement's account beside it.
import { setImmediate } from 'node:timers/promises';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { MAX_XML_TEXT, textLimitOf } from './camt053-text-limits.js';

/** camt.053.001.02 up to the newest published; the version is the namespace's last part. */
const NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})$/;
export const MAX_XML_DEPTH = 64;

/** A JSON rendering of an element: text, `{ attribute…, value }`, or its children by local name. */
export type XmlValue = string | { [name: string]: XmlValue | XmlValue[] };

export interface CamtStatement {
  /** Stmt/Id: the bank's identification of the statement. */
  id: string;
  /** The account's identification as the mapper keys it: the IBAN, else Othr/Id. */
  accountRef: string;
  /** Stmt/Acct as rendered. */
  account: XmlValue;
  balances: XmlValue[];
  entries: XmlValue[];
}

export interface CamtDocument {
  /** e.g. 'camt.053.001.04'. */
  version: string;
  messageId: string | null;
  statements: CamtStatement[];
}

/** A file that is not well-formed XML, or not a camt.053 statement: the reason and where. */
export class CamtXmlError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    /** The element the reason is about, e.g. `/Document/BkToCstmrStmt/Stmt/Acct/Nm`, when there is one. */
    readonly path?: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'CamtXmlError';
  }
}

/** A file larger in some part than the design can store: refused (413) as soon as the part passes its limit. */
export class CamtLimitError extends CamtXmlError {
  constructor(reason: string, line: number, column: number, path?: string) {
    super(reason, line, column, path);
    this.name = 'CamtLimitError';
  }
}

/** A file holding more entries than one statement upload may: refused as soon as the entry past the limit opens. */
export class CamtTooManyEntriesError extends CamtLimitError {
  constructor(
    readonly maxEntries: number,
    line: number,
    column: number,
  ) {
    super(`the file holds more than ${maxEntries} entries (<Ntry>), the most one upload may hold`, line, column);
    this.name = 'CamtTooManyEntriesError';
  }
}

export interface CamtParseOptions {
  /** Entries (<Ntry>, over all the file's statements) past which the file is refused; unbounded when absent. */
  maxEntries?: number;
}

/**
 * Bytes of the file (UTF-8, as sent) one entry (<Ntry>) may span: its raw document must stay under MongoDB's
 * 16 MiB. Counted in bytes, not characters: a CJK character is one UTF-16 unit but three bytes, in the file
 * and in BSON alike. Most renderings take less room than their XML (which writes every name twice where BSON
 * writes it once); one of many tiny repeated elements takes more (BSON names each array item), so the stored
 * size is checked again before anything is stored (raw-store/insert-statement.ts).
 */
export const MAX_ENTRY_BYTES = 8 * 1024 * 1024;
/** Bytes of the file outside its entries (header, accounts, balances): the statements document holds them. */
export const MAX_SHARED_BYTES = 4 * 1024 * 1024;

/** Whitespace a leaf may carry after its text before the text counts as too long even untrimmed. */
const TRAILING_SLACK = 1024;

/** An element being read. Its rendering is built as it goes, so each child is added once (linear in the file). */
interface Open {
  name: string;
  line: number;
  column: number;
  /** Attributes by local name, in an object without a prototype (no name can reach Object.prototype). */
  attributes: Record<string, string> | undefined;
  /** Children by local name (repeated names as arrays), once the first child closed; no prototype either. */
  children: Record<string, XmlValue | XmlValue[]> | undefined;
  /** Text so far, leading whitespace dropped; discarded once a child opens (mixed content is not camt). */
  text: string;
  hasChild: boolean;
}

type Tree = { root: string; namespace: string; value: XmlValue; at: { line: number; column: number } };

/** An object whose keys are only what is put in it: `__proto__`, `constructor` and `toString` are plain keys. */
const bare = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

function addChild(parent: Open, name: string, value: XmlValue): void {
  if (!parent.children) parent.children = (parent.attributes as Record<string, XmlValue | XmlValue[]> | undefined) ?? bare();
  const kept = parent.children[name];
  if (kept === undefined) parent.children[name] = value;
  // Only repetition makes an array, so an array here is this name's list: pushed, never copied.
  else if (Array.isArray(kept)) kept.push(value);
  else parent.children[name] = [kept, value];
}

/** Characters as the schema counts them (code points), for a string already known to be short. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * UTF-8 byte offsets of positions in a file read in chunks (saxes counts positions in UTF-16 units). Each
 * part of the file is counted once, as the parser moves forward, so the cost stays linear in the file.
 */
class Utf8Offsets {
  private chunk = '';
  /** Where the chunk starts in the file, in UTF-16 units. */
  private chunkStart = 0;
  /** How far the file is counted (UTF-16 units), and its bytes up to there. */
  private counted = 0;
  private countedBytes = 0;

  /** The parser moves on to `chunk`: what is left of the one before is counted first. */
  next(chunk: string): void {
    this.at(this.chunkStart + this.chunk.length);
    this.chunkStart += this.chunk.length;
    this.chunk = chunk;
  }

  /** The UTF-8 bytes of the file before `position` (a UTF-16 index); positions only move forward. */
  at(position: number): number {
    const from = this.counted - this.chunkStart;
    const to = Math.min(position - this.chunkStart, this.chunk.length);
    if (to > from) {
      // A surrogate pair cut by a chunk's end counts 3 + 3 rather than 4: a bound, never an undercount.
      this.countedBytes += Buffer.byteLength(this.chunk.slice(from, to), 'utf8');
      this.counted = this.chunkStart + to;
    }
    return this.countedBytes;
  }
}

/**
 * Reads a camt.053 file written to it in one piece or in chunks into its element tree's rendering, refusing
 * DTDs, excessive depth, texts longer than the schema allows and more entries than allowed as it reads.
 */
class CamtReader {
  private readonly parser = new SaxesParser({ xmlns: true, position: true });
  private readonly stack: Open[] = [];
  private entries = 0;
  private readonly bytes = new Utf8Offsets();
  /** Where the entry being read began in the file, and how much of the file the entries read so far span (UTF-8 bytes). */
  private entryStart: number | undefined;
  private entriesSpan = 0;
  private result: Tree | undefined;
  private rootNamespace = '';

  constructor(private readonly options: CamtParseOptions) {
    this.parser.on('doctype', () => this.fail('a DTD (<!DOCTYPE …>) is not accepted in a camt.053 file'));
    this.parser.on('opentag', (tag) => this.open(tag));
    this.parser.on('text', (text) => this.addText(text));
    this.parser.on('cdata', (text) => this.addText(text));
    this.parser.on('closetag', () => this.close());
  }

  write(chunk: string): void {
    this.bytes.next(chunk);
    this.guard(() => this.parser.write(chunk));
  }

  /** Where the parser stands in the file, in UTF-8 bytes. */
  private byteOffset(): number {
    return this.bytes.at(this.parser.position);
  }

  finish(): Tree {
    this.guard(() => this.parser.close());
    if (!this.result) throw new CamtXmlError('no root element', this.parser.line, this.parser.column + 1);
    return this.result;
  }

  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      if (error instanceof CamtXmlError) throw error;
      // saxes says "line:column: reason"; its column counts from 1 already.
      const message = error instanceof Error ? error.message : String(error);
      const at = /^(?:[^:]*:)?(\d+):(\d+): (.*)$/s.exec(message);
      throw at ? new CamtXmlError(at[3]!, Number(at[1]), Number(at[2])) : this.error(message);
    }
  }

  private error(reason: string, path?: string): CamtXmlError {
    return new CamtXmlError(reason, this.parser.line, this.parser.column + 1, path);
  }

  private fail(reason: string, path?: string): never {
    throw this.error(reason, path);
  }

  private pathTo(name?: string): string {
    const names = this.stack.map((open) => open.name);
    return `/${(name === undefined ? names : [...names, name]).join('/')}`;
  }

  private open(tag: SaxesTagNS): void {
    const { stack, parser } = this;
    if (stack.length >= MAX_XML_DEPTH) this.fail(`elements nest deeper than ${MAX_XML_DEPTH} levels`, this.pathTo(tag.local));
    if (stack.length === 0) this.rootNamespace = tag.uri;
    if (tag.local === 'Ntry' && stack.length === 3 && stack[2]!.name === 'Stmt') this.countEntry();
    this.checkSpans();
    const parent = stack.at(-1);
    if (parent) {
      parent.hasChild = true;
      parent.text = '';
    }
    stack.push({
      name: tag.local,
      line: parser.line,
      column: parser.column + 1,
      attributes: this.attributesOf(tag),
      children: undefined,
      text: '',
      hasChild: false,
    });
  }

  private countEntry(): void {
    const max = this.options.maxEntries;
    this.entries++;
    if (max !== undefined && this.entries > max) throw new CamtTooManyEntriesError(max, this.parser.line, this.parser.column + 1);
    this.entryStart = this.byteOffset();
  }

  /** Refuses an entry, or the parts outside the entries, once they span more of the file than can be stored. */
  private checkSpans(): void {
    const at = this.byteOffset();
    const { line, column } = this.parser;
    if (this.entryStart !== undefined && at - this.entryStart > MAX_ENTRY_BYTES) {
      throw new CamtLimitError(
        `entry ${this.entries} (<Ntry>) spans more than ${MAX_ENTRY_BYTES} bytes of the file (UTF-8), the most one entry can hold`,
        line,
        column + 1,
        this.pathTo(),
      );
    }
    if (this.entryStart === undefined && at - this.entriesSpan > MAX_SHARED_BYTES) {
      throw new CamtLimitError(
        `the file outside its entries (header, accounts, balances, …) spans more than ${MAX_SHARED_BYTES} bytes (UTF-8), the most a statement can hold`,
        line,
        column + 1,
        this.pathTo(),
      );
    }
  }

  private attributesOf(tag: SaxesTagNS): Record<string, string> | undefined {
    let attributes: Record<string, string> | undefined;
    for (const attribute of Object.values(tag.attributes)) {
      // Namespace declarations and xsi:schemaLocation say how the file is written, not what it says.
      if (attribute.prefix === 'xmlns' || attribute.name === 'xmlns' || attribute.uri === 'http://www.w3.org/2001/XMLSchema-instance')
        continue;
      if (attribute.value.length > MAX_XML_TEXT) {
        this.fail(
          `attribute ${attribute.local} holds ${attribute.value.length} characters; camt.053 allows at most ${MAX_XML_TEXT}`,
          this.pathTo(tag.local),
        );
      }
      attributes ??= bare();
      attributes[attribute.local] = attribute.value;
    }
    return attributes;
  }

  private addText(text: string): void {
    const top = this.stack.at(-1);
    this.checkSpans();
    if (!top || top.hasChild) return;
    top.text += top.text === '' ? text.trimStart() : text;
    // Refused while reading: a text far past its limit is never held whole beside the file.
    if (top.text.length > this.limitOfTop() + TRAILING_SLACK) this.refuseLong(top, top.text.trim());
  }

  private limitOfTop(): number {
    return textLimitOf(this.stack.at(-2)?.name, this.stack.at(-1)!.name);
  }

  private refuseLong(element: Open, text: string): never {
    const max = this.limitOfTop();
    throw new CamtXmlError(
      `<${element.name}> holds ${codePoints(text)} characters; camt.053 allows at most ${max} there`,
      element.line,
      element.column,
      this.pathTo(),
    );
  }

  private close(): void {
    const element = this.stack.at(-1)!;
    let value: XmlValue;
    if (element.children) value = element.children;
    else {
      const text = element.text.trim();
      if (text.length > this.limitOfTop() && codePoints(text) > this.limitOfTop()) this.refuseLong(element, text);
      if (element.attributes) {
        element.attributes.value = text;
        value = element.attributes;
      } else value = text;
    }
    if (this.stack.length === 4 && element.name === 'Ntry' && this.stack[2]!.name === 'Stmt') {
      this.entriesSpan += this.byteOffset() - this.entryStart!;
      this.entryStart = undefined;
    }
    this.stack.pop();
    const parent = this.stack.at(-1);
    if (parent) addChild(parent, element.name, value);
    else this.result = { root: element.name, namespace: this.rootNamespace, value, at: { line: element.line, column: element.column } };
  }
}

const many = (value: XmlValue | XmlValue[] | undefined): XmlValue[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const child = (value: XmlValue | XmlValue[] | undefined, name: string) =>
  value !== undefined && !Array.isArray(value) && typeof value === 'object' ? value[name] : undefined;
const text = (value: XmlValue | XmlValue[] | undefined) => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Parses a camt.053 file; throws CamtXmlError for malformed XML or a document that is not camt.053.
 *
 * Hardened: no DTD is accepted (so no entity expansion or external entity), depth is bounded, texts are
 * bounded by the schema's limits, element and attribute names never reach a prototype, the work is linear in
 * the file's size, and every refusal names the line and column where the parser stood.
 */
export function parseCamt053(xml: string, options: CamtParseOptions = {}): CamtDocument {
  const reader = new CamtReader(options);
  reader.write(xml);
  return documentOf(reader.finish());
}

/** Characters given to the parser between looks at the clock. */
const CHUNK_CHARS = 16 * 1024;
/** How long one slice of parsing may hold the event loop before it lets other work run. */
const SLICE_MS = 10;

/**
 * parseCamt053 in slices of about SLICE_MS, letting the event loop run between them, so a large or
 * pathological file delays other requests by one slice at most, never by its whole parse.
 */
export async function parseCamt053InSlices(xml: string, options: CamtParseOptions = {}): Promise<CamtDocument> {
  const reader = new CamtReader(options);
  let sliceStart = performance.now();
  for (let at = 0; at < xml.length; at += CHUNK_CHARS) {
    reader.write(xml.slice(at, at + CHUNK_CHARS));
    if (performance.now() - sliceStart >= SLICE_MS) {
      await setImmediate();
      sliceStart = performance.now();
    }
  }
  return documentOf(reader.finish());
}

/** The statements of a parsed tree, or the reason it is not a camt.053 file. */
function documentOf(tree: Tree): CamtDocument {
  const notCamt = (reason: string) => new CamtXmlError(reason, tree.at.line, tree.at.column);
  const version = NAMESPACE.exec(tree.namespace);
  if (tree.root !== 'Document' || !version) {
    throw notCamt(
      `not a camt.053 statement: the root element is <${tree.root}> in namespace "${tree.namespace}" (expected <Document> in urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN)`,
    );
  }
  const message = child(tree.value, 'BkToCstmrStmt');
  if (message === undefined) throw notCamt('not a camt.053 statement: <Document> has no <BkToCstmrStmt>');
  const statements = many(child(message, 'Stmt')).map((stmt, i) => {
    const id = text(child(stmt, 'Id'));
    const account = child(stmt, 'Acct');
    const accountId = child(account, 'Id');
    const accountRef = text(child(accountId, 'IBAN')) ?? text(child(child(accountId, 'Othr'), 'Id'));
    if (!id || account === undefined || Array.isArray(account) || !accountRef) {
      throw notCamt(
        `not a camt.053 statement: statement ${i + 1} (<Stmt>) lacks its <Id> or its account's <Acct><Id> (<IBAN> or <Othr><Id>)`,
      );
    }
    return { id, accountRef, account, balances: many(child(stmt, 'Bal')), entries: many(child(stmt, 'Ntry')) };
  });
  if (statements.length === 0) throw notCamt('not a camt.053 statement: <BkToCstmrStmt> holds no <Stmt>');
  return { version: `camt.053.001.${version[1]}`, messageId: text(child(child(message, 'GrpHdr'), 'MsgId')), statements };
}

/** An entry as stored (docs/model.md): the Ntry and its place in the statement, without the statement's account. */
export type EntryPart = {
  Ntry: XmlValue;
  /** index: the entry's place; refOccurrence: the how-manieth entry of the statement with its AcctSvcrRef. */
  statement: { id: string; index: number; refOccurrence: number };
};

/**
 * Each entry of a statement as it is stored: the entry and its place (index; the how-manieth entry of the
 * statement with its AcctSvcrRef, so repeats stay apart). The account is the statement's, stored once with it.
 */
export function entryParts(stmt: CamtStatement): EntryPart[] {
  const seen = new Map<string, number>();
  return stmt.entries.map((entry, index) => {
    const ref = typeof entry === 'object' && typeof entry.AcctSvcrRef === 'string' ? entry.AcctSvcrRef : '';
    const refOccurrence = (seen.get(ref) ?? 0) + 1;
    seen.set(ref, refOccurrence);
    return { Ntry: entry, statement: { id: stmt.id, index, refOccurrence } };
  });
}

/** An entry as the iso20022 mapper takes it: its statement's account beside it (the entry alone does not say whose). */
export const withAccount = (part: EntryPart | Record<string, unknown>, account: XmlValue): Record<string, unknown> => ({
  Acct: account,
  ...part,
});

/** Each entry of a statement as the iso20022 mapper takes it (entryParts, each with the account). */
export function entryPayloads(stmt: CamtStatement): Array<Record<string, unknown>> {
  return entryParts(stmt).map((part) => withAccount(part, stmt.account));
}
