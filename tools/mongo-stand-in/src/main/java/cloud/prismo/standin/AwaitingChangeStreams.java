package cloud.prismo.standin;

import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.oplog.OplogCursor;

import java.util.List;
import java.util.function.Supplier;

/**
 * Change-stream getMores that wait for the next event, as mongod's awaitData cursors do. Upstream answers
 * an empty batch at once, so a driver reading a quiet change stream sends getMores back to back, each
 * scanning the oplog: a busy loop that burns a core in the server and one in the client and hides the
 * product's real costs. A getMore with nothing to return waits up to its maxTimeMS (else 1 s) for the
 * next oplog write. The wait holds the connection's event loop; the launcher gives the server enough
 * loops that connections do not share one. Used by both backends (in memory and H2).
 */
final class AwaitingChangeStreams {
    /** The longest a change-stream getMore waits for an event when it does not say (mongod: 1 s). */
    private static final long DEFAULT_AWAIT_MS = 1_000L;

    /** Bumped (and waiters woken) on every oplog write. */
    private final Object signal = new Object();
    private long version;

    /** The oplog as the backend keeps it, telling waiting getMores about every write. */
    Oplog signalling(Oplog oplog) {
        return new Oplog() {
            @Override
            public void handleInsert(String namespace, List<Document> documents) {
                oplog.handleInsert(namespace, documents);
                written();
            }

            @Override
            public void handleUpdate(String namespace, Document selector, Document query, List<Object> modifiedIds) {
                oplog.handleUpdate(namespace, selector, query, modifiedIds);
                written();
            }

            @Override
            public void handleDelete(String namespace, Document query, List<Object> deletedIds) {
                oplog.handleDelete(namespace, query, deletedIds);
                written();
            }

            @Override
            public void handleDropCollection(String namespace) {
                oplog.handleDropCollection(namespace);
                written();
            }

            @Override
            public Cursor createCursor(Document changeStreamDocument, String namespace, Aggregation aggregation) {
                return oplog.createCursor(changeStreamDocument, namespace, aggregation);
            }
        };
    }

    /** Runs the getMore; on a change stream with nothing new, again after each oplog write until the deadline. */
    Document getMore(CursorRegistry cursors, String command, Document query, Supplier<Document> getMore) {
        long cursorId = ((Number) query.get(command)).longValue();
        Cursor cursor = cursors.getCursor(cursorId);
        boolean changeStream = cursor instanceof OplogCursor || cursor instanceof IndexedOplog.ChangeStreamCursor;
        long seen;
        synchronized (signal) {
            seen = version;
        }
        Document response = getMore.get();
        if (!changeStream || !isEmptyBatch(response)) return response;
        long awaitMs = query.get("maxTimeMS") instanceof Number max && max.longValue() > 0 ? max.longValue() : DEFAULT_AWAIT_MS;
        long deadline = System.nanoTime() + awaitMs * 1_000_000L;
        while (true) {
            synchronized (signal) {
                long left;
                while (version == seen && (left = (deadline - System.nanoTime()) / 1_000_000L) > 0) {
                    try {
                        signal.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return response;
                    }
                }
                if (version == seen) return response;
                seen = version;
            }
            // Something was written: another collection's write gives this stream nothing, so wait on.
            response = getMore.get();
            if (!isEmptyBatch(response) || System.nanoTime() >= deadline) return response;
        }
    }

    /** Wakes the getMores waiting for a write. */
    void written() {
        synchronized (signal) {
            version++;
            signal.notifyAll();
        }
    }

    private static boolean isEmptyBatch(Document response) {
        return response.get("cursor") instanceof Document cursor && cursor.get("nextBatch") instanceof List<?> batch && batch.isEmpty();
    }
}
