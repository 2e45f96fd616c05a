package cloud.prismo.standin;

import de.bwaldvogel.mongo.backend.AbstractCursor;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.util.List;

/**
 * The rest of a query's results, handed out as mongod does: a getMore returns at most its batchSize
 * documents (all, without one) and stops before its documents pass 16 MiB, one document at least.
 * Upstream returns everything left in one reply, so a claim of a hundred 2 MiB documents arrived as one
 * 200 MiB message: a client's memory on the stand-in followed what no real server sends.
 */
final class ByteCappedCursor extends AbstractCursor {
    /** mongod's cap on the documents of one reply (its maximum BSON document size). */
    static final int MAX_BATCH_BYTES = 16 * 1024 * 1024;

    private List<Document> remaining;

    ByteCappedCursor(long id, List<Document> remaining) {
        super(id);
        this.remaining = remaining;
    }

    @Override
    public boolean isEmpty() {
        return remaining.isEmpty();
    }

    @Override
    public synchronized List<Document> takeDocuments(int numberToReturn) {
        int count = fitting(remaining, numberToReturn > 0 ? numberToReturn : Integer.MAX_VALUE);
        List<Document> batch = remaining.subList(0, count);
        remaining = remaining.subList(count, remaining.size());
        return batch;
    }

    /** How many of the first documents one reply carries: up to `wanted`, under 16 MiB, one at least. */
    static int fitting(List<Document> documents, int wanted) {
        int limit = Math.min(wanted, documents.size());
        long bytes = 0;
        for (int i = 0; i < limit; i++) {
            bytes += sizeOf(documents.get(i));
            if (i > 0 && bytes > MAX_BATCH_BYTES) return i;
        }
        return limit;
    }

    private static int sizeOf(Document document) {
        ByteBuf buffer = Unpooled.buffer();
        try {
            BsonEncoder.encodeDocument(document, buffer);
            return buffer.writerIndex();
        } finally {
            buffer.release();
        }
    }
}
