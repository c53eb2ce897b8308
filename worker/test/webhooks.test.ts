import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import { TEST_LEGACY_SECRET, TEST_WEBHOOK_SECRET_ROTATED } from "../../test/projects";
import { recordingQueue } from "../../test/support/queue";
import {
	BASE,
	type ErrorBody,
	legacyInit,
	legacySignature,
	signedInit,
	svixInit,
	WEBHOOK_URL,
	watcherDeposit,
} from "../../test/support/webhooks";
import { app, MAX_BODY_BYTES } from "../src/app";
import { withSources } from "./support/sources";

function post(init: RequestInit, url = WEBHOOK_URL) {
	return exports.default.fetch(new Request(url, init));
}

async function expectError(res: Response, status: number, code: string) {
	expect(res.status).toBe(status);
	expect(res.headers.get("content-type")).toMatch(/^application\/json/);
	const body = (await res.json()) as ErrorBody;
	const requestId = res.headers.get("request-id");
	expect(requestId).toMatch(/^\S+$/);
	expect(body).toMatchObject({
		ok: false,
		error: { code, message: expect.any(String), request_id: requestId },
	});
	return body;
}

describe("POST /api/v1/webhooks/:chain: accepted", () => {
	it("answers 202 with the deterministic tx_id of (chain, tx_hash, log_index)", async () => {
		const deposit = watcherDeposit({ log_index: 2 });
		const res = await post(signedInit(deposit));
		expect(res.status).toBe(202);
		const body = await res.json();
		expect(body).toEqual({ ok: true, tx_id: await depositTxId("bep20", deposit.tx_hash as string, 2) });
	});

	it("gives every redelivery of a deposit the same tx_id, whatever its confirmations or hash case", async () => {
		const deposit = watcherDeposit({ confirmations: 1, status: "pending" });
		const first = (await (await post(signedInit(deposit))).json()) as { tx_id: string };
		const later = (await (
			await post(
				signedInit(
					{
						...deposit,
						confirmations: 15,
						status: "confirmed",
						tx_hash: (deposit.tx_hash as string).toUpperCase().replace("0X", "0x"),
					},
					{ secret: TEST_WEBHOOK_SECRET_ROTATED },
				),
			)
		).json()) as { tx_id: string };
		expect(later.tx_id).toBe(first.tx_id);
	});

	it("accepts the {tx_hash, amount, metadata} shape", async () => {
		const res = await post(
			signedInit({ tx_hash: watcherDeposit().tx_hash, amount: "0.001", metadata: { note: "smoke_test" } }),
		);
		expect(res.status).toBe(202);
	});

	it("accepts a chain in any case in the URL and a charset in the media type", async () => {
		const init = signedInit(watcherDeposit(), {
			headers: { "content-type": "application/json; charset=utf-8" },
		});
		expect((await post(init, `${BASE}/api/v1/webhooks/BEP20`)).status).toBe(202);
	});

	it("accepts a request sent with the svix library under the Svix header names", async () => {
		const deposit = watcherDeposit();
		const res = await post(svixInit(deposit));
		expect(res.status).toBe(202);
		expect(await res.json()).toEqual({
			ok: true,
			tx_id: await depositTxId("bep20", deposit.tx_hash as string, 0),
		});
	});

	it("accepts the original senders' X-Signature where a source enables it, announcing its sunset", async () => {
		const res = await post(await legacyInit(watcherDeposit()));
		expect(res.status).toBe(202);
		expect(res.headers.get("sunset")).toBe(new Date("2027-06-30T00:00:00Z").toUTCString());
	});

	it("enqueues exactly the validated message, with the webhook id and receive time", async () => {
		const { queue, sent } = recordingQueue({ forwardTo: env.DEPOSITS });
		const deposit = watcherDeposit({ amount: "7.50" });
		const before = Date.now();
		const res = await app.request(WEBHOOK_URL, signedInit(deposit, { id: "msg_enqueue_1" }), {
			...env,
			DEPOSITS: queue,
		});
		expect(res.status).toBe(202);
		const { tx_id } = (await res.json()) as { tx_id: string };
		expect(sent).toEqual([
			{
				v: 1,
				tx_id,
				chain: "bep20",
				tx_hash: deposit.tx_hash,
				log_index: 0,
				amount: "7.5",
				currency: "USDT",
				confirmations: 12,
				status: "confirmed",
				to_address: deposit.to_address,
				user_id: null,
				block_number: "1234567",
				metadata: deposit.metadata,
				webhook_id: "msg_enqueue_1",
				received_at: expect.any(String),
				source: "cricalgo",
				// The version of the Worker that took it, for the deposit's record of deliveries.
				edge_version: env.CF_VERSION_METADATA.id,
			},
		]);
		expect(env.CF_VERSION_METADATA.id).toMatch(/./);
		const receivedAt = Date.parse((sent[0] as { received_at: string }).received_at);
		expect(receivedAt).toBeGreaterThanOrEqual(before - 1000);
		expect(receivedAt).toBeLessThanOrEqual(Date.now() + 1000);
	});
});

describe("POST /api/v1/webhooks/:chain: refused, in one JSON shape", () => {
	it("404 for an unknown chain, listing the known ones", async () => {
		const body = await expectError(
			await post(signedInit(watcherDeposit()), `${BASE}/api/v1/webhooks/dogecoin`),
			404,
			"not_found",
		);
		expect(body.error.known_chains).toEqual(["bep20", "erc20", "trc20"]);
	});

	it("401 for a bad or missing signature", async () => {
		const init = signedInit(watcherDeposit());
		await expectError(
			await post({ ...init, body: init.body.replace('"20.0"', '"2000.0"') }),
			401,
			"signature_invalid",
		);
		await expectError(
			await post({ method: "POST", headers: { "content-type": "application/json" }, body: init.body }),
			401,
			"signature_invalid",
		);
	});

	it("401 for a legacy signature where no enabled source takes it (production's default)", async () => {
		const res = await app.request(WEBHOOK_URL, await legacyInit(watcherDeposit()), {
			...env,
			...withSources((s) => {
				s.original!.enabled = false;
			}),
		});
		const body = await expectError(res, 401, "signature_invalid");
		expect(body.error.message).toMatch(/X-Signature\) are not accepted here/);
	});

	it("refuses every webhook when no secret is configured: 503, retryable, nothing enqueued", async () => {
		const { queue, sent } = recordingQueue({ forwardTo: env.DEPOSITS });
		const res = await app.request(WEBHOOK_URL, signedInit(watcherDeposit()), {
			...env,
			WEBHOOK_SECRETS: "",
			DEPOSITS: queue,
		});
		const body = await expectError(res, 503, "service_unavailable");
		expect(body.error.message).toMatch(/no signing secret is configured/);
		expect(res.headers.get("retry-after")).toBe("5");
		expect(sent).toEqual([]);
	});

	it("413 for a body over the limit, by Content-Length and by counting a stream without one", async () => {
		const big = JSON.stringify(watcherDeposit({ metadata: { pad: "x".repeat(MAX_BODY_BYTES) } }));
		const init = signedInit(big);
		const body = await expectError(await post(init), 413, "payload_too_large");
		expect(body.error.max_bytes).toBe(MAX_BODY_BYTES);

		const bytes = new TextEncoder().encode(big);
		const stream = new ReadableStream<Uint8Array>({
			start(controller) {
				for (let i = 0; i < bytes.length; i += 4096) controller.enqueue(bytes.slice(i, i + 4096));
				controller.close();
			},
		});
		const chunked = new Request(WEBHOOK_URL, { method: "POST", headers: init.headers, body: stream });
		expect(chunked.headers.has("content-length")).toBe(false);
		await expectError(await app.request(chunked, undefined, env), 413, "payload_too_large");
	});

	it("415 for a signed body that is not declared as JSON", async () => {
		for (const type of ["text/plain", "application/x-www-form-urlencoded", ""]) {
			const init = signedInit(watcherDeposit(), { headers: { "content-type": type } });
			await expectError(await post(init), 415, "unsupported_media_type");
		}
	});

	it("400 for a signed body that is not UTF-8 or not a JSON object", async () => {
		for (const body of ["{", "[1,2]", "null"]) {
			await expectError(await post(signedInit(body)), 400, "bad_request");
		}
		// Standard Webhooks libraries sign text; the legacy scheme signs raw bytes, so it can carry these.
		const bytes = new Uint8Array([0x7b, 0xff, 0x7d]);
		const headers = {
			"content-type": "application/json",
			"x-signature": await legacySignature(TEST_LEGACY_SECRET, bytes),
		};
		const body = await expectError(await post({ method: "POST", headers, body: bytes }), 400, "bad_request");
		expect(body.error.message).toMatch(/UTF-8/);
	});

	it("422 naming each invalid field", async () => {
		const res = await post(
			signedInit(watcherDeposit({ amount: 20.123456789, user_id: "693173957", currency: "EUR" })),
		);
		const body = await expectError(res, 422, "validation_failed");
		expect((body.error.fields as { path: string }[]).map((f) => f.path).sort()).toEqual([
			"amount",
			"currency",
			"user_id",
		]);
	});

	it("422 naming the field, nothing enqueued, for what the ledger cannot store, a key given twice, a spaced amount", async () => {
		const cases: [string, string][] = [
			[JSON.stringify(watcherDeposit({ metadata: { note: "a\u0000b" } })), "metadata.note"],
			[JSON.stringify(watcherDeposit({ metadata: { note: "\ud800" } })), "metadata.note"],
			[JSON.stringify(watcherDeposit()).replace('"amount":"20.0"', '"amount":"1","amount":"20.0"'), "amount"],
			[JSON.stringify(watcherDeposit({ amount: " 20.0 " })), "amount"],
		];
		for (const [text, field] of cases) {
			const { queue, sent } = recordingQueue({ forwardTo: env.DEPOSITS });
			const res = await app.request(WEBHOOK_URL, signedInit(text), { ...env, DEPOSITS: queue });
			const body = await expectError(res, 422, "validation_failed");
			expect((body.error.fields as { path: string }[]).map((f) => f.path)).toEqual([field]);
			expect(sent).toEqual([]);
		}
	});

	it("503 with Retry-After when the queue refuses the message, so the sender retries", async () => {
		// Stand-in: a queue outage cannot be produced locally, so this binding throws as Queues does when unavailable.
		const failing = {
			send: async () => Promise.reject(new Error("Queue send failed: internal error")),
		} as unknown as Queue;
		const res = await app.request(WEBHOOK_URL, signedInit(watcherDeposit()), { ...env, DEPOSITS: failing });
		const body = await expectError(res, 503, "service_unavailable");
		expect(body.error.message).toMatch(/retry later/);
		expect(res.headers.get("retry-after")).toBe("5");
	});

	it("404 for other methods on the webhook path", async () => {
		await expectError(await exports.default.fetch(WEBHOOK_URL), 404, "not_found");
	});
});
