/**
 * `ops sign`: each source's signature as its provider's own tooling computes it, and the
 * command as a user runs it (through the `ops` bin).
 */
import { createHmac } from "node:crypto";
import { keccak256 } from "js-sha3";
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { LOCAL_SOURCE_SECRETS, LOCAL_WEBHOOK_SECRET } from "../local/defaults";
import { signAs } from "../webhook-signing";
import { runOps } from "./support/run-ops";

const body = '{"confirmed":true,"chainId":"0x38","erc20Transfers":[]}';

describe("signAs", () => {
	it("signs Standard Webhooks so that the official library verifies it, under both header names", () => {
		const standard = signAs("standard-webhooks", LOCAL_WEBHOOK_SECRET, body);
		expect(() => new Webhook(LOCAL_WEBHOOK_SECRET).verify(body, standard.headers)).not.toThrow();
		const svix = signAs("svix", LOCAL_WEBHOOK_SECRET, body);
		expect(Object.keys(svix.headers)).toEqual([
			"content-type",
			"svix-id",
			"svix-timestamp",
			"svix-signature",
		]);
		expect(() => new SvixWebhook(LOCAL_WEBHOOK_SECRET).verify(body, svix.headers)).not.toThrow();
	});

	it("signs X-Signature and X-Alchemy-Signature as hex HMAC-SHA256 of the body, Moralis as 0x Keccak-256", () => {
		const hmac = (key: string) => createHmac("sha256", key).update(body).digest("hex");
		expect(signAs("x-signature", "k1", body).headers["x-signature"]).toBe(`sha256=${hmac("k1")}`);
		expect(signAs("alchemy", "k2", body).headers["x-alchemy-signature"]).toBe(hmac("k2"));
		expect(signAs("moralis", "k3", body).headers["x-signature"]).toBe(`0x${keccak256(`${body}k3`)}`);
	});
});

describe("ops sign", () => {
	it("prints the headers of a source, signed with the local stack's secret", async () => {
		const { code, stdout } = await runOps(["sign", "--source", "moralis", "--body", body]);
		expect(code).toBe(0);
		expect(stdout).toContain(
			`x-signature: 0x${keccak256(body + LOCAL_SOURCE_SECRETS.MORALIS_STREAM_SECRETS)}`,
		);
	});

	it("exits 2 naming the sources when the source is unknown", async () => {
		const { code, stderr } = await runOps(["sign", "--source", "coinbase", "--body", "{}"]);
		expect(code).toBe(2);
		expect(stderr).toMatch(/--source must be one of cricalgo, svix, original, moralis, alchemy/);
	});
});
