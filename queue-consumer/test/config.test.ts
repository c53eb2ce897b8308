/** The consumer's configuration: thresholds per chain, time limit, backoff. */
import { describe, expect, it } from "vitest";
import { classifyDatabaseError } from "../../schema/database-errors";
import { ConfigError, parseConsumerConfig, retryDelaySeconds } from "../src/config";

const CONFIRMATIONS = { bep20: 12, erc20: 12, trc20: 19 };

describe("parseConsumerConfig", () => {
	it("reads the thresholds and fills in defaults", () => {
		expect(parseConsumerConfig({ CONFIRMATIONS })).toEqual({
			thresholds: CONFIRMATIONS,
			databaseTimeoutMs: 10_000,
			retryBaseSeconds: 2,
			retryMaxSeconds: 60,
			deadLetterMaxRetries: 100,
			deadLetterRetryMaxSeconds: 900,
			pausedRetrySeconds: 30,
			walletCurrency: "USDT",
			senderFinality: new Set(),
		});
	});

	it("reads the chains whose senders may assert finality: none unless listed", () => {
		expect(parseConsumerConfig({ CONFIRMATIONS, SENDER_FINALITY: [] }).senderFinality).toEqual(new Set());
		expect(parseConsumerConfig({ CONFIRMATIONS, SENDER_FINALITY: ["trc20"] }).senderFinality).toEqual(
			new Set(["trc20"]),
		);
		expect(
			parseConsumerConfig({ CONFIRMATIONS, SENDER_FINALITY: '["bep20","erc20"]' }).senderFinality,
		).toEqual(new Set(["bep20", "erc20"]));
	});

	it("accepts the thresholds as a JSON string and numbers as strings", () => {
		const config = parseConsumerConfig({
			CONFIRMATIONS: JSON.stringify({ ...CONFIRMATIONS, bep20: 15 }),
			DATABASE_TIMEOUT_MS: "2500",
		});
		expect(config.thresholds.bep20).toBe(15);
		expect(config.databaseTimeoutMs).toBe(2500);
	});

	it.each([
		[{ CONFIRMATIONS: { ...CONFIRMATIONS, bep20: 0 } }, ["at least 1", "at CONFIRMATIONS.bep20"]],
		[{ CONFIRMATIONS: { ...CONFIRMATIONS, erc20: 2.5 } }, ["whole number", "at CONFIRMATIONS.erc20"]],
		[{ CONFIRMATIONS: { bep20: 12, erc20: 12 } }, ["at CONFIRMATIONS.trc20"]],
		[{ CONFIRMATIONS: { ...CONFIRMATIONS, sol: 1 } }, ['"sol"', "at CONFIRMATIONS"]],
		[{ CONFIRMATIONS: "{not json" }, ["table of confirmations per chain", "at CONFIRMATIONS"]],
		[{}, ["at CONFIRMATIONS"]],
		[{ CONFIRMATIONS, DATABASE_TIMEOUT_MS: "soon" }, ["at DATABASE_TIMEOUT_MS"]],
		[{ CONFIRMATIONS, RETRY_MAX_SECONDS: 100_000 }, ["at RETRY_MAX_SECONDS"]],
		[{ CONFIRMATIONS, SENDER_FINALITY: ["sol"] }, ["must list chains", "at SENDER_FINALITY"]],
		[{ CONFIRMATIONS, SENDER_FINALITY: { bep20: true } }, ["list of chains", "at SENDER_FINALITY"]],
	])("refuses %j with a message naming the variable", (env, parts) => {
		expect(() => parseConsumerConfig(env)).toThrow(ConfigError);
		let message = "";
		try {
			parseConsumerConfig(env);
		} catch (error) {
			message = (error as Error).message;
		}
		expect(message).toMatch(/^invalid consumer configuration/);
		for (const part of parts) expect(message).toContain(part);
	});
});

describe("retryDelaySeconds", () => {
	it("doubles from the base with each attempt and stops at the cap", () => {
		const backoff = { retryBaseSeconds: 2, retryMaxSeconds: 900 };
		expect([1, 2, 3, 4, 9, 10, 11, 100].map((a) => retryDelaySeconds(a, backoff))).toEqual([
			2, 4, 8, 16, 512, 900, 900, 900,
		]);
	});
});

describe("classifyDatabaseError", () => {
	const pg = (code: string) => Object.assign(new Error("postgres says no"), { code });
	it.each([
		["22003", true],
		["23505", true],
		["23514", true],
		["40001", false],
		["40P01", false],
		["53300", false],
		["57P01", false],
		["08006", false],
		["42P01", false],
	])("SQLSTATE %s is permanent: %s", (code, permanent) => {
		expect(classifyDatabaseError(pg(code))).toMatchObject({ permanent, code });
	});

	it("retries what has no SQLSTATE: network failures, timeouts, HTTP errors", () => {
		expect(classifyDatabaseError(new TypeError("fetch failed")).permanent).toBe(false);
		expect(classifyDatabaseError(new DOMException("timed out", "TimeoutError")).permanent).toBe(false);
		expect(classifyDatabaseError(new Error("Server error (HTTP status 503): down")).permanent).toBe(false);
	});
});
