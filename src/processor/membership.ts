// Keeps this processor in its group: renews its membership lease and shares the hash slots out again
// whenever a member joins, stops or lets its lease lapse (killed).
import { type MongoCollections, SLOTS } from '../raw-store/collections.js';
import { leaveGroup, renewMembership } from '../raw-store/processor-members.js';
import type { ProcessorEvents } from './events.js';
import type { SlotOwner } from './slot-owner.js';

/**
 * How often a member renews (and so how soon it sees another join), and how long its lease holds: a killed
 * member's slots move within the lease.
 */
export const RENEW_EVERY_MS = 250;
export const MEMBER_LEASE_MS = 5_000;

export async function joinGroup({
  mongo,
  group,
  owner,
  events,
}: {
  mongo: MongoCollections;
  group: string;
  owner: SlotOwner;
  events: ProcessorEvents;
}): Promise<{ leave(): Promise<void> }> {
  let failing = false;
  const renew = async () => {
    try {
      const members = await renewMembership(mongo.members, { workerId: owner.workerId, group, leaseMs: MEMBER_LEASE_MS });
      failing = false;
      if (owner.update(members).changed)
        events.emit('slots-changed', { members: owner.members().length, slots: owner.slots()?.length ?? SLOTS });
    } catch (error) {
      // Meanwhile the last share stands: at worst two members race for some documents, as before slots.
      if (!failing) events.emit('membership-failed', { error });
      failing = true;
    }
  };
  await renew();
  if (owner.members().length > 1) {
    // Joining a running group: the others give this member its slots at their next renewal; claiming them
    // before that would only race them. One renewal period later, every member's view includes it.
    await new Promise((resolve) => setTimeout(resolve, RENEW_EVERY_MS + 50));
    await renew();
  }
  const timer = setInterval(renew, RENEW_EVERY_MS);
  return {
    async leave() {
      clearInterval(timer);
      await leaveGroup(mongo.members, owner.workerId).catch(() => undefined);
    },
  };
}
