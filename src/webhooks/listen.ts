// Deliverers wake when events are recorded: the events table's trigger notifies `prismo_events` at commit
// (migration 10) and this connection LISTENs; when it is lost it reconnects, polling covering the gap.
import type { Database } from '../db/postgres.js';
import type { WebhookEvents } from './events.js';

const CHANNEL = 'prismo_events';
const RECONNECT_MS = 1000;

/** Calls `onEvents` at each notification, and once after each (re)connection to catch up. */
export function listenForEvents(db: Database, onEvents: () => void, events: WebhookEvents): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let connection: Awaited<ReturnType<Database['connect']>> | undefined;
  const retry = () => {
    connection = undefined;
    if (!stopped) timer = setTimeout(() => void connect(), RECONNECT_MS);
  };
  const close = async (sco: typeof connection) => {
    await Promise.resolve(sco?.done()).catch(() => undefined);
  };
  const connect = async () => {
    let sco: typeof connection;
    try {
      sco = await db.connect({ direct: true, onLost: retry });
      if (stopped) return void (await close(sco));
      sco.client.on('notification', onEvents);
      await sco.none('LISTEN $1:name', [CHANNEL]);
      connection = sco;
      onEvents();
    } catch (error) {
      events.emit('listen-failed', { error });
      await close(sco);
      retry();
    }
  };
  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await close(connection);
    },
  };
}
