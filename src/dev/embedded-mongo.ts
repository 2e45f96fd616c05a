// A real single-node MongoDB replica set through mongodb-memory-server, when a mongod binary can be had
// (downloaded, cached, or MONGOMS_SYSTEM_BINARY). Change streams need a replica set, hence not a standalone.
import { MongoMemoryReplSet } from 'mongodb-memory-server-core';

export interface EmbeddedMongoHandle {
  uri: string;
  stop(): Promise<void>;
}

/** Starts the replica set or throws with the reason (typically: no binary and no network to fetch one). */
export async function startEmbeddedMongo(options: { dbPath?: string } = {}): Promise<EmbeddedMongoHandle> {
  // On failure the library prints the whole error with console.warn before rethrowing it; the caller
  // reports the rethrown error in one line, so the duplicate (a long stack trace) is held back.
  const warn = console.warn;
  console.warn = () => undefined;
  let replSet: MongoMemoryReplSet;
  try {
    replSet = await MongoMemoryReplSet.create({
      replSet: { count: 1, name: 'rs0', storageEngine: 'wiredTiger' },
      instanceOpts: options.dbPath ? [{ dbPath: options.dbPath }] : undefined,
    });
  } finally {
    console.warn = warn;
  }
  await replSet.waitUntilRunning();
  return {
    uri: replSet.getUri(),
    stop: async () => {
      await replSet.stop({ doCleanup: !options.dbPath, force: false });
    },
  };
}
