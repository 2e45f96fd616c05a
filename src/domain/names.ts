// Counterparty names as the ledger compares them, whatever the source wrote.

/** "ACME, Inc." and " acme inc " are one counterparty: NFKC, lower case, letters and digits, single spaces. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}
