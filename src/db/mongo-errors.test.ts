import { BSON, MongoError, MongoInvalidArgumentError, MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isDocumentTooLarge, isPermanent, isTransient } from '../domain/errors.js';
import { classifyChangeStreamError, classifyMongoError, isDuplicateKey, RefusedWrite } from './mongo-errors.js';

describe('classifyMongoError', () => {
  it('retries what stands between us and a verdict, and fails what the server refused', () => {
    const server = (fields: Record<string, unknown>) => new MongoServerError({ message: 'x', ...fields });
    expect(isTransient(classifyMongoError(new MongoNetworkError('connection reset')))).toBe(true);
    expect(isTransient(classifyMongoError(new MongoServerSelectionError('no server', {} as never)))).toBe(true);
    expect(isTransient(classifyMongoError(new MongoError('connection pool was cleared'))), 'a driver-side error').toBe(true);
    expect(isTransient(classifyMongoError(server({ code: 10107 })))).toBe(true);
    expect(isTransient(classifyMongoError(server({}))), 'a server error without a code').toBe(true);
    expect(isPermanent(classifyMongoError(server({ code: 11000 })))).toBe(true);
    expect(isPermanent(classifyMongoError(server({ code: 121 })))).toBe(true);
    // A socket error the driver lets through unwrapped (seen when a proxy ends the connection mid-write).
    const epipe = Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' });
    expect(isTransient(classifyMongoError(epipe))).toBe(true);
    expect(isTransient(classifyMongoError(new TypeError('a bug')))).toBe(false);
    // An insertMany cut mid-write: the bulk write error carries the socket's code, not a server's.
    expect(isTransient(classifyMongoError(server({ code: 'EPIPE' }))), 'a bulk write cut by the network').toBe(true);
  });

  it('classifies one document refused within a bulk write as insertOne would have been', () => {
    const refused = (code: number) => new RefusedWrite({ index: 0, code, errmsg: 'refused' });
    expect(isDuplicateKey(refused(11000))).toBe(true);
    expect(isDuplicateKey(refused(121))).toBe(false);
    expect(isPermanent(classifyMongoError(refused(11000)))).toBe(true);
    expect(isPermanent(classifyMongoError(refused(121))), 'document failed validation').toBe(true);
    expect(isTransient(classifyMongoError(refused(91))), 'shutdown in progress').toBe(true);
  });

  it("takes a document too large to store for the sender's error, never for one a retry can outlive", () => {
    // What mongodb 7's insertMany throws before sending a document over the server's maxBsonObjectSize.
    const driver = new MongoInvalidArgumentError('Document is larger than the maximum size 16777216');
    for (const error of [
      driver,
      new MongoInvalidArgumentError('Client bulk write operation ops of length 17000000 exceeds the max bson object size of 16777216'),
      new MongoServerError({
        message: 'BSONObj size: 17000000 (0x1036640) is invalid. Size must be between 0 and 16793600(16MB)',
        code: 10334,
      }),
      new MongoServerError({ message: 'Resulting document after update is larger than 16777216', code: 17419 }),
      new RefusedWrite({ index: 3, code: 10334, errmsg: 'object to insert too large' }),
    ]) {
      const classified = classifyMongoError(error);
      expect(isTransient(classified), error.message).toBe(false);
      expect(isPermanent(classified), error.message).toBe(true);
      expect(isDocumentTooLarge(classified), error.message).toBe(true);
      expect(classified.cause).toBe(error);
    }
    expect(classifyMongoError(driver).message).toMatch(/larger than the maximum size 16777216/);
    // Over 17 MiB the driver's measuring serialization overflows bson's buffer first: a RangeError, made here by bson itself.
    const overflow = (() => {
      try {
        // The review's entry: 500-character CJK texts, 21 MiB of them (the first text past the buffer's end throws).
        BSON.serialize({ texts: Array.from({ length: 15_000 }, () => '中'.repeat(500)) });
      } catch (error) {
        return error;
      }
      throw new Error('bson serialized 21 MiB into its 17 MiB buffer');
    })();
    expect(overflow).toBeInstanceOf(RangeError);
    expect(isDocumentTooLarge(classifyMongoError(overflow))).toBe(true);
    // Another RangeError is a bug, as before.
    const bug = new RangeError('Invalid array length');
    expect(classifyMongoError(bug)).toBe(bug);
    // Other arguments the driver refuses are not about size: still its own trouble, as before.
    expect(isDocumentTooLarge(classifyMongoError(new MongoInvalidArgumentError('Invalid projection')))).toBe(false);
  });

  it('tells a change stream whose token is unusable from one the server cannot offer, and from the network', () => {
    const server = (fields: Record<string, unknown>) => new MongoServerError({ message: 'x', ...fields });
    for (const code of [286, 260, 280]) expect(classifyChangeStreamError(server({ code }))).toBe('token-unusable');
    expect(classifyChangeStreamError(server({ code: 40573 }))).toBe('unsupported');
    expect(classifyChangeStreamError(new Error("Unrecognized pipeline stage name: '$changeStream'"))).toBe('unsupported');
    expect(classifyChangeStreamError(new MongoNetworkError('connection reset'))).toBe('network');
    expect(classifyChangeStreamError(server({ code: 10107 }))).toBe('other');
  });
});
