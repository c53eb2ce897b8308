/**
 * The replay guard of sources whose signatures carry no time (the original senders'
 * `X-Signature`, Moralis, Alchemy): a delivery seen before within the source's window is
 * answered as a duplicate and enqueues nothing new, so a captured request cannot be replayed to
 * move a deposit back and forth (confirmed → removed → confirmed …).
 *
 * A delivery is its source and a key; each has its own Durable Object ({@link DeliveryGuard}).
 * For the original senders the key is the SHA-256 of the body: their format carries nothing
 * else that tells one delivery from another (a report of the deposit's re-inclusion differs by
 * its `block_number`). For providers it is what the delivery says, not its envelope: the SHA-256
 * of its transfers as sorted (chain, hash, log index, recipient, value, status, confirmations,
 * block and block hash), so a provider's retry that only counts its attempts (Moralis'
 * `retries`) is the delivery it repeats, while a transfer re-included in another block is new. A Durable Object is one instance worldwide that handles one event at a
 * time, with storage that is strongly consistent and read-your-writes: two copies of a request
 * arriving at once, at any two Cloudflare locations, are serialised on the same object, and
 * exactly one of them is new. Workers KV could not guard this: it is eventually consistent
 * (another location may not see a write for up to a minute) and has no compare-and-set, so two
 * replays in that minute would both pass. The webhook path never waits on Postgres; this costs a
 * round trip to the object (created near the first caller) before the enqueue and one after.
 * Locally (`npm start`, tests) the same class runs in workerd, with its storage on disk.
 *
 * Nothing is lost by the guard: a delivery is first claimed (`in flight`), then marked done only
 * once the queue took it; if the queue refuses it, the claim is released so the sender's retry is
 * new again, and a claim whose Worker died lapses after {@link CLAIM_LEASE_MS}. The object
 * forgets the delivery when its window ends (an alarm deletes its storage).
 *
 * @module
 */
import { DurableObject } from "cloudflare:workers";

/** A claim that was neither marked done nor released (its Worker died) lapses after this. */
const CLAIM_LEASE_MS = 30_000;

type Seen = { state: "in_flight" | "done"; at: number };
type Claim = "new" | "duplicate" | "in_flight";

/** One delivery's memory: whether it was seen, within its window. */
export class DeliveryGuard extends DurableObject {
	/** Claims the delivery for sending, unless it was sent before or is being sent now. */
	async claim(windowMs: number): Promise<Claim> {
		const now = Date.now();
		const seen = await this.ctx.storage.get<Seen>("seen");
		if (seen?.state === "done") return "duplicate";
		if (seen?.state === "in_flight" && now - seen.at < CLAIM_LEASE_MS) return "in_flight";
		await this.ctx.storage.put("seen", { state: "in_flight", at: now } satisfies Seen);
		await this.ctx.storage.setAlarm(now + windowMs);
		return "new";
	}

	/** After the send: `true` remembers the delivery as done; `false` releases the claim. */
	async settle(sent: boolean): Promise<void> {
		if (sent) await this.ctx.storage.put("seen", { state: "done", at: Date.now() } satisfies Seen);
		else await this.ctx.storage.delete("seen");
	}

	/** The window is over: forget the delivery. */
	override async alarm(): Promise<void> {
		await this.ctx.storage.deleteAll();
	}
}

/** The guard of one delivery: `source` and the hex SHA-256 of its body. */
export function deliveryGuard(
	namespace: DurableObjectNamespace<DeliveryGuard>,
	source: string,
	digest: string,
) {
	return namespace.get(namespace.idFromName(`${source}:${digest}`));
}
