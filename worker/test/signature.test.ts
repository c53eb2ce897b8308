/**
 * The signature schemes a webhook source can be configured with, checked over the raw body:
 * Standard Webhooks (official vector, the official `standardwebhooks` and `svix` libraries as
 * senders), the original senders' X-Signature, Alchemy's X-Alchemy-Signature and Moralis'
 * x-signature. For each: valid, tampered body, wrong secret, rotation; and failing closed.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import {
	TEST_ALCHEMY_SIGNING_KEY,
	TEST_ALCHEMY_SIGNING_KEY_ROTATED,
	TEST_LEGACY_SECRET,
	TEST_LEGACY_SECRET_ROTATED,
	TEST_MORALIS_SECRET,
	TEST_MORALIS_SECRET_ROTATED,
	TEST_WEBHOOK_SECRET,
	TEST_WEBHOOK_SECRET_ROTATED,
} from "../../test/projects";
import { legacyInit, legacySignature, signedInit, svixInit } from "../../test/support/webhooks";
import { MAX_SIGNATURES, type Scheme, TOLERANCE_SECONDS, verifySignature } from "../src/lib/signature";
import { alchemyInit, moralisInit, moralisSignature } from "./support/providers";

const encode = (text: string) => new TextEncoder().encode(text);
const BOTH = `${TEST_WEBHOOK_SECRET} ${TEST_WEBHOOK_SECRET_ROTATED}`;
const LEGACY = `${TEST_LEGACY_SECRET} ${TEST_LEGACY_SECRET_ROTATED}`;
const MORALIS = `${TEST_MORALIS_SECRET},${TEST_MORALIS_SECRET_ROTATED}`;
const ALCHEMY = `${TEST_ALCHEMY_SIGNING_KEY} ${TEST_ALCHEMY_SIGNING_KEY_ROTATED}`;
/** A well-formed secret that is not configured. */
const OTHER_SECRET = "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtMDEyMzQ1Njc4OQ==";

function verify(
	init: { headers: Record<string, string>; body: string },
	secrets = BOTH,
	extra: { scheme?: Scheme; now?: number } = {},
) {
	return verifySignature(
		extra.scheme ?? "standard-webhooks",
		new Headers(init.headers),
		encode(init.body),
		secrets,
		extra.now,
	);
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
			expect(result).toEqual({ ok: true, scheme: "standard-webhooks", webhookId: vector.id });
		}
	});

	it("refuses the vector once it is older than the tolerance", async () => {
		const result = await verify({ headers, body: vector.body }, vector.secret, {
			now: (vector.timestamp + TOLERANCE_SECONDS + 1) * 1000,
		});
		expect(result).toMatchObject({
			ok: false,
			reason: "timestamp_out_of_tolerance",
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
		expect(await verify(init)).toEqual({ ok: true, scheme: "standard-webhooks", webhookId: "msg_1" });
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
			reason: "signature_mismatch",
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
		expect(await verify(init)).toMatchObject({ ok: false, reason: "signature_mismatch" });
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

	it("never falls back to another header when Standard Webhooks headers are present", async () => {
		const init = signedInit({ n: 7 });
		init.headers["webhook-signature"] = "v1,AAAA";
		init.headers["x-signature"] = await legacySignature(TEST_WEBHOOK_SECRET, init.body);
		expect((await verify(init, BOTH)).ok).toBe(false);
	});
});

describe("Standard Webhooks under the Svix header names, signed by the official svix library", () => {
	it("accepts svix-id, svix-timestamp and svix-signature as the aliases they are", async () => {
		const init = svixInit({ amount: "10" }, { id: "msg_svix_1" });
		expect(init.headers["svix-signature"]).toMatch(/^v1,/);
		expect(await verify(init)).toEqual({ ok: true, scheme: "standard-webhooks", webhookId: "msg_svix_1" });
	});

	it("accepts the rotated secret and refuses an unconfigured one", async () => {
		expect((await verify(svixInit({ n: 1 }, { secret: TEST_WEBHOOK_SECRET_ROTATED }))).ok).toBe(true);
		expect(await verify(svixInit({ n: 1 }, { secret: OTHER_SECRET }))).toMatchObject({
			ok: false,
			reason: "signature_mismatch",
		});
	});

	it("refuses a tampered body, id or timestamp", async () => {
		const init = svixInit({ amount: "10" });
		expect((await verify({ ...init, body: '{"amount":"100"}' })).ok).toBe(false);
		expect((await verify({ ...init, headers: { ...init.headers, "svix-id": "msg_other" } })).ok).toBe(false);
		const ts = String(Number(init.headers["svix-timestamp"]) + 1);
		expect((await verify({ ...init, headers: { ...init.headers, "svix-timestamp": ts } })).ok).toBe(false);
	});

	it("refuses a stale svix-timestamp like a stale webhook-timestamp", async () => {
		const now = Date.now();
		const init = svixInit({ n: 2 }, { at: new Date(now - (TOLERANCE_SECONDS + 1) * 1000) });
		expect(await verify(init, BOTH, { now })).toMatchObject({
			ok: false,
			reason: "timestamp_out_of_tolerance",
		});
	});

	it("takes one set from each name, and refuses the two names when they disagree", async () => {
		const init = svixInit({ n: 3 });
		const mixed = {
			"webhook-id": init.headers["svix-id"]!,
			"svix-timestamp": init.headers["svix-timestamp"]!,
			"webhook-signature": init.headers["svix-signature"]!,
		};
		expect((await verify({ headers: mixed, body: init.body })).ok).toBe(true);
		const both = { ...init.headers, "webhook-id": "msg_someone_else" };
		expect(await verify({ headers: both, body: init.body })).toMatchObject({
			ok: false,
			reason: "conflicting_headers",
		});
	});
});

describe("the original senders' X-Signature / X-Hub-Signature-256", () => {
	const body = '{"tx_hash":"0xabc","amount":"1.0"}';
	const legacy = (init: { headers: Record<string, string>; body: string }, secrets = LEGACY) =>
		verify(init, secrets, { scheme: "x-signature" });

	it("accepts the original senders' hex HMAC, with or without sha256=, in either header", async () => {
		const hex = await legacySignature(TEST_LEGACY_SECRET, body);
		for (const headers of [
			{ "x-signature": hex } as Record<string, string>,
			{ "x-signature": `sha256=${hex}` },
			{ "x-hub-signature-256": `sha256=${hex}` },
			{ "x-hub-signature-256": hex.toUpperCase() },
		]) {
			expect(await legacy({ headers, body })).toEqual({ ok: true, scheme: "x-signature", webhookId: null });
		}
	});

	it("accepts the rotated secret, and refuses it once it is no longer configured", async () => {
		const init = await legacyInit(body, { secret: TEST_LEGACY_SECRET_ROTATED });
		expect((await legacy(init)).ok).toBe(true);
		expect((await legacy(init, TEST_LEGACY_SECRET)).ok).toBe(false);
	});

	it("refuses a tampered body, a wrong secret and a malformed signature", async () => {
		const init = await legacyInit(body);
		expect(await legacy({ ...init, body: body.replace("1.0", "10.0") })).toMatchObject({
			ok: false,
			reason: "signature_mismatch",
		});
		expect(await legacy(await legacyInit(body, { secret: "some other secret" }))).toMatchObject({
			ok: false,
			reason: "signature_mismatch",
		});
		expect(await legacy({ headers: { "x-signature": "invalid_signature" }, body })).toMatchObject({
			ok: false,
			reason: "malformed_signature",
		});
	});

	it("is not accepted where the source's scheme is Standard Webhooks", async () => {
		expect(await verify(await legacyInit(body, { secret: TEST_WEBHOOK_SECRET }), BOTH)).toMatchObject({
			ok: false,
			reason: "wrong_scheme",
			message: expect.stringMatching(/does not accept x-signature/),
		});
	});
});

describe("Alchemy's X-Alchemy-Signature", () => {
	const body = JSON.stringify({ type: "ADDRESS_ACTIVITY", event: { network: "ETH_MAINNET", activity: [] } });
	const alchemy = (init: { headers: Record<string, string>; body: string }, secrets = ALCHEMY) =>
		verify(init, secrets, { scheme: "alchemy" });

	it("accepts the hex HMAC-SHA256 of the raw body keyed by the signing key, and the rotated key", async () => {
		expect(await alchemy(await alchemyInit(body))).toEqual({ ok: true, scheme: "alchemy", webhookId: null });
		expect((await alchemy(await alchemyInit(body, TEST_ALCHEMY_SIGNING_KEY_ROTATED))).ok).toBe(true);
	});

	it("checks the raw bytes: the same JSON re-serialised does not verify", async () => {
		const init = await alchemyInit(body);
		const reserialised = JSON.stringify(JSON.parse(body), null, 2);
		expect(await alchemy({ ...init, body: reserialised })).toMatchObject({
			ok: false,
			reason: "signature_mismatch",
		});
	});

	it("refuses a tampered body, another key, and a missing or malformed header", async () => {
		const init = await alchemyInit(body);
		expect((await alchemy({ ...init, body: body.replace("ETH", "BNB") })).ok).toBe(false);
		expect(await alchemy(await alchemyInit(body, "whsec_notTheKey"))).toMatchObject({
			reason: "signature_mismatch",
		});
		expect(await alchemy({ headers: {}, body })).toMatchObject({ reason: "missing_signature" });
		expect(await alchemy({ headers: { "x-alchemy-signature": "sha256=00" }, body })).toMatchObject({
			reason: "malformed_signature",
		});
	});
});

describe("Moralis' x-signature", () => {
	const body = JSON.stringify({ confirmed: true, chainId: "0x38", erc20Transfers: [] });
	const moralis = (init: { headers: Record<string, string>; body: string }, secrets = MORALIS) =>
		verify(init, secrets, { scheme: "moralis" });

	it("accepts 0x + Keccak-256 of the body followed by the secret, and the rotated secret", async () => {
		expect(await moralis(moralisInit(body))).toEqual({ ok: true, scheme: "moralis", webhookId: null });
		expect((await moralis(moralisInit(body, TEST_MORALIS_SECRET_ROTATED))).ok).toBe(true);
	});

	it("matches a known Keccak-256 value, so the hash is Keccak (web3's sha3), not SHA3-256", async () => {
		// Keccak-256 of the empty string, the best-known vector.
		expect(moralisSignature("", "")).toBe(
			"0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
		);
		expect((await moralis({ headers: { "x-signature": moralisSignature("", "k") }, body: "" }, "k")).ok).toBe(
			true,
		);
	});

	it("refuses a tampered body, another secret, the secret prepended, and a malformed header", async () => {
		const init = moralisInit(body);
		expect((await moralis({ ...init, body: body.replace("true", "false") })).ok).toBe(false);
		expect(await moralis(moralisInit(body, "not-the-secret"))).toMatchObject({
			reason: "signature_mismatch",
		});
		const prepended = `0x${moralisSignature(TEST_MORALIS_SECRET + body, "").slice(2)}`;
		expect((await moralis({ headers: { "x-signature": prepended }, body })).ok).toBe(false);
		expect(await moralis({ headers: { "x-signature": "0x1234" }, body })).toMatchObject({
			reason: "malformed_signature",
		});
	});
});

describe("failing closed", () => {
	it("refuses everything when no secret is configured, even a correctly signed request", async () => {
		const init = signedInit({ n: 8 });
		for (const secrets of [undefined, "", " , "]) {
			const result = await verifySignature(
				"standard-webhooks",
				new Headers(init.headers),
				encode(init.body),
				secrets,
			);
			expect(result).toMatchObject({ ok: false, reason: "no_secret" });
		}
	});

	it("refuses a request with no signature at all", async () => {
		for (const scheme of ["standard-webhooks", "x-signature", "alchemy", "moralis"] as const) {
			expect(await verify({ headers: {}, body: "{}" }, BOTH, { scheme })).toMatchObject({
				ok: false,
				reason: "missing_signature",
				message: expect.stringMatching(/missing signature/),
			});
		}
	});
});
