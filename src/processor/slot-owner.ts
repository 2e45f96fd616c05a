// Which hash slots this processor claims: each slot goes to the live member that scores highest for it
// (rendezvous hashing), so a member joining or leaving moves only its own share of slots.
import { createHash } from 'node:crypto';
import { SLOTS } from '../raw-store/collections.js';

const score = (member: string, slot: number) => createHash('sha1').update(`${member}/${slot}`).digest().readUInt32BE(0);

/** The owner of this worker's view of the group: which slots are its own, as of the last renewal. */
export class SlotOwner {
  #mine: Set<number> | undefined;
  #members: string[] = [];

  constructor(readonly workerId: string) {}

  /** Takes the group's live members (this worker among them); alone, it owns every slot. */
  update(members: string[]): { changed: boolean } {
    const all = [...new Set([...members, this.workerId])].sort();
    const changed = all.join(',') !== this.#members.join(',');
    this.#members = all;
    if (all.length === 1) {
      this.#mine = undefined;
      return { changed };
    }
    const mine = new Set<number>();
    for (let slot = 0; slot < SLOTS; slot++) {
      let best = all[0]!;
      for (const member of all) if (score(member, slot) > score(best, slot)) best = member;
      if (best === this.workerId) mine.add(slot);
    }
    this.#mine = mine;
    return { changed };
  }

  /** Whether a document of this slot is this worker's to claim; a document without one is slot 0's. */
  owns(slot: number | undefined): boolean {
    return this.#mine === undefined || this.#mine.has(slot ?? 0);
  }

  /** This worker's slots for the sweep's query, or undefined while it is alone (every document is its own). */
  slots(): number[] | undefined {
    return this.#mine === undefined ? undefined : [...this.#mine].sort((a, b) => a - b);
  }

  members(): string[] {
    return [...this.#members];
  }
}
