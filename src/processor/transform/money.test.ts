import currencyCodes from 'currency-codes';
import { describe, expect, it } from 'vitest';
import { currencyExponent, formatMinor, parseMajorAmount, parseMinorAmount } from './money.js';

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

  it('rejects what cannot be represented exactly instead of rounding', () => {
    expect(() => parseMajorAmount('10.005', 'USD')).toThrow(/more than 2 decimal places/);
    expect(() => parseMajorAmount('1.5', 'JPY')).toThrow(/more than 0 decimal places/);
    expect(() => parseMajorAmount(1e-7, 'USD')).toThrow(/exactly/);
    expect(() => parseMajorAmount(2 ** 60, 'USD')).toThrow(/send it as a string/);
    expect(() => parseMajorAmount('1,00', 'USD')).toThrow(/not a decimal amount/);
    expect(() => parseMinorAmount(10.5)).toThrow(/not a safe integer/);
    expect(() => parseMajorAmount('1', 'ZZZ')).toThrow(/not an ISO 4217/);
  });

  it('format then parse round-trips for every ISO 4217 currency', () => {
    const samples = [0n, 1n, 7n, 99n, 100n, 123456789n, 10n ** 25n + 3n, -42n];
    for (const code of currencyCodes.codes()) {
      for (const minor of samples) expect(parseMajorAmount(formatMinor(minor, code), code)).toBe(minor);
      const exponent = currencyExponent(code);
      expect(() => parseMajorAmount(`1.${'0'.repeat(exponent)}1`, code)).toThrow();
    }
  });
});
