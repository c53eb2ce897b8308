/**
 * `POST /api/v1/webhooks/:name`: a deposit webhook, answered in milliseconds. `:name` is a chain
 * (`bep20`, `erc20`, `trc20`) for our own format, or the name of a provider source (`moralis`,
 * `alchemy`, …; ./provider-webhooks.ts). Sources are configuration (lib/webhook-sources.ts).
 *
 * Our own format, order of work: body size, enforced by the app's body limit before any route
 * (413) → known chain (404) → the signature over the raw bytes, against the sources whose scheme
 * the headers name: Standard Webhooks (or its Svix names) or, where a source enables it, the
 * original senders' `X-Signature` (401; 503 when no secret is configured) → the source's sunset
 * and rate limit (401, 429) and its chains (403) → JSON media type (415) → UTF-8 and JSON (400)
 * → fields (422) → deterministic `tx_id` → for `X-Signature`, the replay guard (a body seen
 * before is answered 200 `duplicate`) → `queue.send` (503 with Retry-After when the queue refuses,
 * so the sender retries and nothing is lost) → 202 `{"ok": true, "tx_id": "..."}`. Nothing here
 * waits on the database.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { CHAINS, type Chain, type DepositMessage } from "../../../schema/queue-message";
import { depositTxId } from "../../../schema/tx-id";
import { edgeVersion, enqueue } from "../../../shared/deposit-queue";
import { ApiError, serviceUnavailable } from "../../../shared/http/errors";
import { parseWebhookPayload } from "../../../shared/webhook/payload";
import { type ConfiguredSource, edgeConfig, SourceConfigError } from "../config";
import type { AppEnv } from "../env";
import { bodyDigest, hasStandardHeaders, type Scheme } from "../lib/signature";
import { admit, authenticate, jsonText, refuse, refusePayload, sendOnce } from "../lib/webhook-intake";

import { providerWebhook } from "./provider-webhooks";

function isChain(value: string): value is Chain {
	return (CHAINS as readonly string[]).includes(value);
}

/** Whether a path is a provider webhook's, whose bodies (a block's worth of transfers) may be larger. */
export function isProviderWebhookPath(path: string): boolean {
	const match = /^\/api\/v1\/webhooks\/([^/]+)\/?$/.exec(path);
	return match !== null && !isChain(match[1]!.toLowerCase());
}

function sourcesOf(c: Context<AppEnv>): ReadonlyMap<string, ConfiguredSource> {
	try {
		return edgeConfig(c.env).sources;
	} catch (error) {
		if (!(error instanceof SourceConfigError)) throw error;
		console.error(error.message);
		return refuse(
			c,
			"misconfigured",
			serviceUnavailable(`${error.message}; nothing was accepted, retry later`),
		);
	}
}

/** The scheme a request to our own format's route signs with, from its headers. */
function schemeOf(headers: Headers): Scheme | null {
	if (hasStandardHeaders(headers)) return "standard-webhooks";
	if (headers.has("x-signature") || headers.has("x-hub-signature-256")) return "x-signature";
	return null;
}

async function ownFormat(c: Context<AppEnv>, chain: Chain, sources: ReadonlyMap<string, ConfiguredSource>) {
	c.set("chain", chain);
	const raw = new Uint8Array(await c.req.arrayBuffer());
	const ours = [...sources.values()].filter((s) => s.format === "cricalgo" && s.enabled);
	const scheme = schemeOf(c.req.raw.headers);
	const candidates = ours.filter((s) => s.scheme === scheme);
	if (scheme === null || candidates.length === 0) {
		const legacy = ours.some((s) => s.scheme === "x-signature");
		refuse(
			c,
			scheme === null ? "missing_signature" : "wrong_scheme",
			new ApiError(
				"signature_invalid",
				scheme === "x-signature"
					? "legacy signatures (X-Signature) are not accepted here: sign with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"
					: `missing signature: send webhook-id, webhook-timestamp and webhook-signature (or svix-id, svix-timestamp, svix-signature)${legacy ? ", or X-Signature" : ""}`,
			),
		);
	}
	const { source, webhookId } = await authenticate(c, candidates, scheme!, raw);
	await admit(c, source);
	if (!source.chains.has(chain)) {
		refuse(
			c,
			"chain_not_enabled",
			new ApiError(
				"forbidden",
				`webhook source ${source.name} is not enabled for ${chain} (chains: ${[...source.chains].join(", ")})`,
			),
		);
	}

	const payload = parseWebhookPayload(jsonText(c, raw), chain);
	if (!payload.ok) refusePayload(c, payload);

	const { deposit } = payload;
	const txId = await depositTxId(chain, deposit.tx_hash, deposit.log_index);
	const digest = await bodyDigest(raw);
	const message: DepositMessage = {
		v: 1,
		tx_id: txId,
		...deposit,
		// The X-Signature scheme gives no id: a redelivery of the same bytes gets the same one.
		webhook_id: webhookId ?? `legacy:${digest}`,
		received_at: new Date().toISOString(),
		source: source.name,
		...edgeVersion(c.env),
	};
	if (source.sunset) c.header("Sunset", source.sunset.toUTCString());
	const outcome = await sendOnce(c, source, digest, () => enqueue(c.env.DEPOSITS, message));
	if (outcome === "refused") {
		c.set("enqueueFailed", true);
		refuse(
			c,
			"queue_unavailable",
			serviceUnavailable("the deposit queue did not accept the webhook; nothing was recorded, retry later"),
		);
	}
	if (outcome === "duplicate")
		return c.json({ ok: true as const, tx_id: txId, duplicate: true as const }, 200);
	c.set("transfers", { deposits: 1, held: 0, ignored: [] });
	return c.json({ ok: true as const, tx_id: txId }, 202);
}

export const webhooks = new Hono<AppEnv>().post("/:name", async (c) => {
	const name = c.req.param("name").toLowerCase();
	// One pattern serves both: the metrics name the one that answered.
	c.set("route", "/api/v1/webhooks/:chain");
	const sources = sourcesOf(c);
	if (isChain(name)) return ownFormat(c, name, sources);
	const source = sources.get(name);
	if (source && source.format !== "cricalgo" && source.enabled) {
		c.set("route", "/api/v1/webhooks/:source");
		return providerWebhook(c, source);
	}
	const providers = [...sources.values()]
		.filter((s) => s.format !== "cricalgo" && s.enabled)
		.map((s) => s.name);
	return refuse(
		c,
		"unknown_route",
		new ApiError(
			"not_found",
			`unknown chain or webhook source; chains: ${CHAINS.join(", ")}; sources: ${providers.join(", ") || "none"}`,
			{
				known_chains: CHAINS,
				known_sources: providers,
			},
		),
	);
});
