/**
 * What a load run sends, as a pure function of the iteration number, so that k6 VUs (which
 * share no memory) and the local load command produce the same traffic, and the end-of-run
 * check can recompute every deposit without having recorded anything.
 *
 * Each iteration is one of:
 * - a new deposit, final only: one webhook with enough confirmations;
 * - a new *staged* deposit: a webhook with low confirmations (status pending) and one with
 *   enough, in order, or out of order (enough first, then the stale low one), as a watcher
 *   that retries an old delivery late would send them;
 * - a redelivery of an earlier deposit's final webhook: the same body either with the same
 *   `webhook-id` (a network retry by the sender's HTTP stack) or with a new one (the watcher
 *   noticed the transaction again and sent it afresh).
 *
 * Every deposit ends with a delivery that credits it, so after the run every deposit must be
 * credited exactly once.
 *
 * @module
 */

interface PlanOptions {
	/** Makes this run's deposits distinct from every other run's. */
	runId: string;
	/** Chain path segment, e.g. "bep20". */
	chain: string;
	/** Existing users the deposits are credited to (round robin). */
	userIds: readonly string[];
	/** Share of all webhooks that are redeliveries of an earlier deposit (0..0.5). */
	duplicateShare: number;
	/** Share of deposits sent twice, low confirmations and then enough (0..1). */
	stagedShare: number;
	/** Share of staged deposits whose "enough" webhook goes out before the "low" one. */
	outOfOrderShare?: number;
	/** Confirmations that credit a deposit on the chain. */
	requiredConfirmations: number;
}

/** One HTTP delivery of a webhook. */
export interface Delivery {
	/** The iteration that created the deposit; also its number in the run. */
	deposit: number;
	kind: "final" | "low" | "network-retry" | "watcher-retry";
	webhookId: string;
	/** The exact JSON body, byte for byte the same for every delivery of one (deposit, stage). */
	body: string;
}

type IterationKind = "deposit" | "staged-in-order" | "staged-out-of-order" | "redelivery";

/** How far back (in iterations) a redelivery may reach. */
const REDELIVERY_WINDOW = 500;

/** A 32-bit integer hash (Murmur3's finaliser) of a seed and an index. */
function mix(seed: number, index: number, salt: number): number {
	let h = (seed ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(salt, 0x85ebca6b)) >>> 0;
	h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
	h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
	return (h ^ (h >>> 16)) >>> 0;
}

/** A deterministic fraction in [0, 1). */
function fraction(seed: number, index: number, salt: number): number {
	return mix(seed, index, salt) / 4294967296;
}

function seedOf(runId: string): number {
	let h = 2166136261;
	for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 16777619) >>> 0;
	return h;
}

/**
 * Probability that an iteration is a redelivery, such that redeliveries are `duplicateShare`
 * of all webhooks (staged deposits send two).
 */
function redeliveryProbability(options: PlanOptions): number {
	const d = options.duplicateShare;
	const s = options.stagedShare;
	return (d * (1 + s)) / (1 + d * s);
}

/** A deposit plan: what iteration `i` sends. */
export class DepositPlan {
	readonly options: PlanOptions;
	private readonly seed: number;
	private readonly pRedelivery: number;

	constructor(options: PlanOptions) {
		if (options.userIds.length === 0) throw new Error("a deposit plan needs at least one user id");
		if (!(options.duplicateShare >= 0 && options.duplicateShare <= 0.5)) {
			throw new Error(`duplicateShare must be between 0 and 0.5, got ${options.duplicateShare}`);
		}
		if (!(options.stagedShare >= 0 && options.stagedShare <= 1)) {
			throw new Error(`stagedShare must be between 0 and 1, got ${options.stagedShare}`);
		}
		this.options = options;
		this.seed = seedOf(options.runId);
		this.pRedelivery = redeliveryProbability(options);
	}

	/** What iteration `i` does. Iteration 0 is always a new deposit. */
	kindOf(i: number): IterationKind {
		if (i > 0 && fraction(this.seed, i, 1) < this.pRedelivery) return "redelivery";
		if (fraction(this.seed, i, 2) >= this.options.stagedShare) return "deposit";
		return fraction(this.seed, i, 3) < (this.options.outOfOrderShare ?? 0.5)
			? "staged-out-of-order"
			: "staged-in-order";
	}

	/** True when iteration `i` creates a deposit (numbered `i`). */
	createsDeposit(i: number): boolean {
		return this.kindOf(i) !== "redelivery";
	}

	/** The webhooks iteration `i` sends, in order. */
	deliveries(i: number): Delivery[] {
		const kind = this.kindOf(i);
		switch (kind) {
			case "deposit":
				return [this.delivery(i, "final")];
			case "staged-in-order":
				return [this.delivery(i, "low"), this.delivery(i, "final")];
			case "staged-out-of-order":
				return [this.delivery(i, "final"), this.delivery(i, "low")];
			case "redelivery": {
				const target = this.earlierDeposit(i);
				const original = this.delivery(target, "final");
				return fraction(this.seed, i, 5) < 0.5
					? [{ ...original, kind: "network-retry" }]
					: [{ ...original, kind: "watcher-retry", webhookId: `${original.webhookId}-again-${i}` }];
			}
		}
	}

	/** The deposit's transaction hash: 32 bytes of hex, distinct per run and deposit. */
	txHash(deposit: number): string {
		let hex = "";
		for (let word = 0; word < 8; word++) {
			hex += mix(this.seed, deposit, 100 + word)
				.toString(16)
				.padStart(8, "0");
		}
		return `0x${hex}`;
	}

	/** The deposit's amount: an exact decimal string between 1.00 and 500.99. */
	amount(deposit: number): string {
		const cents = mix(this.seed, deposit, 200) % 100;
		return `${1 + (deposit % 500)}.${String(cents).padStart(2, "0")}`;
	}

	userId(deposit: number): string {
		return this.options.userIds[deposit % this.options.userIds.length] as string;
	}

	/** The JSON body of one stage of a deposit, in the original senders' full shape. */
	body(deposit: number, stage: "low" | "final"): string {
		const required = this.options.requiredConfirmations;
		return JSON.stringify({
			tx_hash: this.txHash(deposit),
			log_index: 0,
			confirmations: stage === "final" ? required : Math.max(1, Math.floor(required / 4)),
			chain: this.options.chain,
			to_address: `0x${this.txHash(deposit).slice(2, 42)}`,
			amount: this.amount(deposit),
			currency: "USDT",
			status: stage === "final" ? "confirmed" : "pending",
			block_number: 40_000_000 + deposit,
			user_id: this.userId(deposit),
			metadata: { load_run: this.options.runId, deposit },
		});
	}

	private delivery(deposit: number, stage: "low" | "final"): Delivery {
		return {
			deposit,
			kind: stage,
			webhookId: `msg_${this.options.runId}_${deposit}_${stage}`,
			body: this.body(deposit, stage),
		};
	}

	/** An earlier iteration that created a deposit, picked within the redelivery window. */
	private earlierDeposit(i: number): number {
		let j = i - 1 - (mix(this.seed, i, 4) % Math.min(i, REDELIVERY_WINDOW));
		while (j > 0 && !this.createsDeposit(j)) j--;
		return Math.max(j, 0);
	}
}

/**
 * The first `total` webhooks of a plan, whole iterations only: a staged deposit that would be
 * cut in half at the end is replaced by a single final delivery, so every deposit planned is
 * one that the run credits.
 */
export function firstDeliveries(plan: DepositPlan, total: number): Delivery[] {
	const out: Delivery[] = [];
	for (let i = 0; out.length < total; i++) {
		const deliveries = plan.deliveries(i);
		// Only a staged deposit (two webhooks) can overflow, and it always has a final one.
		if (out.length + deliveries.length > total) {
			out.push(...deliveries.filter((d) => d.kind === "final"));
		} else {
			out.push(...deliveries);
		}
	}
	return out;
}
