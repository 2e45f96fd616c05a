// Reads a camt.053 statement file as banks deliver it into the JSON rendering the iso20022 mapper reads
// (docs/model.md): one entry per Ntry, with its statement's account beside it.
import { SaxesParser } from 'saxes';

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
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = 'CamtXmlError';
  }
}

interface Open {
  name: string;
  attributes: Record<string, string>;
  children: Array<[string, XmlValue]>;
  text: string;
}

/** The element's rendering: children by name (repeated names as arrays), else text with its attributes. */
function render(element: Open): XmlValue {
  if (element.children.length === 0) {
    const text = element.text.trim();
    return Object.keys(element.attributes).length === 0 ? text : { ...element.attributes, value: text };
  }
  const out: Record<string, XmlValue | XmlValue[]> = { ...element.attributes };
  for (const [name, value] of element.children) {
    const kept = out[name];
    out[name] = kept === undefined ? value : Array.isArray(kept) ? [...kept, value] : [kept, value];
  }
  return out;
}

/** Parses the whole file into its element tree's rendering, refusing DTDs and excessive depth. */
function parseTree(xml: string): { root: string; namespace: string; value: XmlValue; at: { line: number; column: number } } {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const fail = (reason: string): never => {
    throw new CamtXmlError(reason, parser.line, parser.column + 1);
  };
  const stack: Open[] = [];
  let result: { root: string; namespace: string; value: XmlValue; at: { line: number; column: number } } | undefined;
  let rootNamespace = '';
  let rootAt = { line: 1, column: 1 };
  parser.on('doctype', () => fail('a DTD (<!DOCTYPE …>) is not accepted in a camt.053 file'));
  parser.on('opentag', (tag) => {
    if (stack.length >= MAX_XML_DEPTH) fail(`elements nest deeper than ${MAX_XML_DEPTH} levels`);
    if (stack.length === 0) {
      rootNamespace = tag.uri;
      rootAt = { line: parser.line, column: parser.column + 1 };
    }
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) {
      // Namespace declarations and xsi:schemaLocation say how the file is written, not what it says.
      if (attribute.prefix === 'xmlns' || attribute.name === 'xmlns' || attribute.uri === 'http://www.w3.org/2001/XMLSchema-instance')
        continue;
      attributes[attribute.local] = attribute.value;
    }
    stack.push({ name: tag.local, attributes, children: [], text: '' });
  });
  parser.on('text', (text) => {
    const top = stack.at(-1);
    if (top) top.text += text;
  });
  parser.on('cdata', (text) => {
    const top = stack.at(-1);
    if (top) top.text += text;
  });
  parser.on('closetag', () => {
    const element = stack.pop()!;
    const value = render(element);
    const parent = stack.at(-1);
    if (parent) parent.children.push([element.name, value]);
    else result = { root: element.name, namespace: rootNamespace, value, at: rootAt };
  });
  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof CamtXmlError) throw error;
    // saxes says "line:column: reason"; its column counts from 1 already.
    const message = error instanceof Error ? error.message : String(error);
    const at = /^(?:[^:]*:)?(\d+):(\d+): (.*)$/s.exec(message);
    throw at ? new CamtXmlError(at[3]!, Number(at[1]), Number(at[2])) : new CamtXmlError(message, parser.line, parser.column + 1);
  }
  if (!result) throw new CamtXmlError('no root element', parser.line, parser.column + 1);
  return result;
}

const many = (value: XmlValue | XmlValue[] | undefined): XmlValue[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const child = (value: XmlValue | XmlValue[] | undefined, name: string) =>
  value !== undefined && !Array.isArray(value) && typeof value === 'object' ? value[name] : undefined;
const text = (value: XmlValue | XmlValue[] | undefined) => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Parses a camt.053 file; throws CamtXmlError for malformed XML or a document that is not camt.053.
 *
 * Hardened: no DTD is accepted (so no entity expansion or external entity), depth is bounded, and every
 * refusal names the line and column where the parser stood.
 */
export function parseCamt053(xml: string): CamtDocument {
  const tree = parseTree(xml);
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
