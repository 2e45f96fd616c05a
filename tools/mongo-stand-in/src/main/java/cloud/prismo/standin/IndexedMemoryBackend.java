package cloud.prismo.standin;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.ArrayFilters;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.ObjectId;
import de.bwaldvogel.mongo.oplog.NoopOplog;
import de.bwaldvogel.mongo.oplog.Oplog;
import io.netty.channel.Channel;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import java.util.List;
import java.util.function.Supplier;

/**
 * mongo-java-server's memory backend, made not to hide the product's queries behind full scans.
 * Upstream uses an index only when a query consists of exactly the index's keys, so a claim
 * ({@code _id: {$in}} plus status conditions) scans every document, and secondary indexes are not
 * implemented at all. Here a query holding an {@code _id} equality or {@code $in} is narrowed through
 * the {@code _id} index before the rest of the filter is matched, and non-unique indexes are real
 * ({@link FirstKeyIndex}). Results are unchanged: narrowing only ever selects a superset of the matches,
 * and the whole query is matched against it. TTL indexes expire documents, and change streams read an
 * oplog ordered by time ({@link IndexedOplog}) with getMores that wait for events
 * ({@link AwaitingChangeStreams}), as on a real server. Test and development tooling only.
 */
public final class IndexedMemoryBackend extends MemoryBackend {
    /**
     * How long oplog entries are kept. Upstream keeps every entry forever, so a long drain fills the heap;
     * a real oplog is capped too.
     */
    private static final long OPLOG_WINDOW_MS = Long.getLong("standin.oplogWindowSeconds", 30L) * 1000L;

    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new IndexedDatabase(databaseName, getCursorRegistry());
    }

    private final AwaitingChangeStreams changeStreams = new AwaitingChangeStreams();

    @Override
    protected Document handleGetMore(String databaseName, String command, Document query) {
        return changeStreams.getMore(getCursorRegistry(), command, query, () -> super.handleGetMore(databaseName, command, query));
    }

    @Override
    protected Oplog createOplog() {
        IndexedOplog oplog = new IndexedOplog(getCursorRegistry(), changeStreams::written);
        Thread trimmer = new Thread(() -> {
            while (true) {
                try {
                    Thread.sleep(5_000);
                    oplog.trim(Instant.now().minusMillis(OPLOG_WINDOW_MS));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "oplog-trimmer");
        trimmer.setDaemon(true);
        trimmer.start();
        return oplog;
    }

    /**
     * How often expired documents are removed through TTL indexes; mongod's default (its ttlMonitorSleepSecs
     * parameter) is 60 s. Upstream accepts TTL indexes and never expires anything, which hides retention.
     */
    private static final long TTL_MONITOR_MS = Long.getLong("standin.ttlMonitorSeconds", 60L) * 1000L;

    /** An aggregate's leading {@code $match} and its collection, while the aggregate runs on this thread. */
    record LeadingMatch(String collection, Document filter) {}

    static final ThreadLocal<LeadingMatch> LEADING_MATCH = new ThreadLocal<>();

    /**
     * A change stream's operationType when its pipeline's first stage after {@code $changeStream} is a {@code $match}
     * naming one (a string), while its aggregate runs on this thread: the oplog skips other entries before making
     * them events, as mongod pushes such a {@code $match} into its oplog scan. The {@code $match} still decides.
     */
    static final ThreadLocal<String> CHANGE_STREAM_OPERATION = new ThreadLocal<>();

    /** The operationType a change-stream aggregate's leading {@code $match} asks for, or null. */
    static String changeStreamOperationOf(Document command) {
        if (!(command.get("pipeline") instanceof List<?> stages) || stages.size() < 2) return null;
        if (!(stages.get(0) instanceof Document first) || !first.containsKey("$changeStream")) return null;
        if (!(stages.get(1) instanceof Document second) || second.size() != 1 || !(second.get("$match") instanceof Document match)) return null;
        return match.get("operationType") instanceof String operation ? operation : null;
    }

    /** Runs the command with the thread-local set to the value, and clears it after (the command's reads look at it). */
    static <T> Document whileSet(ThreadLocal<T> local, T value, Supplier<Document> run) {
        local.set(value);
        try {
            return run.get();
        } finally {
            local.remove();
        }
    }

    /** Stages that read another collection, or this one a second time, or write: their aggregates are not narrowed. */
    private static final Set<String> NOT_NARROWED = Set.of("$lookup", "$graphLookup", "$unionWith", "$facet", "$out", "$merge",
        "$changeStream", "$collStats", "$indexStats", "$documents", "$search", "$geoNear");

    /** The aggregate's leading {@code $match}, when its source may be narrowed through an index; else null. */
    static LeadingMatch leadingMatchOf(Document command) {
        if (!(command.get("aggregate") instanceof String collection) || !(command.get("pipeline") instanceof List<?> stages) || stages.isEmpty()) {
            return null;
        }
        for (Object stage : stages) {
            if (!(stage instanceof Document document) || document.keySet().stream().anyMatch(NOT_NARROWED::contains)) {
                return null;
            }
        }
        Document first = (Document) stages.get(0);
        if (first.size() != 1 || !(first.get("$match") instanceof Document filter)) {
            return null;
        }
        return new LeadingMatch(collection, filter);
    }

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
                String field = key.keySet().iterator().next();
                Document selector = new Document(field, new Document("$lt", cutoff));
                if (spec.get("partialFilterExpression") instanceof Document partial) {
                    // Flat when it can be, so the TTL index's date range narrows the delete (FirstKeyIndex)
                    // instead of an $and matched against every document.
                    if (partial.containsKey(field) || partial.keySet().stream().anyMatch(name -> name.startsWith("$"))) {
                        selector = new Document("$and", List.of(partial, selector));
                    } else {
                        Document flat = new Document(partial);
                        flat.putAll(selector);
                        selector = flat;
                    }
                }
                collection.deleteDocuments(selector, 0);
            }
        }

        /**
         * A client's find without batchSize gets mongod's first batch, 101 documents; the collection then caps
         * that batch, and every getMore, at 16 MiB ({@link NarrowingCollection#createQueryResult}). The
         * backend's own queries (counts, aggregations) pass no batchSize and keep reading everything.
         */
        @Override
        public Document handleCommand(Channel channel, String command, Document query, DatabaseResolver resolver, Oplog oplog) {
            if (command.equalsIgnoreCase("find") && !query.containsKey("batchSize")) {
                Document withBatch = query.clone();
                withBatch.put("batchSize", NarrowingCollection.DEFAULT_FIRST_BATCH);
                return super.handleCommand(channel, command, withBatch, resolver, oplog);
            }
            Supplier<Document> run = () -> super.handleCommand(channel, command, query, resolver, oplog);
            String operation = command.equalsIgnoreCase("aggregate") ? changeStreamOperationOf(query) : null;
            if (operation != null) return whileSet(CHANGE_STREAM_OPERATION, operation, run);
            LeadingMatch leading = command.equalsIgnoreCase("aggregate") ? leadingMatchOf(query) : null;
            if (leading != null) return whileSet(LEADING_MATCH, leading, run);
            return run.get();
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
        /** mongod's first batch of a find without batchSize. */
        static final int DEFAULT_FIRST_BATCH = 101;

        NarrowingCollection(MongoDatabase database, String collectionName, CollectionOptions options, CursorRegistry cursorRegistry) {
            super(database, collectionName, options, cursorRegistry);
        }

        /**
         * A find's first reply as mongod sends it: its batchSize documents (101 when the client gives none,
         * {@link IndexedDatabase#handleCommand}), under 16 MiB, the rest behind a cursor whose getMores are
         * capped the same way ({@link ByteCappedCursor}). Upstream sends every match in one reply. Without a
         * batchSize (the backend's own queries) everything is returned, as upstream does.
         */
        @Override
        protected QueryResult createQueryResult(List<Document> matched, int batchSize) {
            if (batchSize <= 0) {
                return super.createQueryResult(matched, batchSize);
            }
            int first = ByteCappedCursor.fitting(matched, batchSize);
            List<Document> rest = matched.subList(first, matched.size());
            if (rest.isEmpty()) {
                return new QueryResult(matched);
            }
            return new QueryResult(matched.subList(0, first), createCursor(rest));
        }

        @Override
        protected Cursor createCursor(List<Document> remaining) {
            Cursor cursor = new ByteCappedCursor(cursorRegistry.generateCursorId(), remaining);
            cursorRegistry.add(cursor);
            return cursor;
        }

        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize, Document fieldSelector) {
            Object after = idLowerBound(query.get("_id"));
            if (after != null && Boolean.FALSE.equals(idOrder(orderBy))) {
                for (Index<Integer> index : getIndexes()) {
                    if (index instanceof FirstKeyIndex ordered && ordered.walksInIdOrder(query)) {
                        // a pass over a backlog continuing after the last id it read: the walk starts there
                        return matchDocuments(query, ordered.positionsInIdOrderAfter(query, after), null, numberToSkip, limit, batchSize, fieldSelector);
                    }
                }
            }
            if (query.containsKey("_id")) {
                Document byId = new Document("_id", query.get("_id"));
                for (Index<Integer> index : getIndexes()) {
                    if (index.canHandle(byId)) {
                        return matchDocuments(withoutExactIds(query), index.getPositions(byId), orderBy, numberToSkip, limit, batchSize, fieldSelector);
                    }
                }
            }
            Boolean descending = idOrder(orderBy);
            if (descending != null) {
                for (Index<Integer> index : getIndexes()) {
                    if (index instanceof FirstKeyIndex ordered && ordered.walksInIdOrder(query)) {
                        // already in the asked order: no sort, and the stream stops after skip + limit matches
                        return matchDocuments(query, ordered.positionsInIdOrder(query, descending), null, numberToSkip, limit, batchSize, fieldSelector);
                    }
                }
            }
            FirstKeyIndex narrowest = narrowestIndex(query);
            if (narrowest != null) {
                return matchDocuments(query, narrowest.getPositions(query), orderBy, numberToSkip, limit, batchSize, fieldSelector);
            }
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        }

        /**
         * An aggregate's documents: upstream streams every document of the collection into the pipeline and
         * lets its {@code $match} drop them, so a count of one tenant's waiting documents (countDocuments is an
         * aggregate) read the whole collection. With a leading {@code $match} an index can narrow, the stream
         * holds only the documents of the narrowest one, in position order as upstream's, and the
         * {@code $match} still decides: the same answer. Only the aggregate's first read is narrowed.
         */
        @Override
        public Stream<Document> queryAllAsStream() {
            LeadingMatch leading = LEADING_MATCH.get();
            if (leading != null && leading.collection().equals(getCollectionName())) {
                LEADING_MATCH.remove();
                List<Document> narrowed = narrowed(leading.filter());
                if (narrowed != null) {
                    return narrowed.stream();
                }
            }
            return super.queryAllAsStream();
        }

        private synchronized List<Document> narrowed(Document filter) {
            FirstKeyIndex narrowest = narrowestIndex(filter);
            if (narrowest == null) {
                return null;
            }
            List<Document> documents = new ArrayList<>();
            for (Integer position : narrowest.getPositions(filter)) {
                documents.add(getDocument(position));
            }
            return documents;
        }

        /**
         * Of the secondary indexes that can narrow the query, the one giving the fewest documents, as mongod's
         * planner prefers the more selective plan; upstream takes the first index created that can. A quota's
         * count of one tenant's waiting documents ({@code {tenantId, processed: false}}) was narrowed by the
         * sweep's index on {@code processed} to every waiting document of every tenant (100-280 ms at a
         * 200,000 backlog); by {@code waiting_by_tenant} it reads that tenant's alone. Null when none can, or
         * when one of upstream's own indexes (a unique one: a lookup of the query's exact keys) answers it.
         */
        private FirstKeyIndex narrowestIndex(Document query) {
            if (getIndexes().stream().anyMatch(index -> !(index instanceof FirstKeyIndex) && index.canHandle(query))) {
                return null;
            }
            FirstKeyIndex narrowest = null;
            long fewest = Long.MAX_VALUE;
            for (Index<Integer> index : getIndexes()) {
                if (index instanceof FirstKeyIndex firstKey && firstKey.canHandle(query)) {
                    long estimate = firstKey.estimate(query);
                    if (estimate < fewest) {
                        narrowest = firstKey;
                        fewest = estimate;
                    }
                }
            }
            return narrowest;
        }

        /**
         * The {@code _id} values of a condition that the {@code _id} index answers exactly: one ObjectId or
         * string, or an {@code $in} of them. Upstream matches an {@code $in} by walking its list for every
         * document, so an update of 500 ids by {@code $in} compared 500 x 500 ids, twice (to select, then
         * again for the positional operator); null for any other condition.
         */
        private static List<Object> exactIds(Object condition) {
            if (condition instanceof ObjectId || condition instanceof String) {
                return List.of(condition);
            }
            if (condition instanceof Document document && document.size() == 1 && document.get("$in") instanceof Collection<?> in
                && !in.isEmpty() && in.stream().allMatch(value -> value instanceof ObjectId || value instanceof String)) {
                return List.copyOf(in);
            }
            return null;
        }

        /**
         * The query less its {@code _id} condition when the {@code _id} index has already selected exactly the
         * documents that meet it; otherwise the whole query, matched again as upstream does.
         */
        private static Document withoutExactIds(Document query) {
            if (exactIds(query.get("_id")) == null) {
                return query;
            }
            Document rest = query.clone();
            rest.remove("_id");
            return rest;
        }

        /**
         * A multi-document update selecting by exact {@code _id}s ({@code updateMany({_id: {$in: ids}, ...})},
         * the claim and the marks) is applied id by id, each through the {@code _id} index, under the
         * collection's lock as one call; the oplog gets the modified ids at once, as upstream writes them.
         * Upserts, array filters and positional updates keep upstream's path.
         */
        @Override
        public synchronized Document updateDocuments(Document selector, Document updateQuery, ArrayFilters arrayFilters, boolean isMulti,
                                                     boolean isUpsert, Oplog oplog) {
            List<Object> ids = exactIds(selector.get("_id"));
            if (ids == null || ids.size() < 2 || !isMulti || isUpsert || !arrayFilters.isEmpty() || updateQuery.toString().contains(".$")) {
                return super.updateDocuments(selector, updateQuery, arrayFilters, isMulti, isUpsert, oplog);
            }
            int matched = 0;
            List<Object> modified = new ArrayList<>();
            for (Object id : new LinkedHashSet<>(ids)) {
                Document one = selector.clone();
                one.put("_id", id);
                Document result = super.updateDocuments(one, updateQuery, arrayFilters, false, false, NoopOplog.get());
                matched += ((Number) result.get("n")).intValue();
                if (((Number) result.get("nModified")).intValue() > 0) {
                    modified.add(id);
                }
            }
            oplog.handleUpdate(getFullName(), selector, updateQuery, modified);
            Document result = new Document();
            result.put("n", matched);
            result.put("nModified", modified.size());
            return result;
        }

        /**
         * A distinct on a key a secondary index holds first reads, per value, one document that holds it and
         * meets the query, as mongod's distinct scan reads one index key per value; upstream matches every
         * document of the collection. The sweep asks for the tenants with documents waiting at the head of
         * each page ({@code distinct('tenantId', {processed: false})}), which upstream answered
         * from all 200,000 documents of a backlog each time (120-300 ms of a core). The chosen document
         * gives its values as upstream's loop does (each element of an array, nothing when the key is
         * missing), so the answer is the same set.
         */
        @Override
        public synchronized Document handleDistinct(Document query) {
            String key = (String) query.get("key");
            Document filter = (Document) query.getOrDefault("query", new Document());
            for (Index<Integer> index : getIndexes()) {
                if (!(index instanceof FirstKeyIndex firstKey)) {
                    continue;
                }
                List<Integer> positions = firstKey.onePerValue(key, position -> {
                    Document document = getDocument(position);
                    return !(Utils.getSubdocumentValueCollectionAware(document, key) instanceof Missing) && documentMatchesQuery(document, filter);
                });
                if (positions == null) {
                    continue;
                }
                Set<Object> values = new TreeSet<>(ValueComparator.ascWithoutListHandling());
                for (Integer position : positions) {
                    Object value = Utils.getSubdocumentValueCollectionAware(getDocument(position), key);
                    if (value instanceof Collection<?> elements) {
                        values.addAll(elements);
                    } else {
                        values.add(value);
                    }
                }
                Document result = new Document("values", values);
                Utils.markOkay(result);
                return result;
            }
            return super.handleDistinct(query);
        }

        /** The x of an {@code _id} condition that is exactly {@code {$gt: x}} on an ObjectId; null for any other. */
        private static Object idLowerBound(Object condition) {
            if (condition instanceof Document document && document.size() == 1 && document.get("$gt") instanceof ObjectId after) {
                return after;
            }
            return null;
        }

        /** For a sort on {@code _id} alone, whether it is descending; null for any other sort or none. */
        private static Boolean idOrder(Document orderBy) {
            if (orderBy == null || orderBy.size() != 1 || !(orderBy.get("_id") instanceof Number direction)) {
                return null;
            }
            return switch (direction.intValue()) {
                case 1 -> false;
                case -1 -> true;
                default -> null;
            };
        }

        /**
         * A sorted query with a limit keeps only the best {@code skip + limit} matches while it reads, instead of
         * sorting every match as upstream does: the sweep ({@code find(waiting).sort({_id: 1}).limit(n)}) over a
         * million waiting documents otherwise sorts a million documents every time. Ties keep their encounter
         * order, as upstream's stable sort does, so the answers are the same.
         */
        @Override
        protected QueryResult matchDocumentsFromStream(Document query, Stream<Document> documents, int numberToSkip, int limit, int batchSize,
                                                       Comparator<Document> comparator, Document fieldSelector) {
            long wanted = (long) numberToSkip + limit;
            if (comparator == null || limit <= 0 || wanted > 100_000) {
                return super.matchDocumentsFromStream(query, documents, numberToSkip, limit, batchSize, comparator, fieldSelector);
            }
            Comparator<Ranked> ranking = Comparator.comparing(Ranked::document, comparator).thenComparingLong(Ranked::order);
            PriorityQueue<Ranked> worstFirst = new PriorityQueue<>((int) wanted + 1, ranking.reversed());
            long[] seen = {0};
            documents.filter(document -> documentMatchesQuery(document, query)).forEach(document -> {
                Ranked ranked = new Ranked(document, seen[0]++);
                if (worstFirst.size() < wanted) {
                    worstFirst.add(ranked);
                } else if (ranking.compare(ranked, worstFirst.peek()) < 0) {
                    worstFirst.poll();
                    worstFirst.add(ranked);
                }
            });
            List<Document> best = worstFirst.stream().sorted(ranking).skip(numberToSkip).map(Ranked::document).toList();
            // Upstream's own path for the few kept: the query again (cheap), the projection, the cursor.
            return super.matchDocumentsFromStream(query, best.stream(), 0, 0, batchSize, null, fieldSelector);
        }

        private record Ranked(Document document, long order) {}
    }
}
