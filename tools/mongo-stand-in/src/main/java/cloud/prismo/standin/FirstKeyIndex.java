package cloud.prismo.standin;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.IntPredicate;

/**
 * A non-unique index for the memory backend, kept on the index's first key: a query that constrains that
 * key by equality or {@code $in} (scalar values) reads only the positions holding those values, and the
 * whole query is then matched against them, so a compound index serves its prefix and the result never
 * differs from a scan. Documents are tracked by {@code _id} so a removal knows its position.
 *
 * <p>An index whose second key is {@code _id} ({@code {processed: 1, _id: 1}}, the sweep's) also keeps each
 * value's documents in {@code _id} order, so a query with equality on the first key sorted by {@code _id}
 * walks them in order and stops after its limit, as mongod does, instead of matching and sorting every one.
 *
 * <p>Dates are also kept in date order, so a range on the first key with date bounds ({@code $lt},
 * {@code $lte}, {@code $gt}, {@code $gte}) reads only the dates in range, as mongod's index bounds do. A TTL
 * monitor asks exactly that every minute ({@code processedAt < now - age}); matched against every document,
 * it held the collection for 140-230 ms at 200,000 raw documents to delete nothing.
 */
final class FirstKeyIndex extends Index<Integer> {
    private final String field;
    private final Map<Object, TreeSet<Integer>> positionsByValue = new HashMap<>();
    private final Map<Object, Integer> positionById = new HashMap<>();
    /** The date values' positions (the sets of positionsByValue), in date order; BSON dates decode as {@link Instant}. */
    private final TreeMap<Instant, TreeSet<Integer>> positionsByDate = new TreeMap<>();
    /** Per first-key value, positions by {@code _id}; null unless the second key is {@code _id}. */
    private final Map<Object, ConcurrentSkipListMap<Object, Integer>> positionsInIdOrder;

    FirstKeyIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        this.field = keys.get(0).getKey();
        this.positionsInIdOrder = keys.size() > 1 && keys.get(1).getKey().equals("_id") ? new HashMap<>() : null;
    }

    /** Numbers compare by value whatever their type, as MongoDB's equality does. */
    private static Object normalize(Object value) {
        if (value == null || value instanceof Missing) {
            return null;
        }
        if (value instanceof Number number && !(value instanceof Long l && (double) l != l)) {
            double d = number.doubleValue();
            return d == -0.0 ? 0.0 : d;
        }
        return value;
    }

    /** Index values of a document: its scalar value, or each element of an array. */
    private Set<Object> valuesOf(Document document) {
        Object value = document.get(field);
        if (field.contains(".")) {
            value = null; // dotted paths are not indexed here: queries on them fall back to a scan
        }
        Set<Object> values = new LinkedHashSet<>();
        if (value instanceof Collection<?> collection) {
            for (Object element : collection) {
                values.add(normalize(element));
            }
        } else {
            values.add(normalize(value));
        }
        return values;
    }

    private static boolean isScalar(Object value) {
        return value instanceof String || value instanceof Number || value instanceof Boolean || value instanceof Date
            || value instanceof de.bwaldvogel.mongo.bson.ObjectId;
    }

    /** The values a query constrains the first key to, or null when it does not do so by scalar equality. */
    private Collection<Object> queriedValues(Document query) {
        if (field.contains(".") || !query.containsKey(field)) {
            return null;
        }
        Object condition = query.get(field);
        if (isScalar(condition)) {
            return List.of(condition);
        }
        if (condition instanceof Document document && document.size() == 1) {
            Object eq = document.get("$eq");
            if (isScalar(eq)) {
                return List.of(eq);
            }
            if (document.get("$in") instanceof Collection<?> in && !in.isEmpty() && in.stream().allMatch(FirstKeyIndex::isScalar)) {
                return List.copyOf(in);
            }
        }
        return null;
    }

    /**
     * The dates a query's range on the first key admits, when it is one: only {@code $lt}, {@code $lte},
     * {@code $gt} and {@code $gte}, each with a date (a date bound matches dates only, as MongoDB compares
     * within a type); null otherwise. A superset is enough: the whole query is matched afterwards.
     */
    private NavigableMap<Instant, TreeSet<Integer>> queriedDates(Document query) {
        if (field.contains(".") || !(query.get(field) instanceof Document condition) || condition.isEmpty()) {
            return null;
        }
        Instant low = null;
        Instant high = null;
        boolean lowIncluded = false;
        boolean highIncluded = false;
        for (String operator : condition.keySet()) {
            if (!(condition.get(operator) instanceof Instant bound)) {
                return null;
            }
            switch (operator) {
                case "$lt", "$lte" -> {
                    boolean included = operator.equals("$lte");
                    if (high == null || bound.isBefore(high) || (bound.equals(high) && !included)) {
                        high = bound;
                        highIncluded = included;
                    }
                }
                case "$gt", "$gte" -> {
                    boolean included = operator.equals("$gte");
                    if (low == null || bound.isAfter(low) || (bound.equals(low) && !included)) {
                        low = bound;
                        lowIncluded = included;
                    }
                }
                default -> {
                    return null;
                }
            }
        }
        if (low != null && high != null) {
            if (low.isAfter(high) || (low.equals(high) && !(lowIncluded && highIncluded))) {
                return Collections.emptyNavigableMap();
            }
            return positionsByDate.subMap(low, lowIncluded, high, highIncluded);
        }
        if (high != null) {
            return positionsByDate.headMap(high, highIncluded);
        }
        return positionsByDate.tailMap(low, lowIncluded);
    }

    @Override
    public synchronized boolean canHandle(Document query) {
        return queriedValues(query) != null || queriedDates(query) != null;
    }

    /** The position sets a query's values or date range on the first key select (the index's own sets). */
    private Collection<? extends Set<Integer>> queriedPositionSets(Document query) {
        Collection<Object> values = queriedValues(query);
        if (values == null) {
            return queriedDates(query).values();
        }
        List<Set<Integer>> sets = new ArrayList<>();
        for (Object value : values) {
            Set<Integer> found = positionsByValue.get(normalize(value));
            if (found != null) {
                sets.add(found);
            }
        }
        return sets;
    }

    @Override
    public synchronized Iterable<Integer> getPositions(Document query) {
        Set<Integer> positions = new TreeSet<>();
        for (Set<Integer> found : queriedPositionSets(query)) {
            positions.addAll(found);
        }
        return positions;
    }

    /** How many positions {@link #getPositions} would give for the query: what the query planner compares. */
    synchronized long estimate(Document query) {
        long count = 0;
        for (Set<Integer> found : queriedPositionSets(query)) {
            count += found.size();
        }
        return count;
    }

    /**
     * Whether the query's matches can be walked in {@code _id} order: the second key is {@code _id} and the
     * query holds the first key to one scalar value.
     */
    synchronized boolean walksInIdOrder(Document query) {
        if (positionsInIdOrder == null) {
            return false;
        }
        Collection<Object> values = queriedValues(query);
        return values != null && values.size() == 1;
    }

    /**
     * The positions holding the queried first-key value, in {@code _id} order (descending if asked), read
     * lazily so a limited query stops early. Callers hold the collection's lock, so the index does not
     * change under the walk; the map is concurrent all the same.
     */
    synchronized Iterable<Integer> positionsInIdOrder(Document query, boolean descending) {
        ConcurrentSkipListMap<Object, Integer> byId = inIdOrder(query);
        return descending ? byId.descendingMap().values() : byId.values();
    }

    /**
     * For a distinct on this index's first key: for each value the index holds, the position of one document
     * holding it that {@code contributes}, looked for from the newest position back (a draining backlog's
     * waiting documents are its newest, so the walk stops at once, as mongod's distinct scan of a partial
     * index does); null when this index cannot answer, because it holds another key, a dotted one (not
     * indexed here) or is sparse (documents without the key are missing from it).
     */
    synchronized List<Integer> onePerValue(String key, IntPredicate contributes) {
        if (!field.equals(key) || field.contains(".") || isSparse()) {
            return null;
        }
        List<Integer> found = new ArrayList<>();
        for (TreeSet<Integer> positions : positionsByValue.values()) {
            for (Integer position : positions.descendingSet()) {
                if (contributes.test(position)) {
                    found.add(position);
                    break;
                }
            }
        }
        return found;
    }

    /** As {@link #positionsInIdOrder}, ascending, from the first {@code _id} above {@code after}. */
    synchronized Iterable<Integer> positionsInIdOrderAfter(Document query, Object after) {
        return inIdOrder(query).tailMap(after, false).values();
    }

    /** The queried first-key value's positions by {@code _id} (empty when no document holds it). */
    private ConcurrentSkipListMap<Object, Integer> inIdOrder(Document query) {
        ConcurrentSkipListMap<Object, Integer> byId = positionsInIdOrder.get(normalize(queriedValues(query).iterator().next()));
        return byId != null ? byId : new ConcurrentSkipListMap<>(ValueComparator.ascWithoutListHandling());
    }

    private void addInIdOrder(Object value, Document document, Integer position) {
        if (positionsInIdOrder != null) {
            positionsInIdOrder.computeIfAbsent(value, v -> new ConcurrentSkipListMap<>(ValueComparator.ascWithoutListHandling()))
                .put(document.get("_id"), position);
        }
    }

    private void removeInIdOrder(Object value, Document document) {
        if (positionsInIdOrder != null) {
            ConcurrentSkipListMap<Object, Integer> byId = positionsInIdOrder.get(value);
            if (byId != null) {
                byId.remove(document.get("_id"));
                if (byId.isEmpty()) {
                    positionsInIdOrder.remove(value);
                }
            }
        }
    }

    /** A value's position, in the value map and, for a date, in date order (the same set, kept once). */
    private void index(Object value, Integer position) {
        TreeSet<Integer> positions = positionsByValue.computeIfAbsent(value, v -> new TreeSet<>());
        positions.add(position);
        if (value instanceof Instant date) {
            positionsByDate.putIfAbsent(date, positions);
        }
    }

    private void unindex(Object value, Integer position) {
        Set<Integer> positions = positionsByValue.get(value);
        if (positions != null) {
            positions.remove(position);
            if (positions.isEmpty()) {
                positionsByValue.remove(value);
                if (value instanceof Instant date) {
                    positionsByDate.remove(date);
                }
            }
        }
    }

    @Override
    public synchronized void add(Document document, Integer position, MongoCollection<Integer> collection) {
        for (Object value : valuesOf(document)) {
            index(value, position);
            addInIdOrder(value, document, position);
        }
        positionById.put(normalize(document.get("_id")), position);
    }

    @Override
    public synchronized Integer remove(Document document) {
        Integer position = positionById.remove(normalize(document.get("_id")));
        if (position != null) {
            for (Object value : valuesOf(document)) {
                removeInIdOrder(value, document);
                unindex(value, position);
            }
        }
        return position;
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, Integer position, MongoCollection<Integer> collection) {
        Set<Object> before = valuesOf(oldDocument);
        Set<Object> after = valuesOf(newDocument);
        if (before.equals(after)) {
            return;
        }
        for (Object value : before) {
            removeInIdOrder(value, oldDocument);
            unindex(value, position);
        }
        for (Object value : after) {
            index(value, position);
            addInIdOrder(value, newDocument, position);
        }
    }

    @Override
    public Integer getPosition(Document document) {
        return null; // not unique: positions come from the _id index
    }

    @Override
    public void checkAdd(Document document, MongoCollection<Integer> collection) {
        // not unique: nothing to check
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<Integer> collection) {
        // not unique: nothing to check
    }

    @Override
    public synchronized long getCount() {
        return positionById.size();
    }

    @Override
    public long getDataSize() {
        return getCount();
    }

    @Override
    public synchronized void drop() {
        positionsByValue.clear();
        positionsByDate.clear();
        positionById.clear();
        if (positionsInIdOrder != null) {
            positionsInIdOrder.clear();
        }
    }
}
