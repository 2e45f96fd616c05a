package cloud.prismo.standin;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.oplog.OplogCursor;

import java.time.Instant;

import java.util.List;

/**
 * mongo-java-server's memory backend, made not to hide the product's queries behind full scans.
 * Upstream uses an index only when a query consists of exactly the index's keys, so a claim
 * ({@code _id: {$in}} plus status conditions) scans every document, and secondary indexes are not
 * implemented at all. Here a query holding an {@code _id} equality or {@code $in} is narrowed through
 * the {@code _id} index before the rest of the filter is matched, and non-unique indexes are real
 * ({@link FirstKeyIndex}). Results are unchanged: narrowing only ever selects a superset of the matches,
 * and the whole query is matched against it. TTL indexes expire documents, as on a real server. Test and
 * development tooling only.
 */
public final class IndexedMemoryBackend extends MemoryBackend {
    /**
     * How long oplog entries are kept. Upstream keeps every entry forever and scans the whole oplog on each
     * change-stream getMore, so a long drain slows quadratically and the heap fills; a real oplog is capped
     * too. A resume token older than the window is unusable, as on a real server whose oplog rolled over.
     */
    private static final long OPLOG_WINDOW_MS = Long.getLong("standin.oplogWindowSeconds", 30L) * 1000L;

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new IndexedDatabase(databaseName, getCursorRegistry());
    }

    /** Bumped (and waiters woken) on every oplog write, so an awaiting change-stream getMore answers at once. */
    private final Object oplogSignal = new Object();
    private long oplogVersion;

    /** The longest a change-stream getMore waits for an event when it does not say (mongod: 1 s). */
    private static final long DEFAULT_AWAIT_MS = 1_000L;

    /**
     * A change-stream getMore with nothing to return waits (up to its maxTimeMS, or 1 s) for the next oplog
     * write, as mongod's awaitData cursors do. Upstream answers an empty batch at once, so a driver reading a
     * quiet change stream sends getMores back to back, each scanning the oplog: a busy loop that burns a core
     * in the server and one in the client and hides the product's real costs. The wait blocks this
     * connection's event loop; the launcher gives the server enough loops that connections do not share one.
     */
    @Override
    protected Document handleGetMore(String databaseName, String command, Document query) {
        long cursorId = ((Number) query.get(command)).longValue();
        boolean changeStream = getCursorRegistry().getCursor(cursorId) instanceof OplogCursor;
        long seen;
        synchronized (oplogSignal) {
            seen = oplogVersion;
        }
        Document response = super.handleGetMore(databaseName, command, query);
        if (!changeStream || !isEmptyBatch(response)) return response;
        long awaitMs = query.get("maxTimeMS") instanceof Number max && max.longValue() > 0 ? max.longValue() : DEFAULT_AWAIT_MS;
        long deadline = System.nanoTime() + awaitMs * 1_000_000L;
        while (true) {
            synchronized (oplogSignal) {
                long left;
                while (oplogVersion == seen && (left = (deadline - System.nanoTime()) / 1_000_000L) > 0) {
                    try {
                        oplogSignal.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return response;
                    }
                }
                if (oplogVersion == seen) return response;
                seen = oplogVersion;
            }
            // Something was written: another collection's write gives this stream nothing, so wait on.
            response = super.handleGetMore(databaseName, command, query);
            if (!isEmptyBatch(response) || System.nanoTime() >= deadline) return response;
        }
    }

    private static boolean isEmptyBatch(Document response) {
        return response.get("cursor") instanceof Document cursor && cursor.get("nextBatch") instanceof List<?> batch && batch.isEmpty();
    }

    private void oplogWritten() {
        synchronized (oplogSignal) {
            oplogVersion++;
            oplogSignal.notifyAll();
        }
    }

    @Override
    protected Oplog createOplog() {
        Oplog oplog = signalling(super.createOplog());
        @SuppressWarnings("unchecked")
        MongoCollection<Object> entries = (MongoCollection<Object>) resolveDatabase("local").resolveCollection("oplog.rs", false);
        Thread trimmer = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(5_000);
                    Instant cutoff = Instant.now().minusMillis(OPLOG_WINDOW_MS);
                    List<Document> expired = entries.queryAllAsStream()
                        .filter(entry -> entry.get("wall") instanceof Instant wall && wall.isBefore(cutoff))
                        .toList();
                    expired.forEach(entries::removeDocument);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // a concurrent change to the oplog: the next round trims what this one could not
                }
            }
        }, "oplog-trimmer");
        trimmer.setDaemon(true);
        trimmer.start();
        return oplog;
    }

    /** The oplog as upstream keeps it, telling waiting getMores about every write. */
    private Oplog signalling(Oplog oplog) {
        return new Oplog() {
            @Override
            public void handleInsert(String namespace, List<Document> documents) {
                oplog.handleInsert(namespace, documents);
                oplogWritten();
            }

            @Override
            public void handleUpdate(String namespace, Document selector, Document query, List<Object> modifiedIds) {
                oplog.handleUpdate(namespace, selector, query, modifiedIds);
                oplogWritten();
            }

            @Override
            public void handleDelete(String namespace, Document query, List<Object> deletedIds) {
                oplog.handleDelete(namespace, query, deletedIds);
                oplogWritten();
            }

            @Override
            public void handleDropCollection(String namespace) {
                oplog.handleDropCollection(namespace);
                oplogWritten();
            }

            @Override
            public Cursor createCursor(Document changeStreamDocument, String namespace, Aggregation aggregation) {
                return oplog.createCursor(changeStreamDocument, namespace, aggregation);
            }
        };
    }

    /**
     * How often expired documents are removed through TTL indexes; mongod's default (its ttlMonitorSleepSecs
     * parameter) is 60 s. Upstream accepts TTL indexes and never expires anything, which hides retention.
     */
    private static final long TTL_MONITOR_MS = Long.getLong("standin.ttlMonitorSeconds", 60L) * 1000L;

    static final class IndexedDatabase extends MemoryDatabase {
        IndexedDatabase(String databaseName, CursorRegistry cursorRegistry) {
            super(databaseName, cursorRegistry);
            Thread monitor = new Thread(() -> {
                while (true) {
                    try {
                        Thread.sleep(TTL_MONITOR_MS);
                        expireDocuments();
                    } catch (InterruptedException e) {
                        return;
                    } catch (RuntimeException e) {
                        // a concurrent change (a dropped collection or database): the next round expires what this one could not
                    }
                }
            }, "ttl-monitor-" + databaseName);
            monitor.setDaemon(true);
            monitor.start();
        }

        /**
         * What mongod's TTL monitor does: for each index with expireAfterSeconds on one field, removes the
         * documents whose date there is older than that, among those matching its partialFilterExpression.
         * Documents whose field is missing or not a date are kept, as on a real server.
         */
        private void expireDocuments() {
            MongoCollection<Integer> specs = indexes.get();
            if (specs == null) return;
            for (Document spec : specs.queryAllAsStream().toList()) {
                if (!(spec.get("expireAfterSeconds") instanceof Number seconds)) continue;
                if (!(spec.get("key") instanceof Document key) || key.size() != 1) continue;
                if (!(spec.get("ns") instanceof String ns) || !ns.startsWith(getDatabaseName() + ".")) continue;
                MongoCollection<Integer> collection = resolveCollection(ns.substring(getDatabaseName().length() + 1), false);
                if (collection == null) continue;
                Instant cutoff = Instant.now().minusMillis((long) (seconds.doubleValue() * 1000));
                Document selector = new Document(key.keySet().iterator().next(), new Document("$lt", cutoff));
                if (spec.get("partialFilterExpression") instanceof Document partial) {
                    selector = new Document("$and", List.of(partial, selector));
                }
                collection.deleteDocuments(selector, 0);
            }
        }

        @Override
        protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
            return new NarrowingCollection(this, collectionName, options, cursorRegistry);
        }

        @Override
        protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
            return new FirstKeyIndex(indexName, keys, sparse);
        }
    }

    static final class NarrowingCollection extends MemoryCollection {
        NarrowingCollection(MongoDatabase database, String collectionName, CollectionOptions options, CursorRegistry cursorRegistry) {
            super(database, collectionName, options, cursorRegistry);
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize, Document fieldSelector) {
            if (query.size() > 1 && query.containsKey("_id")) {
                Document byId = new Document("_id", query.get("_id"));
                for (Index<Integer> index : getIndexes()) {
                    if (index.canHandle(byId)) {
                        return matchDocuments(query, index.getPositions(byId), orderBy, numberToSkip, limit, batchSize, fieldSelector);
                    }
                }
            }
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }
    }
}
