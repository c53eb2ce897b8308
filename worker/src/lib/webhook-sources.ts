/**
 * Webhook sources: every sender is configured in `WEBHOOK_SOURCES` (a wrangler var, one table per
 * source and environment) with its scheme, the secret binding that holds its secrets (several,
 * space or comma separated, during a rotation), its enabled chains and its rate limiter.
 *
 * ```toml
 * [vars.WEBHOOK_SOURCES.moralis]
 * scheme = "moralis"                     # standard-webhooks | x-signature | moralis | alchemy
 * secrets = "MORALIS_STREAM_SECRETS"     # the secret binding holding this source's secrets
 * chains = ["bep20", "erc20"]
 * rate_limiter = "MORALIS_WEBHOOK_LIMITER"   # optional: a [[ratelimits]] binding
 * ```
 *
 * Routes follow from the scheme. `standard-webhooks` and `x-signature` sources send our own format
 * to `POST /api/v1/webhooks/:chain` (the original senders' URL), told apart by the headers they
 * sign with; `moralis` and `alchemy` sources are served at `POST /api/v1/webhooks/<name>`.
 *
 * Per scheme:
 * - `x-signature` (the original senders' body HMAC, which carries no time) needs `sunset`, the
 *   date from which it is refused, and replays are answered as duplicates for
 *   `replay_window_days` (default {@link DEFAULT_REPLAY_WINDOW_DAYS}); so do `moralis` and
 *   `alchemy`, whose signatures carry no time either.
 * - `moralis` maps a payload's `chainId` and `alchemy` its `event.network` to our chains with the
 *   providers' mainnet names ({@link MORALIS_CHAIN_IDS}, {@link ALCHEMY_NETWORKS}); `chain_ids`
 *   and `networks` add others (testnets). `tokens` overrides the USDT contract and decimals per
 *   chain ({@link USDT}); `confirmed_confirmations` the blocks a Moralis `confirmed: true` stands
 *   for. `own_addresses` lists the platform's own wallets (hot wallet, sweeper): transfers to or
 *   from them are not deposits.
 * - `enabled = false` keeps a source configured but refuses everything it sends.
 *
 * The configuration is validated once per isolate; a mistake makes every webhook answer 503 with
 * what is wrong (retryable: deposits wait for the fix instead of being refused for good).
 *
 * @module
 */

import { CHAINS, type Chain } from "../../../schema/queue-message";
import * as z from "../../../schema/zod";
import { SCHEMES, type Scheme } from "./signature";

/** Default replay window of sources whose signatures carry no time. */
export const DEFAULT_REPLAY_WINDOW_DAYS = 30;

/** USDT on each chain: contract and decimals (BscScan, Etherscan and Tronscan token pages). */
export const USDT: Readonly<Record<Chain, { contract: string; decimals: number }>> = {
	bep20: { contract: "0x55d398326f99059ff775485246999027b3197955", decimals: 18 },
	erc20: { contract: "0xdac17f958d2ee523a2206206994597c13d831ec7", decimals: 6 },
	trc20: { contract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals: 6 },
};

/**
 * Moralis `chainId` → chain, with the blocks Moralis waits before `confirmed: true` ("Blocks
 * Until Confirmed", https://docs.moralis.com/streams/supported-chains).
 */
export const MORALIS_CHAIN_IDS: Readonly<Record<string, { chain: Chain; confirmedAt: number }>> = {
	"0x38": { chain: "bep20", confirmedAt: 18 },
	"0x1": { chain: "erc20", confirmedAt: 12 },
};

/** Alchemy `event.network` → chain (the Notify API's network names). */
export const ALCHEMY_NETWORKS: Readonly<Record<string, Chain>> = {
	BNB_MAINNET: "bep20",
	ETH_MAINNET: "erc20",
};

export type SourceFormat = "cricalgo" | "moralis" | "alchemy";

export interface WebhookSource {
	name: string;
	scheme: Scheme;
	/** The body format it sends: ours for `standard-webhooks` and `x-signature`. */
	format: SourceFormat;
	enabled: boolean;
	/** Name of the secret binding with its secrets. */
	secrets: string;
	/** Name of its rate limit binding, or null for none. */
	rateLimiter: string | null;
	chains: ReadonlySet<Chain>;
	/** When its `x-signature` is refused from (x-signature only). */
	sunset: Date | null;
	/** How long a delivery is remembered as seen, s; null where the signature carries its time. */
	replayWindowSeconds: number | null;
	/** Provider chain names (Moralis chain ids, Alchemy networks) → chain, with Moralis' `confirmed` depth. */
	networks: ReadonlyMap<string, { chain: Chain; confirmedAt: number }>;
	tokens: Readonly<Record<Chain, { contract: string; decimals: number }>>;
	/** The platform's own wallets, lower-cased. */
	ownAddresses: ReadonlySet<string>;
}

export class SourceConfigError extends Error {
	override name = "SourceConfigError";
}

const NAME = /^[a-z][a-z0-9_-]{0,31}$/;
const BINDING = /^[A-Z][A-Z0-9_]{0,63}$/;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const chain = z.enum(CHAINS);

const sourceSchema = z
	.strictObject({
		scheme: z.enum(SCHEMES),
		secrets: z.string().check(z.regex(BINDING, "must name a secret binding, e.g. MORALIS_STREAM_SECRETS")),
		chains: z.array(chain).check(z.minLength(1, "must list at least one chain")),
		enabled: z._default(z.boolean(), true),
		rate_limiter: z.optional(z.string().check(z.regex(BINDING, "must name a [[ratelimits]] binding"))),
		sunset: z.optional(z.iso.date("must be a date, YYYY-MM-DD")),
		replay_window_days: z.optional(z.number().check(z.int(), z.gte(1), z.lte(365))),
		chain_ids: z.optional(
			z.record(z.string().check(z.regex(/^0x[0-9a-f]+$/, "chain ids are lower-case hex, e.g. 0x38")), chain),
		),
		networks: z.optional(
			z.record(
				z.string().check(z.regex(/^[A-Z0-9_]+$/, "network names are Alchemy's, e.g. ETH_MAINNET")),
				chain,
			),
		),
		tokens: z.optional(
			z.partialRecord(
				chain,
				z.strictObject({
					contract: z.string().check(z.minLength(1)),
					decimals: z.number().check(z.int(), z.gte(0), z.lte(36)),
				}),
			),
		),
		confirmed_confirmations: z.optional(
			z.partialRecord(chain, z.number().check(z.int(), z.gte(1), z.lte(10_000))),
		),
		own_addresses: z.optional(
			z.array(z.string().check(z.regex(EVM_ADDRESS, "must be 0x followed by 40 hex digits"))),
		),
	})
	.check(
		z.superRefine((s, ctx) => {
			if (s.scheme === "x-signature" && !s.sunset) {
				ctx.addIssue({
					code: "custom",
					path: ["sunset"],
					message:
						"is required for x-signature: the date from which the original senders' signature is refused",
				});
			}
			if (s.scheme !== "x-signature" && s.sunset) {
				ctx.addIssue({ code: "custom", path: ["sunset"], message: "applies to x-signature sources only" });
			}
			if (s.scheme !== "moralis" && (s.chain_ids || s.confirmed_confirmations)) {
				ctx.addIssue({ code: "custom", path: ["chain_ids"], message: "applies to moralis sources only" });
			}
			if (s.scheme !== "alchemy" && s.networks) {
				ctx.addIssue({ code: "custom", path: ["networks"], message: "applies to alchemy sources only" });
			}
		}),
	);

const sourcesSchema = z.record(
	z.string().check(
		z.regex(NAME, "source names are lower case, e.g. moralis"),
		z.refine((n) => !(CHAINS as readonly string[]).includes(n), "a source may not be named like a chain"),
	),
	sourceSchema,
);

function formatOf(scheme: Scheme): SourceFormat {
	return scheme === "moralis" || scheme === "alchemy" ? scheme : "cricalgo";
}

function build(name: string, s: z.infer<typeof sourceSchema>): WebhookSource {
	const networks = new Map<string, { chain: Chain; confirmedAt: number }>();
	if (s.scheme === "moralis") {
		for (const [id, known] of Object.entries(MORALIS_CHAIN_IDS)) networks.set(id, known);
		for (const [id, c] of Object.entries(s.chain_ids ?? {})) {
			networks.set(id, { chain: c, confirmedAt: MORALIS_CHAIN_IDS[id]?.confirmedAt ?? 0 });
		}
		for (const [id, entry] of networks) {
			const confirmedAt = s.confirmed_confirmations?.[entry.chain] ?? entry.confirmedAt;
			if (confirmedAt < 1) {
				throw new SourceConfigError(
					`WEBHOOK_SOURCES.${name}: chain id ${id} has no known confirmation depth; set confirmed_confirmations.${entry.chain}`,
				);
			}
			networks.set(id, { chain: entry.chain, confirmedAt });
		}
	}
	if (s.scheme === "alchemy") {
		for (const [network, c] of Object.entries({ ...ALCHEMY_NETWORKS, ...s.networks })) {
			networks.set(network, { chain: c, confirmedAt: 0 });
		}
	}
	const tokens = { ...USDT };
	for (const [c, token] of Object.entries(s.tokens ?? {}) as [
		Chain,
		{ contract: string; decimals: number },
	][]) {
		tokens[c] = {
			contract: c === "trc20" ? token.contract : token.contract.toLowerCase(),
			decimals: token.decimals,
		};
	}
	const replays =
		s.scheme === "standard-webhooks" ? null : (s.replay_window_days ?? DEFAULT_REPLAY_WINDOW_DAYS);
	return {
		name,
		scheme: s.scheme,
		format: formatOf(s.scheme),
		enabled: s.enabled,
		secrets: s.secrets,
		rateLimiter: s.rate_limiter ?? null,
		chains: new Set(s.chains),
		sunset: s.sunset ? new Date(`${s.sunset}T00:00:00Z`) : null,
		replayWindowSeconds: replays === null ? null : replays * 86_400,
		networks,
		tokens,
		ownAddresses: new Set((s.own_addresses ?? []).map((a) => a.toLowerCase())),
	};
}

/**
 * Parses `WEBHOOK_SOURCES`; throws {@link SourceConfigError} listing every mistake.
 *
 * @example
 * ```ts
 * const sources = parseWebhookSources(env.WEBHOOK_SOURCES);
 * sources.get("moralis")?.scheme; // "moralis"
 * ```
 */
export function parseWebhookSources(value: unknown): ReadonlyMap<string, WebhookSource> {
	if (value === undefined || value === null || value === "") return new Map();
	const parsed = sourcesSchema.safeParse(typeof value === "string" ? safeJson(value) : value);
	if (!parsed.success) {
		const issues = parsed.error.issues.map((i) => `WEBHOOK_SOURCES.${i.path.join(".")}: ${i.message}`);
		throw new SourceConfigError(`the webhook sources are misconfigured: ${issues.join("; ")}`);
	}
	return new Map(Object.entries(parsed.data).map(([name, s]) => [name, build(name, s)]));
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		throw new SourceConfigError("WEBHOOK_SOURCES is not valid JSON (or a wrangler var table)");
	}
}

// The configuration object is the same for the life of an isolate: parse it once.
const parsedSources = new WeakMap<object, ReadonlyMap<string, WebhookSource>>();

/** The sources of `env`, parsed once per configuration object. */
export function webhookSources(env: { WEBHOOK_SOURCES?: unknown }): ReadonlyMap<string, WebhookSource> {
	const value = env.WEBHOOK_SOURCES;
	if (typeof value !== "object" || value === null) return parseWebhookSources(value);
	let sources = parsedSources.get(value);
	if (!sources) {
		sources = parseWebhookSources(value);
		parsedSources.set(value, sources);
	}
	return sources;
}
