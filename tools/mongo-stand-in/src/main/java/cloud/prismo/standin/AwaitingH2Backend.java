package cloud.prismo.standin;

import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;

/** The persistent backend of `npm start` (upstream's H2), with change-stream getMores that wait for events. */
public final class AwaitingH2Backend extends H2Backend {
    private final AwaitingChangeStreams changeStreams = new AwaitingChangeStreams();

    public AwaitingH2Backend(String fileName) {
        super(fileName);
    }

    @Override
    protected Oplog createOplog() {
        return changeStreams.signalling(super.createOplog());
    }

    @Override
    protected Document handleGetMore(String databaseName, String command, Document query) {
        return changeStreams.getMore(getCursorRegistry(), command, query, () -> super.handleGetMore(databaseName, command, query));
    }
}
