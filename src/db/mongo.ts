// The MongoDB client every service connects with: one place for its options.
import { MongoClient } from 'mongodb';

export async function connectMongoClient(uri: string): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, appName: 'prismo' });
  await client.connect();
  return client;
}
