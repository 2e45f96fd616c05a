import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError, UnavailableError } from '../domain/errors.js';
import { classifyPgError } from './postgres-errors.js';

const withCode = (code: string, message = `failed with ${code}`) => Object.assign(new Error(message), { code });

describe('classifyPgError', () => {
  it('a row refused (22, 23, 08P01) is permanent: the batch is split to find it', () => {
    for (const code of ['22P05', '23505', '08P01']) expect(classifyPgError(withCode(code))).toBeInstanceOf(PermanentError);
  });

  it('PostgreSQL away or too slow is unavailable: retried, charged to no document', () => {
    for (const code of ['08006', '57P01', '57P03', '57014', '53300', '58030', '25006', '55P03', 'ECONNREFUSED', 'ECONNRESET'])
      expect(classifyPgError(withCode(code)), code).toBeInstanceOf(UnavailableError);
    for (const message of ['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'Query read timeout'])
      expect(classifyPgError(new Error(message)), message).toBeInstanceOf(UnavailableError);
  });

  it('anything else is transient but not unavailable: a read answers 503, a write charges the document it concerns', () => {
    for (const error of [withCode('P0001', 'raised by a trigger'), withCode('40001'), withCode('42P01'), new TypeError('a bug of ours')]) {
      const classified = classifyPgError(error);
      expect(classified).toBeInstanceOf(TransientError);
      expect(classified).not.toBeInstanceOf(UnavailableError);
    }
    expect(classifyPgError(new Error('plain')).message).toBe('PostgreSQL: plain');
  });

  it('an error already classified is kept as it is', () => {
    const permanent = new PermanentError('x', 'y');
    expect(classifyPgError(permanent)).toBe(permanent);
  });
});
