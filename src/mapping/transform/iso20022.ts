// One entry (Ntry) of an ISO 20022 camt.053 statement, in the JSON rendering of docs/model.md, with its
// statement's account beside it (the entry alone does not say whose account it is).
import { z } from 'zod';
import { PermanentError } from '../../domain/errors.js';
import { parseMajorAmount } from '../../domain/money.js';
import type { SourceMapper, TransactionStatus } from '../../domain/transaction.js';
import { atField, dateOnly, fromEnvelope, parsePayload, receivedMs } from './mapping.js';

const oneOrMany = <T extends z.ZodType>(schema: T) =>
  z.union([schema, z.array(schema)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.infer<T>>);
const dateChoice = z.union([z.strictObject({ Dt: z.iso.date() }), z.strictObject({ DtTm: z.iso.datetime({ offset: true, local: true }) })]);
const party = z.object({ Nm: z.string().optional(), Pty: z.object({ Nm: z.string().optional() }).optional() });

/** xs:boolean, as JSON or as the XML's text. */
const xsBoolean = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

const entry = z.object({
  NtryRef: z.string().optional(),
  Amt: z.strictObject({ Ccy: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'), value: z.string() }),
  CdtDbtInd: z.enum(['CRDT', 'DBIT']),
  RvslInd: xsBoolean.optional(),
  Sts: z.union([z.string(), z.object({ Cd: z.string() })]).transform((s) => (typeof s === 'string' ? s : s.Cd)),
  BookgDt: dateChoice.optional(),
  ValDt: dateChoice.optional(),
  AcctSvcrRef: z.string().optional(),
  BkTxCd: z.object({ Domn: z.object({ Cd: z.string(), Fmly: z.object({ Cd: z.string(), SubFmlyCd: z.string() }) }).optional() }).optional(),
  NtryDtls: oneOrMany(
    z.object({
      Btch: z.looseObject({}).optional(),
      TxDtls: oneOrMany(
        z.looseObject({
          Refs: z.object({ EndToEndId: z.string().optional() }).optional(),
          RltdPties: z.object({ Dbtr: party.optional(), Cdtr: party.optional() }).optional(),
          RmtInf: z.object({ Ustrd: oneOrMany(z.string()).optional() }).optional(),
        }),
      ).optional(),
    }),
  ).optional(),
  AddtlNtryInf: z.string().optional(),
});

const account = z.object({
  Id: z.union([
    z.strictObject({ IBAN: z.string().regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/, 'must be an IBAN') }),
    z.strictObject({ Othr: z.object({ Id: z.string().min(1) }) }),
  ]),
  Ccy: z.string().optional(),
});

/** Where an entry stood in the statement it was uploaded in (POST /api/v1/statements). */
const statementPlace = z.strictObject({
  id: z.string().min(1),
  index: z.number().int().nonnegative(),
  /** 1 for the first entry of the statement with this AcctSvcrRef, 2 for the next one that repeats it, … */
  refOccurrence: z.number().int().positive(),
});

const camtPayload = z.strictObject({ Acct: account, Ntry: entry, statement: statementPlace.optional() });

/** An entry's stage: PDNG/FUTR < BOOK < BOOK reversed; a revision never moves an entry back. */
const stageOf = (code: string, reversal: boolean) => (code !== 'BOOK' ? 0n : reversal ? 2n : 1n);

/**
 * The entry's provider object: the account and AcctSvcrRef (PDNG and BOOK of one entry share it), a repeat of
 * the reference within one statement kept apart; else its place in an uploaded statement; else none.
 */
function providerRefOf(accountRef: string, ref: string | undefined, statement: z.infer<typeof statementPlace> | undefined) {
  if (ref) return `${accountRef}:${ref}${statement && statement.refOccurrence > 1 ? `#${statement.refOccurrence}` : ''}`;
  return statement ? `${accountRef}:statement:${statement.id}:${statement.index}` : null;
}

const when = (choice: z.infer<typeof dateChoice>) =>
  'Dt' in choice ? dateOnly(choice.Dt) : new Date(/[Z+-]\d\d:?\d\d$|Z$/.test(choice.DtTm) ? choice.DtTm : `${choice.DtTm}Z`);
const nameOf = (p: z.infer<typeof party> | undefined) => (p?.Nm ?? p?.Pty?.Nm)?.trim() || null;

/**
 * The rendering: element names as in the XML, attributes such as Ccy as fields, an element's text as `value`,
 * repeated elements as arrays (a single one may come bare). An entry taken from an uploaded statement also
 * carries `statement` (its id and place in it), which keys entries without AcctSvcrRef.
 */
export const mapIso20022: SourceMapper = (raw) => {
  const { Acct, Ntry, statement } = parsePayload(camtPayload, raw.payload);
  const statusByCode: Record<string, TransactionStatus> = { BOOK: 'posted', PDNG: 'pending', FUTR: 'pending' };
  const code = Ntry.Sts;
  if (!statusByCode[code])
    throw new PermanentError('invalid_payload', `payload.Ntry.Sts: "${code}" entries are not transactions (expected BOOK, PDNG or FUTR)`);
  const status: TransactionStatus = Ntry.RvslInd && code === 'BOOK' ? 'reversed' : statusByCode[code]!;
  const amount = atField(['Ntry', 'Amt', 'value'], () => parseMajorAmount(Ntry.Amt.value, Ntry.Amt.Ccy));
  if (amount < 0n)
    throw new PermanentError('invalid_payload', 'payload.Ntry.Amt.value: must not be negative; CdtDbtInd carries the direction');
  const credit = Ntry.CdtDbtInd === 'CRDT';
  const details = Ntry.NtryDtls?.flatMap((d) => d.TxDtls ?? []) ?? [];
  // A batched entry (several details) has no single counterparty or end-to-end reference.
  const first = details.length === 1 ? details[0] : undefined;
  // The other side: who paid us on a credit, whom we paid on a debit.
  const counterparty = nameOf(credit ? first?.RltdPties?.Dbtr : first?.RltdPties?.Cdtr);
  const remittance = details
    .flatMap((d) => d.RmtInf?.Ustrd ?? [])
    .join(' ')
    .trim();
  const bookedAt = code === 'BOOK' && Ntry.BookgDt ? when(Ntry.BookgDt) : null;
  const occurred = Ntry.BookgDt ?? Ntry.ValDt;
  if (!occurred) throw new PermanentError('invalid_payload', 'payload.Ntry: one of BookgDt or ValDt is required');
  const domain = Ntry.BkTxCd?.Domn;
  const accountRef = 'IBAN' in Acct.Id ? Acct.Id.IBAN : Acct.Id.Othr.Id;
  const providerRef = providerRefOf(accountRef, Ntry.AcctSvcrRef, statement);
  const batch = Ntry.NtryDtls?.find((d) => d.Btch)?.Btch ?? null;
  return {
    ...fromEnvelope(raw),
    externalId: raw.externalId ?? Ntry.AcctSvcrRef ?? Ntry.NtryRef ?? null,
    providerRef,
    revisionKey: providerRef ? [stageOf(code, Ntry.RvslInd ?? false), receivedMs(raw)] : null,
    accountRef,
    counterparty: counterparty ? { name: counterparty, merchantCategoryCode: null } : null,
    direction: credit ? 'credit' : 'debit',
    amountMinor: amount,
    currency: Ntry.Amt.Ccy,
    status,
    description: (remittance || Ntry.AddtlNtryInf || null)?.slice(0, 1_000) ?? null,
    category: domain ? `${domain.Cd}/${domain.Fmly.Cd}/${domain.Fmly.SubFmlyCd}` : null,
    occurredAt: when(occurred),
    bookedAt,
    metadata: {
      entryRef: Ntry.NtryRef ?? null,
      accountServicerRef: Ntry.AcctSvcrRef ?? null,
      endToEndId: first?.Refs?.EndToEndId ?? null,
      valueDate: Ntry.ValDt ? when(Ntry.ValDt).toISOString() : null,
      reversal: Ntry.RvslInd ?? false,
      ...(statement ? { statementId: statement.id, statementIndex: statement.index } : {}),
      // A batched entry is one row: what the bank says of the batch and of each transaction in it.
      ...(batch ? { batch } : {}),
      ...(details.length > 1 || batch ? { transactionDetails: details } : {}),
    },
  };
};
