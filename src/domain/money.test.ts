import currencyCodes from 'currency-codes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currencyExponent, formatMinor, MAX_AMOUNT_DIGITS, parseMajorAmount, parseMinorAmount } from './money.js';

// Every ISO 4217 code but the two that name no money (tested below).
const moneyCodes = currencyCodes.codes().filter((code) => code !== 'XXX' && code !== 'XTS');

describe('money', () => {
  it('parses major amounts by each currency exponent', () => {
    expect(parseMajorAmount('12.34', 'USD')).toBe(1234n);
    expect(parseMajorAmount('1500', 'JPY')).toBe(1500n);
    expect(parseMajorAmount('1.234', 'BHD')).toBe(1234n);
    expect(parseMajorAmount('-0.5', 'EUR')).toBe(-50n);
    expect(parseMajorAmount(19.99, 'USD')).toBe(1999n);
    expect(parseMajorAmount('10.500', 'USD')).toBe(1050n);
  });

  it('keeps amounts beyond 2^53 minor units exact when sent as strings', () => {
    expect(parseMajorAmount('123456789012345678901.23', 'USD')).toBe(12345678901234567890123n);
    expect(parseMinorAmount('9007199254740993')).toBe(9007199254740993n);
  });

  it('takes amounts of up to 40 digits, a sign and a point aside, and refuses longer ones', () => {
    const forty = '9'.repeat(MAX_AMOUNT_DIGITS);
    expect(parseMinorAmount(`-${forty}`)).toBe(-BigInt(forty));
    expect(parseMajorAmount(`-${forty.slice(2)}.99`, 'USD')).toBe(-BigInt(forty));
    expect(() => parseMinorAmount(`${forty}9`)).toThrow(/at most 40 digits/);
    expect(() => parseMajorAmount(`${forty.slice(1)}.99`, 'USD')).toThrow(/at most 40 digits/);
    expect(() => parseMajorAmount(`1.${'0'.repeat(40)}`, 'USD')).toThrow(/at most 40 digits/);
  });

  it('refuses a million-digit amount by its length, in microseconds, never reaching BigInt', () => {
    const million = '7'.repeat(1_000_000);
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      expect(() => parseMajorAmount(million, 'EUR')).toThrow(/at most 40 digits/);
      expect(() => parseMinorAmount(`-${million}`)).toThrow(/at most 40 digits/);
    }
    // BigInt of one such string alone takes tens of milliseconds; 200 refusals take well under one.
    expect((performance.now() - started) / 200).toBeLessThan(0.5);
  });

  it('rejects what cannot be represented exactly instead of rounding', () => {
    expect(() => parseMajorAmount('10.005', 'USD')).toThrow(/more than 2 decimal places/);
    expect(() => parseMajorAmount('1.5', 'JPY')).toThrow(/more than 0 decimal places/);
    expect(() => parseMajorAmount(1e-7, 'USD')).toThrow(/exactly/);
    expect(() => parseMajorAmount(2 ** 60, 'USD')).toThrow(/beyond 2\^53 .* send the amount as a string/);
    // The rounded value JSON.parse produced is never quoted back as if it were the client's.
    expect(() => parseMajorAmount(2 ** 60, 'USD')).not.toThrow(String(2 ** 60));
    expect(() => parseMinorAmount(2 ** 60)).toThrow(/beyond 2\^53/);
    expect(() => parseMajorAmount('1,00', 'USD')).toThrow(/not a decimal amount/);
    expect(() => parseMinorAmount(10.5)).toThrow(/whole number/);
    // One strict grammar: no surrounding spaces, no plus sign, digits on both sides of the point.
    for (const text of ['  12.30 ', '+5', '12.', '.5', '1e3', '0x10', '１２']) {
      expect(() => parseMajorAmount(text, 'USD'), text).toThrow(/not a decimal amount/);
    }
    for (const text of [' 5', '+5', '5 ']) expect(() => parseMinorAmount(text), text).toThrow(/not an integer amount/);
    expect(parseMajorAmount('-12.30', 'USD')).toBe(-1230n);
    expect(() => parseMajorAmount('1', 'ZZZ')).toThrow(/not an ISO 4217/);
    expect(() => parseMajorAmount('1', 'XXX')).toThrow('"XXX" is ISO 4217\'s "no currency" code');
    expect(() => parseMajorAmount('1', 'XTS')).toThrow('"XTS" is ISO 4217\'s "testing" code');
  });

  it('format then parse round-trips for every ISO 4217 currency (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...moneyCodes), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), (code, minor) => {
        expect(parseMajorAmount(formatMinor(minor, code), code)).toBe(minor);
      }),
      { numRuns: 5_000 },
    );
  });

  it('rejects every amount with a significant digit beyond the currency exponent (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...moneyCodes),
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 9 }),
        (code, whole, extra, lastDigit) => {
          const exponent = currencyExponent(code);
          const fraction = '0'.repeat(exponent + extra - 1) + String(lastDigit);
          expect(() => parseMajorAmount(`${whole}.${fraction}`, code)).toThrow(/cannot be represented exactly/);
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
