// Money as integer minor units: decimal amounts are parsed digit by digit against the currency's ISO 4217
// exponent (from the maintained currency-codes list), never through floating-point arithmetic.
import currencyCodes from 'currency-codes';

export class MoneyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoneyError';
  }
}

/** ISO 4217 codes that name no money: transactions "where no currency is involved", and tests. */
const NOT_MONEY = new Map([
  ['XXX', '"no currency"'],
  ['XTS', '"testing"'],
]);

/** Digits after the decimal point for an ISO 4217 code (JPY 0, USD 2, BHD 3). */
export function currencyExponent(currency: string): number {
  if (NOT_MONEY.has(currency))
    throw new MoneyError(`"${currency}" is ISO 4217's ${NOT_MONEY.get(currency)} code, not a currency money can be held in`);
  const entry = /^[A-Z]{3}$/.test(currency) ? currencyCodes.code(currency) : undefined;
  if (!entry) throw new MoneyError(`"${currency}" is not an ISO 4217 currency code`);
  return entry.digits;
}

/** The one decimal grammar: an optional minus, digits, optionally a point and digits. No spaces, no `+`. */
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * The most digits an amount string may hold (docs/api.md, "Limits"): far past any money (PostgreSQL's bigint
 * holds 19), and checked by length before any pattern or BigInt work, so a million-digit amount costs nothing.
 */
export const MAX_AMOUNT_DIGITS = 40;

/** Refuses an amount string longer than MAX_AMOUNT_DIGITS digits (a sign and a point aside) by its length alone. */
function refuseLongAmount(text: string): void {
  if (text.length <= MAX_AMOUNT_DIGITS) return;
  // Past 40 digits plus a sign and a point, nothing need be read; just under, the few characters are counted.
  const digits = text.length > MAX_AMOUNT_DIGITS + 2 ? text.length : text.replace(/[-.]/g, '').length;
  if (digits > MAX_AMOUNT_DIGITS)
    throw new MoneyError(`an amount has at most ${MAX_AMOUNT_DIGITS} digits; this one is ${text.length} characters long`);
}

/**
 * Parses a major-unit amount ("12.34", 12.34, "-5") into signed minor units. Strings are exact up to
 * MAX_AMOUNT_DIGITS digits (longer ones are refused); a JSON number is taken by its shortest decimal rendering and must be a safe magnitude. An amount
 * with more significant decimals than the currency allows is an error, not a rounding.
 */
export function parseMajorAmount(value: string | number, currency: string): bigint {
  const exponent = currencyExponent(currency);
  const text = typeof value === 'number' ? numberToDecimal(value) : value;
  refuseLongAmount(text);
  const match = DECIMAL.exec(text);
  if (!match)
    throw new MoneyError(`${JSON.stringify(text.slice(0, 64))} is not a decimal amount (digits, an optional "-" and "." and nothing else)`);
  const [, sign, whole = '0', fraction = ''] = match;
  const significant = fraction.replace(/0+$/, '');
  if (significant.length > exponent) {
    throw new MoneyError(
      `${text} ${currency} has more than ${exponent} decimal place${exponent === 1 ? '' : 's'} and cannot be represented exactly`,
    );
  }
  const minor = BigInt(whole + significant.padEnd(exponent, '0'));
  return sign === '-' ? -minor : minor;
}

/** The largest magnitude of minor units a PostgreSQL bigint holds. */
export const MAX_MINOR = 2n ** 63n - 1n;

/**
 * Minor units PostgreSQL can store, else a MoneyError. Parsing stays exact to MAX_AMOUNT_DIGITS; mappers check this
 * where they read the field, so the error names the payload's path (mapping.ts, atField).
 */
export function storableMinor(minor: bigint): bigint {
  if (minor > MAX_MINOR || minor < -MAX_MINOR)
    throw new MoneyError(`exceeds the largest amount PostgreSQL bigint holds (${MAX_MINOR} minor units)`);
  return minor;
}

/** Parses an amount already in minor units: an integer, as a string of digits or a safe JSON integer. */
export function parseMinorAmount(value: string | number): bigint {
  if (typeof value === 'number') {
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER) throw new MoneyError(TOO_LARGE);
    if (!Number.isInteger(value)) throw new MoneyError('minor units are a whole number; send a fractional amount as "amount"');
    return BigInt(value);
  }
  refuseLongAmount(value);
  if (!/^-?\d+$/.test(value))
    throw new MoneyError(`${JSON.stringify(value.slice(0, 64))} is not an integer amount of minor units (digits and an optional "-")`);
  return BigInt(value);
}

/** Renders minor units as a major-unit decimal string: formatMinor(1234n, 'USD') === '12.34'. */
export function formatMinor(minor: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const digits = (minor < 0n ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${minor < 0n ? '-' : ''}${whole}${fraction}`;
}

/** Said without quoting the number: what JSON.parse made of it is already rounded. */
const TOO_LARGE = 'a JSON number beyond 2^53 cannot be read exactly (it arrives rounded); send the amount as a string';

function numberToDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new MoneyError(`${value} is not an amount`);
  if (Math.abs(value) > Number.MAX_SAFE_INTEGER) throw new MoneyError(TOO_LARGE);
  const text = String(value);
  // Tiny magnitudes render in exponent form (1e-7); none is a valid amount in any currency.
  if (/e/i.test(text)) throw new MoneyError(`${text} cannot be represented exactly in minor units`);
  return text;
}
