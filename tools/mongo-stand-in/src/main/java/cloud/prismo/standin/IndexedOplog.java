package cloud.prismo.standin;

import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerException;
import de.bwaldvogel.mongo.oplog.Oplog;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.stream.Stream;

/**
 * An oplog ordered by timestamp, so a change-stream getMore reads only the entries after its position.
 * Upstream keeps the oplog in a collection and, on every getMore, scans and sorts all of it: with the
 * product's write rate (an insert, a claim, a mark and a log entry per document) that is tens of thousands
 * of entries per getMore, and the stand-in's own cost, not the product's, decides the end-to-end latency.
 * Entries older than the window are trimmed, as a capped oplog rolls over; a resume token older than the
 * window resumes at the oldest entry kept, as upstream does. Events: insert (with the full document),
 * update (the update description as upstream gives it), delete, and drop. A stream whose leading $match names
 * one operationType skips the other entries before making them events (mongod pushes that $match into its
 * oplog scan): an insert-only stream does not build an event for every claim and mark of the documents.
 */
final class IndexedOplog implements Oplog {
    private final ConcurrentSkipListMap<Long, Entry> entries = new ConcurrentSkipListMap<>();
    private final CursorRegistry cursors;
    private final Runnable onWrite;
    private long lastTimestamp;

    private record Entry(BsonTimestamp timestamp, Instant wall, String namespace, String operationType, Object id, Document body) {}

    IndexedOplog(CursorRegistry cursors, Runnable onWrite) {
        this.cursors = cursors;
        this.onWrite = onWrite;
    }

    /** Cluster times grow strictly: seconds, then a counter within the second. */
    private synchronized BsonTimestamp nextTimestamp() {
        Instant now = Instant.now();
        long candidate = new BsonTimestamp(now, 1).getValue();
        lastTimestamp = Math.max(candidate, lastTimestamp + 1);
        return new BsonTimestamp(lastTimestamp);
    }

    private synchronized long latestTimestamp() {
        return lastTimestamp;
    }

    /**
     * Synchronized from the timestamp to the put, so entries enter the map in timestamp order: a reader that
     * has seen an entry never misses an earlier one still being added.
     */
    private synchronized void append(String namespace, String operationType, Object id, Document body) {
        BsonTimestamp timestamp = nextTimestamp();
        entries.put(timestamp.getValue(), new Entry(timestamp, Instant.now(), namespace, operationType, id, body));
    }

    @Override
    public void handleInsert(String namespace, List<Document> documents) {
        for (Document document : documents) append(namespace, "insert", document.get("_id"), document.cloneDeeply());
        onWrite.run();
    }

    @Override
    public void handleUpdate(String namespace, Document selector, Document query, List<Object> modifiedIds) {
        for (Object id : modifiedIds) append(namespace, "update", id, query);
        onWrite.run();
    }

    @Override
    public void handleDelete(String namespace, Document query, List<Object> deletedIds) {
        for (Object id : deletedIds) append(namespace, "delete", id, null);
        onWrite.run();
    }

    @Override
    public void handleDropCollection(String namespace) {
        append(namespace, "drop", null, null);
        onWrite.run();
    }

    /** Drops the entries written before the cutoff. */
    void trim(Instant cutoff) {
        for (Map.Entry<Long, Entry> oldest = entries.firstEntry(); oldest != null && oldest.getValue().wall().isBefore(cutoff); oldest = entries.firstEntry()) {
            entries.remove(oldest.getKey());
        }
    }

    @Override
    public Cursor createCursor(Document changeStreamDocument, String namespace, Aggregation aggregation) {
        Object token = changeStreamDocument.containsKey("startAfter") ? changeStreamDocument.get("startAfter") : changeStreamDocument.get("resumeAfter");
        long after;
        if (token != null) {
            after = positionOf(token);
        } else if (changeStreamDocument.get("startAtOperationTime") instanceof BsonTimestamp at) {
            after = at.getValue() - 1;
        } else {
            after = latestTimestamp();
        }
        String operation = IndexedMemoryBackend.CHANGE_STREAM_OPERATION.get();
        ChangeStreamCursor cursor = new ChangeStreamCursor(cursors.generateCursorId(), namespace, aggregation, after, operation);
        cursors.add(cursor);
        return cursor;
    }

    /** A resume token of ours: {_data: the cluster time as 16 hex digits}. Anything else is refused without a code, as upstream does. */
    private static long positionOf(Object token) {
        if (token instanceof Document document && document.get("_data") instanceof String data && data.length() == 16) {
            try {
                return Long.parseUnsignedLong(data, 16);
            } catch (NumberFormatException e) {
                // fall through
            }
        }
        throw new MongoServerException("invalid resume token: " + token);
    }

    private static String tokenOf(BsonTimestamp timestamp) {
        return String.format("%016x", timestamp.getValue());
    }

    private static boolean watches(String watched, Entry entry) {
        return entry.namespace().equals(watched);
    }

    private static Document toChangeEvent(Entry entry) {
        Document event = new Document("_id", new Document("_data", tokenOf(entry.timestamp())))
            .append("operationType", entry.operationType());
        String database = Utils.getDatabaseNameFromFullName(entry.namespace());
        String collection = Utils.getCollectionNameFromFullName(entry.namespace());
        switch (entry.operationType()) {
            case "insert" -> event.append("fullDocument", entry.body()).append("documentKey", new Document("_id", entry.id()));
            case "update" -> event.append("fullDocument", delta(entry.body())).append("documentKey", new Document("_id", entry.id()));
            case "delete" -> event.append("fullDocument", null).append("documentKey", new Document("_id", entry.id()));
            default -> { }
        }
        return event.append("ns", new Document("db", database).append("coll", collection)).append("clusterTime", entry.timestamp());
    }

    /** What upstream reports as an update's document: the fields it sets and unsets. */
    private static Document delta(Document update) {
        Document delta = new Document();
        if (update.get("$set") instanceof Document set) delta.putAll(set);
        if (update.get("$unset") instanceof Document unset) delta.putAll(unset);
        return delta;
    }

    final class ChangeStreamCursor extends AbstractCursor {
        private final String namespace;
        private final Aggregation aggregation;
        /** The one operationType the stream's leading $match asks for (others are not made events), or null. */
        private final String operation;
        private long position;

        ChangeStreamCursor(long id, String namespace, Aggregation aggregation, long position, String operation) {
            super(id);
            this.namespace = namespace;
            this.aggregation = aggregation;
            this.position = position;
            this.operation = operation;
        }

        @Override
        public boolean isEmpty() {
            return false;
        }

        @Override
        public List<Document> takeDocuments(int numberToReturn) {
            // Only the entries after the position, already in order: no scan of the window, no sort.
            Map<Long, Entry> after = entries.tailMap(position, false);
            long[] last = {position};
            Stream<Document> events = after.values().stream()
                .peek(entry -> last[0] = entry.timestamp().getValue())
                .filter(entry -> watches(namespace, entry) && (operation == null || operation.equals(entry.operationType())))
                .map(IndexedOplog::toChangeEvent);
            Stream<Document> matching = aggregation.runStagesAsStream(events);
            if (numberToReturn > 0) matching = matching.limit(numberToReturn);
            List<Document> batch = matching.toList();
            if (!batch.isEmpty()) {
                position = positionOf(batch.get(batch.size() - 1).get("_id"));
            } else {
                // Nothing matched up to here: the next getMore need not read these entries again.
                position = last[0];
            }
            return batch;
        }
    }
}
