/**
 * The k6 script's signer must produce what the official Standard Webhooks verifier accepts.
 * k6 is not an npm package, so its two primitives are given here with their documented
 * meaning (`k6/crypto` hmac: HMAC of the UTF-8 input under the key bytes, in the asked
 * encoding; `k6/encoding` b64decode: standard base64 to bytes), and our code on top of them is
 * checked against `standardwebhooks`, the library real senders use.
 */
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it, vi } from "vitest";
import { TEST_WEBHOOK_SECRET } from "../../test/projects";

vi.mock("k6/crypto", () => ({
	default: {
		hmac: (algorithm: string, secret: ArrayBuffer, input: string, encoding: "base64") =>
			createHmac(algorithm, Buffer.from(secret)).update(input, "utf8").digest(encoding),
	},
}));
vi.mock("k6/encoding", () => ({
	default: {
		b64decode: (input: string) => {
			const bytes = Buffer.from(input, "base64");
			return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
		},
	},
}));

const { signedHeaders, signingKey } = await import("../k6/lib/standard-webhooks");

describe("k6 Standard Webhooks signer", () => {
	const body = JSON.stringify({ tx_hash: `0x${"ab".repeat(32)}`, amount: "12.5", note: "ünïcode ✓" });

	it("signs so that the official verifier accepts the delivery", () => {
		const headers = signedHeaders(signingKey(TEST_WEBHOOK_SECRET), "msg_k6_1", body);
		expect(headers).toMatchObject({ "content-type": "application/json", "webhook-id": "msg_k6_1" });
		expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
		expect(new Webhook(TEST_WEBHOOK_SECRET).verify(body, headers)).toEqual(JSON.parse(body));
	});

	it("gives the same signature as the official signer for the same id and time", () => {
		const at = new Date("2026-11-21T12:00:00Z");
		const ours = signedHeaders(signingKey(TEST_WEBHOOK_SECRET), "msg_k6_2", body, at);
		expect(ours["webhook-timestamp"]).toBe(String(at.getTime() / 1000));
		expect(ours["webhook-signature"]).toBe(new Webhook(TEST_WEBHOOK_SECRET).sign("msg_k6_2", at, body));
	});

	it("is refused by the verifier when the body or the secret differ", () => {
		const headers = signedHeaders(signingKey(TEST_WEBHOOK_SECRET), "msg_k6_3", body);
		expect(() => new Webhook(TEST_WEBHOOK_SECRET).verify(`${body} `, headers)).toThrow();
		const other = "whsec_b3RoZXItc2VjcmV0LW9mLWVub3VnaC1sZW5ndGgh";
		expect(() => new Webhook(other).verify(body, headers)).toThrow();
	});
});
