// The longest text the camt.053 schemas (camt.053.001.02 to .13) allow in each element, so a file is refused
// where it first says more than a bank could: nothing longer is parsed on, stored or copied into entries.

/**
 * The floor for every text and attribute value, known element or not: the longest text type camt.053 uses
 * (Max2048Text, e.g. RmtLctnDtls/ElctrncAdr).
 */
export const MAX_XML_TEXT = 2048;

/** Schema limits by `Parent/Name` (looked up first) or by `Name` alone. */
const LIMITS = new Map<string, number>([
  // CashAccount's name is Max70Text; every other Nm (a party's, an agent's) is Max140Text.
  ['Acct/Nm', 70],
  ['DbtrAcct/Nm', 70],
  ['CdtrAcct/Nm', 70],
  ['UltmtDbtrAcct/Nm', 70],
  ['UltmtCdtrAcct/Nm', 70],
  ['Nm', 140],
  ['Ustrd', 140],
  ['IBAN', 34],
  ['Othr/Id', 35],
  ['Stmt/Id', 35],
  ['BICFI', 11],
  ['BIC', 11],
  ['AnyBIC', 11],
  ['Ccy', 3],
  ['Cd', 35],
  ['Issr', 35],
  ['Ref', 35],
  ['Nb', 35],
  ['MsgId', 35],
  ['NtryRef', 35],
  ['AcctSvcrRef', 35],
  ['PmtInfId', 35],
  ['InstrId', 35],
  ['EndToEndId', 35],
  ['TxId', 35],
  ['MndtId', 35],
  ['ChqNb', 35],
  ['ClrSysRef', 35],
  ['AcctOwnrTxId', 35],
  ['AcctSvcrTxId', 35],
  ['MktInfrstrctrTxId', 35],
  ['PrcgId', 35],
  ['ElctrncSeqNb', 18],
  ['LglSeqNb', 18],
  ['AdrLine', 70],
  ['StrtNm', 70],
  ['Dept', 70],
  ['SubDept', 70],
  ['BldgNb', 16],
  ['PstCd', 16],
  ['TwnNm', 35],
  ['CtrySubDvsn', 35],
  ['Ctry', 2],
  ['AddtlInf', 500],
  ['AddtlNtryInf', 500],
  ['AddtlTxInf', 500],
  ['AddtlStmtInf', 500],
]);

/** The schema's limit for an element's text, by its parent's and its own local name. */
export function textLimitOf(parent: string | undefined, name: string): number {
  return (parent !== undefined ? LIMITS.get(`${parent}/${name}`) : undefined) ?? LIMITS.get(name) ?? MAX_XML_TEXT;
}
