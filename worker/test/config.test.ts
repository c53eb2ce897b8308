import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordingQueue } from "../../test/support/queue";
import { signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { app } from "../src/app";
import { edgeConfig, SourceConfigError } from "../src/config";
import { withSources } from "./support/sources";

describe("the edge Worker's configuration", () => {
	it("is parsed once per environment, each source with its secret and limiter looked up", () => {
		const config = edgeConfig(env);
		expect(edgeConfig(env)).toBe(config);
		const original = config.sources.get("original")!;
		expect(original.secretValue).toBe(env.LEGACY_WEBHOOK_SECRETS);
		expect(original.limiter).toBe(env.ORIGINAL_WEBHOOK_LIMITER);
		expect(config.sources.get("cricalgo")!.secretValue).toBe(env.WEBHOOK_SECRETS);
	});

	it("refuses a source whose secrets name a binding that is not a secret, saying how to fix it", async () => {
		const wrong = {
			...env,
			...withSources((s) => {
				s.cricalgo!.secrets = "DEPOSITS";
			}),
		};
		expect(() => edgeConfig(wrong)).toThrow(SourceConfigError);
		expect(() => edgeConfig(wrong)).toThrow(
			/WEBHOOK_SOURCES\.cricalgo\.secrets names DEPOSITS, which is not a secret of this Worker.*wrangler secret put DEPOSITS/,
		);
		// Every webhook is refused retryably, and nothing is enqueued, until the fix.
		const { queue, sent } = recordingQueue();
		const res = await app.request(WEBHOOK_URL, signedInit(watcherDeposit()), { ...wrong, DEPOSITS: queue });
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
		expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
			/WEBHOOK_SOURCES\.cricalgo\.secrets names DEPOSITS/,
		);
		expect(sent).toEqual([]);
	});
});
