// Stripe's own unit rules (https://docs.stripe.com/currencies): a Stripe integer amount is not always ISO 4217
// minor units, so it is read in Stripe's exponent and re-scaled to ISO's, exactly or not at all.
import { currencyExponent, MoneyError } from '../../domain/money.js';

/** docs.stripe.com/currencies#zero-decimal: the amount is in whole units ("to charge ¥500, provide 500"). */
export const STRIPE_ZERO_DECIMAL = [
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
] as const;

/** docs.stripe.com/currencies#three-decimal: thousandths, the last digit 0 for charges (5.124 KWD → 5120). */
export const STRIPE_THREE_DECIMAL = ['BHD', 'JOD', 'KWD', 'OMR', 'TND'] as const;

/**
 * docs.stripe.com/currencies#special-cases, and Stripe's notice "Deprecation of fractional ISK charges and
 * refunds" (2023): "ISK will remain a two-decimal currency in the Stripe API, and an ISK amount of 100 will
 * continue to represent 1 króna". HUF and TWD: charges and balance transactions are two-decimal, only
 * payouts must be whole units (divisible by 100) — the same exponent as ISO, listed so the rule is explicit.
 */
export const STRIPE_TWO_DECIMAL_SPECIAL_CASES = ['ISK', 'HUF', 'TWD'] as const;

/** Digits after the decimal point in Stripe's API amounts: "unless otherwise specified, two-decimal". */
export function stripeExponent(currency: string): number {
  if ((STRIPE_ZERO_DECIMAL as readonly string[]).includes(currency)) return 0;
  if ((STRIPE_THREE_DECIMAL as readonly string[]).includes(currency)) return 3;
  return 2;
}

/**
 * Converts a Stripe integer amount in `currency` (upper case) to ISO 4217 minor units. Scaling up is exact;
 * scaling down (ISK: Stripe 2, ISO 0) refuses an amount that is not a whole number of ISO units rather
 * than rounding it (fractional króna from before 2023 cannot be stored at ISO exponent 0).
 *
 * Stripe keeps ISK two-decimal in its API (100 = 1 krona) where ISO gives it exponent 0, and lists MGA as
 * zero-decimal where ISO gives it exponent 2 ("Minor units in API amounts", "Zero-decimal", "Three-decimal"
 * and "Special cases").
 */
export function stripeToIsoMinor(amount: bigint, currency: string): bigint {
  const iso = currencyExponent(currency);
  const stripe = stripeExponent(currency);
  if (iso >= stripe) return amount * 10n ** BigInt(iso - stripe);
  const divisor = 10n ** BigInt(stripe - iso);
  if (amount % divisor !== 0n) {
    throw new MoneyError(
      `${amount} is ${currency} in Stripe's ${stripe}-decimal units, which is not a whole number of ISO 4217 units ` +
        `(exponent ${iso}); it cannot be stored exactly`,
    );
  }
  return amount / divisor;
}
