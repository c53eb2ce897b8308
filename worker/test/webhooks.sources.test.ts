/**
 * Webhook sources on our own format's route (`POST /api/v1/webhooks/:chain`), as configured in
 * wrangler.toml: the original senders' X-Signature with its replay guard and sunset, each
 * source's chains and rate limit, and a misconfiguration failing closed. The replay guard is the
 * real Durable Object, run by workerd.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import { TEST_LEGACY_SECRET_ROTATED } from "../../test/projects";
import { recordingQueue } from "../../test/support/queue";
import { testBindings } from "../../test/support/test-bindings";
import {
	BASE,
	type ErrorBody,
	legacyInit,
	signedInit,
	WEBHOOK_URL,
	watcherDeposit,
} from "../../test/support/webhooks";
import { app } from "../src/app";
import { withSources } from "./support/sources";

async function deliver(init: RequestInit, overrides: Partial<Env> = {}, url = WEBHOOK_URL) {
	const { queue, sent } = recordingQueue({ forwardTo: env.DEPOSITS });
	const res = await app.request(url, init, { ...env, DEPOSITS: queue, ...overrides });
	return {
		res,
		sent,
		body: (await res.json()) as { ok: boolean; tx_id?: string; duplicate?: boolean } & ErrorBody,
	};
}

describe("the original senders' X-Signature: replays are duplicates", () => {
	it("answers a replayed request 200 duplicate with the same tx_id and enqueues nothing new", async () => {
		const deposit = watcherDeposit({ status: "confirmed" });
		const init = await legacyInit(deposit);
		const first = await deliver(init);
		expect(first.res.status).toBe(202);
		expect(first.sent).toHaveLength(1);
		const replay = await deliver(init);
		expect(replay.res.status).toBe(200);
		expect(replay.body).toEqual({ ok: true, tx_id: first.body.tx_id, duplicate: true });
		expect(replay.sent).toEqual([]);
	});

	it("guards the bytes, not the deposit: a new report of the deposit (more confirmations) is new", async () => {
		const deposit = watcherDeposit({ confirmations: 3, status: "pending" });
		const first = await deliver(await legacyInit(deposit));
		const later = await deliver(await legacyInit({ ...deposit, confirmations: 15, status: "confirmed" }));
		expect([first.res.status, later.res.status]).toEqual([202, 202]);
		expect(later.body.tx_id).toBe(first.body.tx_id);
		expect(later.sent).toHaveLength(1);
	});

	it("a captured removal cannot be replayed after the deposit was seen again", async () => {
		const deposit = watcherDeposit();
		const removed = await legacyInit({ ...deposit, status: "removed" });
		expect((await deliver(removed)).res.status).toBe(202);
		expect((await deliver(await legacyInit({ ...deposit, confirmations: 20 }))).res.status).toBe(202);
		const replayed = await deliver(removed);
		expect(replayed.body.duplicate).toBe(true);
		expect(replayed.sent).toEqual([]);
	});

	it("loses nothing: a delivery the queue refused is new again on the sender's retry", async () => {
		const init = await legacyInit(watcherDeposit());
		const refused = await deliver(init, { DEPOSITS: recordingQueue({ fail: true }).queue });
		expect(refused.res.status).toBe(503);
		expect(refused.res.headers.get("retry-after")).toBe("5");
		const retried = await deliver(init);
		expect(retried.res.status).toBe(202);
		expect(retried.sent).toHaveLength(1);
	});

	it("answers copies that arrive together: one is accepted, the others wait (503) or are duplicates", async () => {
		const init = await legacyInit(watcherDeposit());
		const results = await Promise.all(Array.from({ length: 4 }, () => deliver(init)));
		const statuses = results.map((r) => r.res.status).sort();
		expect(statuses.filter((s) => s === 202)).toHaveLength(1);
		expect(statuses.every((s) => s === 202 || s === 200 || s === 503)).toBe(true);
		expect(results.flatMap((r) => r.sent)).toHaveLength(1);
	});

	it("keeps the signature's rotation: the rotated secret signs too", async () => {
		const { res } = await deliver(await legacyInit(watcherDeposit(), { secret: TEST_LEGACY_SECRET_ROTATED }));
		expect(res.status).toBe(202);
	});

	it("503 when the replay guard cannot be reached: nothing is accepted unguarded", async () => {
		const unreachable = {
			idFromName: () => ({}),
			get: () => ({
				claim: () => Promise.reject(new Error("Durable Object unavailable")),
			}),
		} as unknown as Env["DELIVERY_GUARD"];
		const { res, sent, body } = await deliver(await legacyInit(watcherDeposit()), {
			DELIVERY_GUARD: unreachable,
		});
		expect(res.status).toBe(503);
		expect(body.error.message).toMatch(/replay guard is unavailable/);
		expect(sent).toEqual([]);
	});
});

describe("the original senders' X-Signature: sunset and enablement", () => {
	it("is refused from its sunset on, saying how to move on", async () => {
		const { res, sent, body } = await deliver(
			await legacyInit(watcherDeposit()),
			withSources((s) => {
				s.original!.sunset = "2020-01-01";
			}),
		);
		expect(res.status).toBe(401);
		expect(body.error.message).toMatch(/retired on 2020-01-01.*Standard Webhooks.*docs\/cutover\.md/);
		expect(sent).toEqual([]);
	});

	it("cannot be configured without a sunset", async () => {
		const { res, body } = await deliver(
			await legacyInit(watcherDeposit()),
			withSources((s) => {
				delete s.original!.sunset;
			}),
		);
		expect(res.status).toBe(503);
		expect(body.error.message).toMatch(/WEBHOOK_SOURCES\.original\.sunset: is required for x-signature/);
	});

	it("is refused for a chain its source is not enabled for (403), before anything is read", async () => {
		const { res, body } = await deliver(
			await legacyInit(watcherDeposit({ chain: "erc20" })),
			{},
			`${BASE}/api/v1/webhooks/erc20`,
		);
		expect(res.status).toBe(403);
		expect(body.error.message).toMatch(/source original is not enabled for erc20/);
	});

	it("its secret does not sign Standard Webhooks, nor the other way round", async () => {
		const legacy = await legacyInit(watcherDeposit(), {
			secret: "whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItY3JpY2FsZ28=",
		});
		expect((await deliver(legacy)).res.status).toBe(401);
	});
});

describe("every source's rate limit and configuration", () => {
	it("429 with Retry-After once a source is over its rate, counted for that source", async () => {
		// Stand-in: a limit cannot be exhausted on purpose within a test without sending thousands.
		const saturated = { limit: async () => ({ success: false }) } as unknown as RateLimit;
		const { res, sent, body } = await deliver(await legacyInit(watcherDeposit()), {
			ORIGINAL_WEBHOOK_LIMITER: saturated,
		});
		expect(res.status).toBe(429);
		expect(res.headers.get("retry-after")).toBe("10");
		expect(body.error.message).toMatch(/source original is sending faster/);
		expect(sent).toEqual([]);
	});

	it("the real local limiter counts: a source limited to 20 a minute gets 429 on the 21st", async () => {
		// AUTH_LIMITER (the API's, which the test runner has too: test/support/test-bindings.ts) is a
		// real local rate limit binding (20 a minute); lend it to our watcher,
		// filled to two below its limit under the source's key.
		const limited = withSources((s) => {
			s.cricalgo!.rate_limiter = "AUTH_LIMITER";
		});
		for (let i = 0; i < 18; i++) await testBindings.AUTH_LIMITER.limit({ key: "webhook:cricalgo" });
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++)
			statuses.push((await deliver(signedInit(watcherDeposit()), limited)).res.status);
		expect(statuses).toEqual([202, 202, 429]);
	});

	it("limits each source by its own key", async () => {
		const keys: string[] = [];
		const recording = {
			limit: async ({ key }: { key: string }) => {
				keys.push(key);
				return { success: true };
			},
		} as unknown as RateLimit;
		await deliver(await legacyInit(watcherDeposit()), { ORIGINAL_WEBHOOK_LIMITER: recording });
		await deliver(signedInit(watcherDeposit()), {
			...withSources((s) => {
				s.cricalgo!.rate_limiter = "ORIGINAL_WEBHOOK_LIMITER";
			}),
			ORIGINAL_WEBHOOK_LIMITER: recording,
		});
		expect(keys).toEqual(["webhook:original", "webhook:cricalgo"]);
	});

	it("503 when the limiter fails (retryable, nothing accepted)", async () => {
		// Stand-in: a failing rate limit binding cannot be produced locally.
		const broken = { limit: () => Promise.reject(new Error("limiter down")) } as unknown as RateLimit;
		const { res, sent } = await deliver(await legacyInit(watcherDeposit()), {
			ORIGINAL_WEBHOOK_LIMITER: broken,
		});
		expect(res.status).toBe(503);
		expect(sent).toEqual([]);
	});

	it("503 naming the mistake when the sources are misconfigured, for every webhook", async () => {
		const { res, body, sent } = await deliver(
			signedInit(watcherDeposit()),
			withSources((s) => {
				s.cricalgo!.scheme = "hmac-md5";
			}),
		);
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
		expect(body.error.message).toMatch(/WEBHOOK_SOURCES\.cricalgo\.scheme/);
		expect(sent).toEqual([]);
	});

	it("a source switched off is refused like an unknown one", async () => {
		const { res } = await deliver(
			signedInit(watcherDeposit()),
			withSources((s) => {
				s.cricalgo!.enabled = false;
			}),
		);
		expect(res.status).toBe(401);
	});

	it("tells the sender which sources and chains exist when the name is unknown", async () => {
		const res = await exports.default.fetch(new Request(`${BASE}/api/v1/webhooks/coinbase`, signedInit({})));
		expect(res.status).toBe(404);
		const body = (await res.json()) as ErrorBody;
		expect(body.error.known_chains).toEqual(["bep20", "erc20", "trc20"]);
		expect(body.error.known_sources).toEqual(["moralis", "alchemy"]);
	});
});

describe("the tx_id of a legacy delivery", () => {
	it("is the deposit's, whatever the scheme", async () => {
		const deposit = watcherDeposit();
		const { body } = await deliver(await legacyInit(deposit));
		expect(body.tx_id).toBe(await depositTxId("bep20", deposit.tx_hash as string, 0));
	});
});
