package cloud.prismo.standin;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.AbstractMongoBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Binds an oplog-enabled mongo-java-server to a loopback port so the test suite and `npm start` can reach
 * it with the official Node driver: in memory, or kept in one H2 MVStore file with `--data FILE`. Prints "LISTENING host:port" once bound, so the caller waits on a
 * condition rather than a sleep, and exits when its standard input closes, so it never outlives the
 * test run that started it.
 */
public final class Launcher {
    /**
     * mongo-java-server labels its 5.0 mode with wire version 8, which the Node driver 7 refuses (it needs
     * 9, MongoDB 4.4). Report MongoDB 5.0's real wire version; what the stand-in does not implement shows
     * up as command errors, which docs/testing.md lists.
     */
    private static final MongoVersion REPORTED_VERSION = new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
            return List.of(5, 0, 0);
        }

        @Override
        public int getWireVersion() {
            return 13;
        }
    };

    public static void main(String[] args) throws Exception {
        int port = 0;
        String dataFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--data") && i + 1 < args.length) {
                dataFile = args[++i];
            } else {
                port = Integer.parseInt(args[i]);
            }
        }
        // In memory (tests, benchmarks) with real secondary indexes and _id narrowing, or as upstream has it
        // (-Dstandin.upstream=true, to compare results and timings); H2 for `npm start`.
        boolean upstream = Boolean.getBoolean("standin.upstream");
        AbstractMongoBackend backend =
            dataFile != null ? new AwaitingH2Backend(dataFile) : upstream ? new MemoryBackend() : new IndexedMemoryBackend();
        backend.version(REPORTED_VERSION);
        backend.enableOplog();
        MongoServer server = new MongoServer(backend);
        // One event loop per connection, as far as it goes: a change-stream getMore waiting for events
        // (IndexedMemoryBackend) holds its loop, and must not hold other connections with it.
        server.bind(new InetSocketAddress("127.0.0.1", port), 1, Integer.getInteger("standin.eventLoops", 64));
        InetSocketAddress address = server.getLocalAddress();
        System.out.println("LISTENING " + address.getHostString() + ":" + address.getPort());
        System.out.flush();
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        // Parent gone (stdin closed) means the test run is over.
        while (System.in.read() != -1) {
            // ignore input
        }
        server.shutdownNow();
        System.exit(0);
    }
}
