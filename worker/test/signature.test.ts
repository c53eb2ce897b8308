import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { TEST_WEBHOOK_SECRET, TEST_WEBHOOK_SECRET_ROTATED } from "../../test/projects";
import { MAX_SIGNATURES, TOLERANCE_SECONDS, verifySignature } from "../src/lib/signature";
import { legacySignature, signedInit } from "./support/webhooks";

const encode = (text: string) => new TextEncoder().encode(text);
const BOTH = `${TEST_WEBHOOK_SECRET} ${TEST_WEBHOOK_SECRET_ROTATED}`;
/** A well-formed secret that is not configured. */
const OTHER_SECRET = "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtMDEyMzQ1Njc4OQ==";

function verify(
	init: { headers: Record<string, string>; body: string },
	secrets = BOTH,
	extra: { legacy?: boolean; now?: number } = {},
) {
	return verifySignature(new Headers(init.headers), encode(init.body), {
		secrets,
		legacy: extra.legacy ?? false,
		now: extra.now,
	});
}

describe("Standard Webhooks: the official test vector", () => {
	// From standard-webhooks/libraries/javascript/src/webhook.test.ts ("sign function works").
	const vector = {
		secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
		timestamp: 1614265330,
		body: '{"test": 2432232314}',
		signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
	};
	const headers = {
		"webhook-id": vector.id,
		"webhook-timestamp": String(vector.timestamp),
		"webhook-signature": vector.signature,
	};

	it("verifies at the vector's time, with and without the whsec_ prefix", async () => {
		for (const secret of [vector.secret, vector.secret.slice("whsec_".length)]) {
			const result = await verify({ headers, body: vector.body }, secret, { now: vector.timestamp * 1000 });
			expect(result).toEqual({ ok: true, scheme: "standard", webhookId: vector.id });
		}
	});

	it("refuses the vector once it is older than the tolerance", async () => {
		const result = await verify({ headers, body: vector.body }, vector.secret, {
			now: (vector.timestamp + TOLERANCE_SECONDS + 1) * 1000,
		});
		expect(result).toMatchObject({
			ok: false,
			reason: "invalid",
			message: expect.stringMatching(/301 s old/),
		});
	});

	it("refuses the vector with one byte of the body changed", async () => {
		const result = await verify({ headers, body: '{"test": 2432232315}' }, vector.secret, {
			now: vector.timestamp * 1000,
		});
		expect(result.ok).toBe(false);
	});
});

describe("Standard Webhooks: requests signed by the official library", () => {
	it("accepts a request signed with the current secret", async () => {
		const init = signedInit({ hello: "world" }, { id: "msg_1" });
		expect(await verify(init)).toEqual({ ok: true, scheme: "standard", webhookId: "msg_1" });
	});

	it("accepts a request signed with the other secret during a rotation", async () => {
		const init = signedInit({ hello: "world" }, { secret: TEST_WEBHOOK_SECRET_ROTATED });
		expect((await verify(init)).ok).toBe(true);
		// ... and refuses it once the rotated secret is no longer configured.
		expect((await verify(init, TEST_WEBHOOK_SECRET)).ok).toBe(false);
	});

	it("accepts secrets separated by commas as well as spaces", async () => {
		const init = signedInit({ n: 1 }, { secret: TEST_WEBHOOK_SECRET_ROTATED });
		expect((await verify(init, `${TEST_WEBHOOK_SECRET},${TEST_WEBHOOK_SECRET_ROTATED}`)).ok).toBe(true);
	});

	it("accepts a header with several signatures when one of them is valid (the sender's rotation)", async () => {
		const init = signedInit({ n: 2 });
		const valid = init.headers["webhook-signature"];
		const other = new Webhook(OTHER_SECRET).sign(
			init.headers["webhook-id"]!,
			new Date(Number(init.headers["webhook-timestamp"]) * 1000),
			init.body,
		);
		init.headers["webhook-signature"] = `v1,AAAA ${other} v2,${valid!.slice(3)} ${valid}`;
		expect((await verify(init)).ok).toBe(true);
	});

	it("refuses a tampered body", async () => {
		const init = signedInit({ amount: "10" });
		expect(await verify({ ...init, body: '{"amount":"100"}' })).toMatchObject({
			ok: false,
			reason: "invalid",
			message: "no webhook-signature matches a configured secret",
		});
	});

	it("refuses a tampered webhook-id or timestamp", async () => {
		const init = signedInit({ amount: "10" });
		expect((await verify({ ...init, headers: { ...init.headers, "webhook-id": "msg_other" } })).ok).toBe(
			false,
		);
		const ts = String(Number(init.headers["webhook-timestamp"]) - 1);
		expect((await verify({ ...init, headers: { ...init.headers, "webhook-timestamp": ts } })).ok).toBe(false);
	});

	it("refuses a request signed with a secret that is not configured", async () => {
		const init = signedInit({ n: 3 }, { secret: OTHER_SECRET });
		expect(await verify(init)).toMatchObject({ ok: false, reason: "invalid" });
	});

	it("accepts timestamps up to the tolerance either way and refuses beyond it", async () => {
		const now = Date.now();
		const at = (offsetSeconds: number) => new Date(now + offsetSeconds * 1000);
		for (const offset of [-TOLERANCE_SECONDS, TOLERANCE_SECONDS]) {
			expect((await verify(signedInit({ offset }, { at: at(offset) }), BOTH, { now })).ok).toBe(true);
		}
		expect(await verify(signedInit({}, { at: at(-TOLERANCE_SECONDS - 1) }), BOTH, { now })).toMatchObject({
			ok: false,
			message: expect.stringMatching(/old/),
		});
		expect(await verify(signedInit({}, { at: at(TOLERANCE_SECONDS + 1) }), BOTH, { now })).toMatchObject({
			ok: false,
			message: expect.stringMatching(/in the future/),
		});
	});

	it("refuses when any of the three headers is missing, naming it", async () => {
		for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
			const init = signedInit({ n: 4 });
			delete init.headers[name];
			expect(await verify(init)).toMatchObject({ ok: false, message: expect.stringContaining(name) });
		}
	});

	it("refuses malformed timestamps and signature lists", async () => {
		const init = signedInit({ n: 5 });
		for (const [header, value] of [
			["webhook-timestamp", "hello"],
			["webhook-timestamp", "-5"],
			["webhook-timestamp", "1614265330.5"],
			["webhook-signature", "v2,abc"],
			["webhook-signature", "v1,"],
			["webhook-signature", "v1,not base64!"],
			["webhook-signature", init.headers["webhook-signature"]!.slice(0, 8)],
		] as const) {
			expect((await verify({ ...init, headers: { ...init.headers, [header]: value } })).ok).toBe(false);
		}
	});

	it(`refuses more than ${MAX_SIGNATURES} signatures in one header`, async () => {
		const init = signedInit({ n: 6 });
		const many = Array.from({ length: MAX_SIGNATURES }, () => "v1,AAAA").join(" ");
		init.headers["webhook-signature"] = `${many} ${init.headers["webhook-signature"]}`;
		expect(await verify(init)).toMatchObject({ ok: false, message: expect.stringMatching(/more than/) });
	});

	it("never falls back to the legacy header when Standard Webhooks headers are present", async () => {
		const init = signedInit({ n: 7 });
		init.headers["webhook-signature"] = "v1,AAAA";
		init.headers["x-signature"] = await legacySignature(TEST_WEBHOOK_SECRET, init.body);
		expect((await verify(init, BOTH, { legacy: true })).ok).toBe(false);
	});
});

describe("legacy X-Signature / X-Hub-Signature-256", () => {
	const body = '{"tx_hash":"0xabc","amount":"1.0"}';

	it("accepts the original senders' hex HMAC, with or without sha256=, in either header", async () => {
		const hex = await legacySignature(TEST_WEBHOOK_SECRET, body);
		for (const headers of [
			{ "x-signature": hex } as Record<string, string>,
			{ "x-signature": `sha256=${hex}` },
			{ "x-hub-signature-256": `sha256=${hex}` },
			{ "x-hub-signature-256": hex.toUpperCase() },
		]) {
			const result = await verify({ headers, body }, BOTH, { legacy: true });
			expect(result).toMatchObject({ ok: true, scheme: "legacy" });
		}
	});

	it("gives a redelivery of the same body the same webhook id, and another body another", async () => {
		const sign = async (b: string) =>
			verify(
				{ headers: { "x-signature": await legacySignature(TEST_WEBHOOK_SECRET_ROTATED, b) }, body: b },
				BOTH,
				{
					legacy: true,
				},
			);
		const first = await sign(body);
		const again = await sign(body);
		const other = await sign(`${body} `);
		expect(first.ok && first.webhookId).toMatch(/^legacy:[0-9a-f]{64}$/);
		expect(again).toEqual(first);
		expect(other.ok && other.webhookId).not.toBe(first.ok && first.webhookId);
	});

	it("refuses a wrong or malformed legacy signature", async () => {
		const wrong = await legacySignature("some other secret", body);
		expect((await verify({ headers: { "x-signature": wrong }, body }, BOTH, { legacy: true })).ok).toBe(
			false,
		);
		expect(
			(await verify({ headers: { "x-signature": "invalid_signature" }, body }, BOTH, { legacy: true })).ok,
		).toBe(false);
	});

	it("refuses legacy signatures where the environment does not enable them", async () => {
		const hex = await legacySignature(TEST_WEBHOOK_SECRET, body);
		expect(await verify({ headers: { "x-signature": hex }, body }, BOTH, { legacy: false })).toMatchObject({
			ok: false,
			message: expect.stringMatching(/not accepted here/),
		});
	});
});

describe("failing closed", () => {
	it("refuses everything when no secret is configured, even a correctly signed request", async () => {
		const init = signedInit({ n: 8 });
		for (const secrets of [undefined, "", " , "]) {
			const result = await verifySignature(new Headers(init.headers), encode(init.body), {
				secrets,
				legacy: true,
			});
			expect(result).toMatchObject({ ok: false, reason: "not_configured" });
		}
	});

	it("refuses a request with no signature at all", async () => {
		expect(await verify({ headers: {}, body: "{}" }, BOTH, { legacy: true })).toMatchObject({
			ok: false,
			message: expect.stringMatching(/missing signature/),
		});
	});
});
