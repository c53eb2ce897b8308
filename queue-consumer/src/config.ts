/**
 * The consumer's settings, read from its `[vars]` (queue-consumer/wrangler.toml) and checked
 * with zod, so a bad value stops settlement with a message that names the variable, instead
 * of crediting deposits against a wrong threshold.
 *
 * BEP20 needs 12 confirmations. The original platform used 12 on its synchronous webhook path
 * and 3 in its background worker; 12 is the one that protects the ledger: a credit taken back
 * by a reorg costs the platform money, a credit that waits 9 more blocks costs the player
 * seconds.
 *
 * @module
 */

import { CHAINS, type Chain } from "../../schema/queue-message";
import * as z from "../../schema/zod";

const threshold = z
	.number({ error: "must be a whole number of confirmations" })
	.check(
		z.int("must be a whole number of confirmations"),
		z.gte(1, "must be at least 1 (0 would credit unconfirmed deposits)"),
		z.lte(10_000, "must be at most 10000"),
	);

/** A number from TOML, or the same number as a string (as a dashboard variable would be). */
const count = (min: number, max: number, fallback: number) =>
	z.pipe(
		z.transform((v: unknown) =>
			v === undefined || v === "" ? fallback : typeof v === "string" ? Number(v) : v,
		),
		z.number().check(z.int(), z.gte(min), z.lte(max)),
	);

const thresholdsSchema = z.pipe(
	z.transform((v: unknown) => {
		if (typeof v !== "string") return v;
		try {
			return JSON.parse(v);
		} catch {
			return v;
		}
	}),
	z.strictObject(
		Object.fromEntries(CHAINS.map((chain) => [chain, threshold])) as Record<Chain, typeof threshold>,
		{
			// Only for "not a table"; unknown or missing chains keep zod's own message, which names them.
			error: (issue) =>
				issue.code === "invalid_type"
					? "must be a table of confirmations per chain, e.g. { bep20 = 12, erc20 = 12, trc20 = 19 }"
					: undefined,
		},
	),
);

/**
 * The chains whose senders may assert finality: a `confirmed` message without confirmations
 * (the original's minimal `{tx_hash, amount}` shape) is final there. A list of chains, as TOML
 * or JSON text; "none" or empty for none.
 */
const senderFinalitySchema = z.pipe(
	z.transform((v: unknown) => {
		if (v === undefined || v === "" || v === "none") return [];
		if (typeof v !== "string") return v;
		try {
			return JSON.parse(v);
		} catch {
			return v.split(/[\s,]+/).filter(Boolean);
		}
	}),
	z.array(z.enum(CHAINS, { error: `must list chains among ${CHAINS.join(", ")}` }), {
		error: 'must be a list of chains, e.g. ["trc20"], or [] for none',
	}),
);

const configSchema = z.object({
	CONFIRMATIONS: thresholdsSchema,
	SENDER_FINALITY: senderFinalitySchema,
	/** How long one database round trip may take before it counts as failed (and is retried). */
	DATABASE_TIMEOUT_MS: count(100, 120_000, 10_000),
	/** Backoff of a retried message: base × 2^(attempts − 1) seconds, at most the max. */
	RETRY_BASE_SECONDS: count(0, 3_600, 2),
	RETRY_MAX_SECONDS: count(0, 43_200, 60),
	/**
	 * The dead-letter queue's `max_retries` (queue-consumer/wrangler.toml; a test keeps the two
	 * equal): from that delivery on, a message the database still cannot take goes to the last
	 * net instead of being deleted by the queue.
	 */
	DEAD_LETTER_MAX_RETRIES: count(1, 100, 100),
	/** The dead-letter queue's longer backoff cap: it outlasts a long outage, not a short one. */
	DEAD_LETTER_RETRY_MAX_SECONDS: count(0, 43_200, 900),
	/** While settlement is paused, how long a batch waits on the queue before it is delivered again. */
	PAUSED_RETRY_SECONDS: count(1, 43_200, 30),
	/** The one currency wallets hold; a deposit in another one is never credited. */
	WALLET_CURRENCY: z.pipe(
		z.transform((v: unknown) => v ?? "USDT"),
		z.string().check(z.regex(/^[A-Z0-9]{2,16}$/, "must be a currency code such as USDT")),
	),
});

export interface ConsumerConfig {
	/** Confirmations a deposit needs before it is credited, per chain. */
	thresholds: Record<Chain, number>;
	databaseTimeoutMs: number;
	retryBaseSeconds: number;
	retryMaxSeconds: number;
	/** The dead-letter queue's max_retries: its last deliveries go to the last net on failure. */
	deadLetterMaxRetries: number;
	deadLetterRetryMaxSeconds: number;
	/** While settlement is paused: the delay of a batch put back on the queue (settlement-pause.ts). */
	pausedRetrySeconds: number;
	walletCurrency: string;
	/** The chains whose senders may assert finality without confirmations (SENDER_FINALITY). */
	senderFinality: ReadonlySet<Chain>;
}

/** The consumer's configuration is unusable; the message says which variable and how to fix it. */
export class ConfigError extends Error {
	override readonly name = "ConfigError";
}

/**
 * Reads the consumer's settings from its environment.
 *
 * @throws {ConfigError} naming every variable that is wrong.
 * @example
 * ```ts
 * parseConsumerConfig({ CONFIRMATIONS: { bep20: 12, erc20: 12, trc20: 19 } }).thresholds.bep20; // 12
 * ```
 */
export function parseConsumerConfig(env: Record<string, unknown>): ConsumerConfig {
	const parsed = configSchema.safeParse(env);
	if (!parsed.success) {
		throw new ConfigError(
			`invalid consumer configuration (queue-consumer/wrangler.toml [vars]):\n${z.prettifyError(parsed.error)}`,
		);
	}
	const c = parsed.data;
	return {
		thresholds: c.CONFIRMATIONS,
		databaseTimeoutMs: c.DATABASE_TIMEOUT_MS,
		retryBaseSeconds: c.RETRY_BASE_SECONDS,
		retryMaxSeconds: c.RETRY_MAX_SECONDS,
		deadLetterMaxRetries: c.DEAD_LETTER_MAX_RETRIES,
		deadLetterRetryMaxSeconds: c.DEAD_LETTER_RETRY_MAX_SECONDS,
		pausedRetrySeconds: c.PAUSED_RETRY_SECONDS,
		walletCurrency: c.WALLET_CURRENCY,
		senderFinality: new Set(c.SENDER_FINALITY),
	};
}

/**
 * Seconds to wait before the next delivery of a message that failed on delivery `attempts`
 * (1 on the first): exponential, capped.
 */
export function retryDelaySeconds(
	attempts: number,
	backoff: Pick<ConsumerConfig, "retryBaseSeconds" | "retryMaxSeconds">,
): number {
	const exponent = Math.min(Math.max(0, attempts - 1), 30);
	return Math.min(backoff.retryMaxSeconds, backoff.retryBaseSeconds * 2 ** exponent);
}
