import { describe, expect, it } from "vitest";
import { parseDepositMessage } from "../../schema/queue-message";
import { canonicalAmount } from "../../shared/decimal";
import { METADATA_MAX_BYTES, METADATA_MAX_DEPTH, parseWebhookPayload } from "../../shared/webhook/payload";
import { watcherDeposit } from "../../test/support/webhooks";

const HASH = `0x${"ab".repeat(32)}`;
const USER = "a59b0893-0f43-43c8-83aa-87a0dff98338";

function parse(body: unknown, chain: "bep20" | "erc20" | "trc20" = "bep20") {
	return parseWebhookPayload(typeof body === "string" ? body : JSON.stringify(body), chain);
}

function fieldsOf(result: ReturnType<typeof parse>) {
	return result.ok ? [] : result.fields.map((f) => f.path);
}

describe("the two shapes the original senders post", () => {
	it("accepts the watcher's full shape and normalises it", () => {
		const result = parse(
			watcherDeposit({
				user_id: USER,
				tx_hash: HASH.toUpperCase().replace("0X", "0x"),
				to_address: "0xABCDEF0123456789ABCDEF0123456789ABCDEF01",
			}),
		);
		expect(result).toEqual({
			ok: true,
			deposit: {
				chain: "bep20",
				tx_hash: HASH,
				log_index: 0,
				amount: "20",
				currency: "USDT",
				confirmations: 12,
				status: "confirmed",
				to_address: "0xabcdef0123456789abcdef0123456789abcdef01",
				user_id: USER,
				block_number: "1234567",
				metadata: { telegram_user_id: 693173957 },
			},
		});
	});

	it("accepts {tx_hash, amount, metadata}: confirmations unknown, status confirmed, user from metadata.user_id", () => {
		const result = parse({
			tx_hash: HASH,
			amount: "0.001",
			metadata: { user_id: USER.toUpperCase(), note: "smoke" },
		});
		expect(result).toMatchObject({
			ok: true,
			deposit: {
				confirmations: null,
				status: "confirmed",
				user_id: USER,
				to_address: null,
				block_number: null,
				log_index: 0,
				metadata: { user_id: USER.toUpperCase(), note: "smoke" },
			},
		});
	});

	it("keeps a metadata.user_id that is not a UUID as metadata only (no attribution)", () => {
		const result = parse({ tx_hash: HASH, amount: "1.0", metadata: { user_id: "test" } });
		expect(result).toMatchObject({ ok: true, deposit: { user_id: null, metadata: { user_id: "test" } } });
	});

	it("refuses a top-level user_id that disagrees with metadata.user_id", () => {
		const result = parse({
			tx_hash: HASH,
			amount: "1",
			user_id: USER,
			metadata: { user_id: "6f1c0b7e-1111-4222-8333-944455556666" },
		});
		expect(fieldsOf(result)).toEqual(["user_id"]);
	});

	it("ignores unknown top-level fields and treats null as absent", () => {
		const result = parse({
			tx_hash: HASH,
			amount: "5",
			timestamp: 1640995200,
			reason: "x",
			currency: null,
			status: null,
		});
		expect(result).toMatchObject({ ok: true, deposit: { currency: "USDT", status: "confirmed" } });
	});

	it("builds messages the queue contract accepts", () => {
		const result = parse(watcherDeposit());
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		const message = {
			v: 1,
			tx_id: "0b7a4f2e-8c1d-5e6f-9a0b-c1d2e3f4a5b6",
			...result.deposit,
			webhook_id: "msg_1",
			received_at: new Date().toISOString(),
		};
		expect(parseDepositMessage(message).success).toBe(true);
	});
});

describe("amounts are exact", () => {
	it.each([
		["20.5", "20.5"],
		["020.500", "20.5"],
		["0.00000001", "0.00000001"],
		["1.000000000", "1"],
		["9999999999999999999999.99999999", "9999999999999999999999.99999999"],
	])("canonicalises %s to %s", (input, expected) => {
		expect(canonicalAmount(input)).toEqual({ ok: true, value: expected });
	});

	it.each([
		["0", /greater than zero/],
		["0.000000000", /greater than zero/],
		["0.000000001", /8 decimals/],
		["12345678901234567890123", /22 integer digits/],
		["-1", /plain decimal/],
		["1e3", /plain decimal/],
		["1,5", /plain decimal/],
		[".5", /plain decimal/],
		["", /plain decimal/],
		["1".repeat(65), /plain decimal/],
	])("refuses %s", (input, message) => {
		const result = canonicalAmount(input);
		expect(result.ok).toBe(false);
		expect(!result.ok && result.message).toMatch(message);
	});

	it("converts a JSON number from its exact source text, never through a float", () => {
		expect(parse(`{"tx_hash":"${HASH}","amount":10.50}`)).toMatchObject({
			ok: true,
			deposit: { amount: "10.5" },
		});
		// 0.1 + 0.2 style digits survive: as a float this would print 1234567890123456.8.
		expect(parse(`{"tx_hash":"${HASH}","amount":1234567890123456.78901234}`)).toMatchObject({
			ok: true,
			deposit: { amount: "1234567890123456.78901234" },
		});
	});

	it("refuses JSON numbers it cannot hold exactly and says how to send them", () => {
		for (const amount of ["1e3", "-5", "0.123456789", "0"]) {
			const result = parse(`{"tx_hash":"${HASH}","amount":${amount}}`);
			expect(fieldsOf(result)).toEqual(["amount"]);
		}
	});

	it("does not touch numbers named amount inside metadata", () => {
		const result = parse(`{"tx_hash":"${HASH}","amount":1.5,"metadata":{"amount":2.50}}`);
		expect(result).toMatchObject({ ok: true, deposit: { amount: "1.5", metadata: { amount: 2.5 } } });
	});

	it("refuses spaces around an amount, as its message says (an amount is written exactly)", () => {
		for (const amount of [" 20.5", "20.5 ", "\t20.5\n", "20 .5"]) {
			const result = parse({ tx_hash: HASH, amount });
			expect(fieldsOf(result)).toEqual(["amount"]);
			expect(!result.ok && result.fields[0]?.message).toMatch(/no sign, exponent or spaces/);
		}
	});

	it("requires an amount of a decimal type", () => {
		expect(fieldsOf(parse({ tx_hash: HASH }))).toEqual(["amount"]);
		expect(fieldsOf(parse({ tx_hash: HASH, amount: true }))).toEqual(["amount"]);
		expect(fieldsOf(parse({ tx_hash: HASH, amount: ["1"] }))).toEqual(["amount"]);
	});
});

describe("hashes, addresses, chain, currency, status", () => {
	it("requires 0x + 64 hex on EVM chains", () => {
		for (const tx_hash of [undefined, "", "smoke-test-1", HASH.slice(2), `${HASH}0`, `0x${"g".repeat(64)}`]) {
			expect(fieldsOf(parse({ tx_hash, amount: "1" }, "erc20"))).toEqual(["tx_hash"]);
		}
	});

	it("accepts TRON hashes with or without 0x and stores them without it", () => {
		const bare = "cd".repeat(32);
		for (const tx_hash of [bare, `0x${bare}`, bare.toUpperCase()]) {
			expect(parse({ tx_hash, amount: "1" }, "trc20")).toMatchObject({
				ok: true,
				deposit: { tx_hash: bare },
			});
		}
	});

	it("validates addresses per chain", () => {
		const tron = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8";
		expect(parse({ tx_hash: "ab".repeat(32), amount: "1", to_address: tron }, "trc20")).toMatchObject({
			ok: true,
			deposit: { to_address: tron },
		});
		expect(
			fieldsOf(parse({ tx_hash: "ab".repeat(32), amount: "1", to_address: `0x${"a".repeat(40)}` }, "trc20")),
		).toEqual(["to_address"]);
		for (const to_address of ["0xrecipient123", tron, "", `0x${"a".repeat(41)}`, 42]) {
			expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", to_address }))).toEqual(["to_address"]);
		}
	});

	it("verifies a TRON address's base58check checksum and keeps its case", () => {
		const tron = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8";
		const tronHash = "ab".repeat(32);
		// One character changed, one letter's case changed, the whole address lower-cased.
		for (const to_address of [`${tron.slice(0, -1)}9`, tron.replace("R", "r"), tron.toLowerCase()]) {
			const result = parse({ tx_hash: tronHash, amount: "1", to_address }, "trc20");
			expect(result).toMatchObject({ ok: false, reason: "validation_failed" });
			expect(result.ok ? [] : result.fields).toEqual([
				{ path: "to_address", message: expect.stringMatching(/checksum|is not a TRON address/) },
			]);
		}
	});

	it("verifies an EVM address's EIP-55 checksum when its case is mixed, and lower-cases it", () => {
		// The EIP-55 specification's own examples.
		for (const checksummed of [
			"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
			"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
			"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
			"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
		]) {
			expect(parse({ tx_hash: HASH, amount: "1", to_address: checksummed })).toMatchObject({
				ok: true,
				deposit: { to_address: checksummed.toLowerCase() },
			});
		}
		const wrongCase = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", to_address: wrongCase }, "erc20"))).toEqual([
			"to_address",
		]);
	});

	it("refuses a body whose chain differs from the URL's", () => {
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", chain: "erc20" }))).toEqual(["chain"]);
		expect(parse({ tx_hash: HASH, amount: "1", chain: "BEP20" }).ok).toBe(true);
	});

	it("defaults the currency to USDT, upper-cases it and refuses others", () => {
		expect(parse({ tx_hash: HASH, amount: "1", currency: "usdt" })).toMatchObject({
			ok: true,
			deposit: { currency: "USDT" },
		});
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", currency: "BNB" }))).toEqual(["currency"]);
	});

	it.each([
		["pending", "pending"],
		["Confirmed", "confirmed"],
		["reorged", "removed"],
		["orphaned", "removed"],
		["dropped", "removed"],
		["failed", "removed"],
	])("maps status %s to %s", (status, expected) => {
		expect(parse({ tx_hash: HASH, amount: "1", status })).toMatchObject({
			ok: true,
			deposit: { status: expected },
		});
	});

	it("refuses an unknown status", () => {
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", status: "maybe" }))).toEqual(["status"]);
	});

	it("refuses names of Object's own properties as a status", () => {
		for (const status of ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"]) {
			expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", status }))).toEqual(["status"]);
		}
	});
});

describe("numbers and ids", () => {
	it("accepts whole numbers as JSON numbers or digit strings and bounds them", () => {
		expect(parse({ tx_hash: HASH, amount: "1", confirmations: "12", log_index: 3 })).toMatchObject({
			ok: true,
			deposit: { confirmations: 12, log_index: 3 },
		});
		for (const confirmations of [-1, 1.5, 2147483648, "1e3", "twelve", {}]) {
			expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", confirmations }))).toEqual(["confirmations"]);
		}
	});

	it("keeps every digit of a 64-bit block number and refuses one beyond bigint", () => {
		expect(parse(`{"tx_hash":"${HASH}","amount":"1","block_number":9223372036854775807}`)).toMatchObject({
			ok: true,
			deposit: { block_number: "9223372036854775807" },
		});
		expect(fieldsOf(parse(`{"tx_hash":"${HASH}","amount":"1","block_number":9223372036854775808}`))).toEqual([
			"block_number",
		]);
	});

	it("requires user_id to be a UUID", () => {
		expect(parse({ tx_hash: HASH, amount: "1", user_id: USER.toUpperCase() })).toMatchObject({
			ok: true,
			deposit: { user_id: USER },
		});
		for (const user_id of ["693173957", "", "test", 42]) {
			expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", user_id }))).toEqual(["user_id"]);
		}
	});
});

describe("metadata bounds", () => {
	const nest = (levels: number): unknown => (levels === 0 ? 1 : { a: nest(levels - 1) });

	it(`accepts ${METADATA_MAX_DEPTH} levels of nesting and refuses ${METADATA_MAX_DEPTH + 1}`, () => {
		expect(parse({ tx_hash: HASH, amount: "1", metadata: nest(METADATA_MAX_DEPTH) }).ok).toBe(true);
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", metadata: nest(METADATA_MAX_DEPTH + 1) }))).toEqual([
			"metadata",
		]);
	});

	it("refuses very deep nesting without running out of stack", () => {
		const deep = `{"tx_hash":"${HASH}","amount":"1","metadata":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`;
		expect(fieldsOf(parse(deep))).toEqual(["metadata"]);
	});

	it(`refuses metadata larger than ${METADATA_MAX_BYTES} bytes`, () => {
		expect(
			fieldsOf(parse({ tx_hash: HASH, amount: "1", metadata: { note: "x".repeat(METADATA_MAX_BYTES) } })),
		).toEqual(["metadata"]);
	});

	it("counts metadata size in UTF-8 bytes, not characters", () => {
		// 2,100 characters: under the limit as ASCII, over it as two-byte "é".
		expect(parse({ tx_hash: HASH, amount: "1", metadata: { note: "e".repeat(2100) } }).ok).toBe(true);
		expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", metadata: { note: "é".repeat(2100) } }))).toEqual([
			"metadata",
		]);
	});

	it("refuses metadata that is not an object", () => {
		for (const metadata of [[], "note", 5]) {
			expect(fieldsOf(parse({ tx_hash: HASH, amount: "1", metadata }))).toEqual(["metadata"]);
		}
	});

	it("keeps a __proto__ key as data", () => {
		const result = parse(`{"tx_hash":"${HASH}","amount":"1","metadata":{"__proto__":{"polluted":true}}}`);
		expect(result.ok).toBe(true);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
	});
});

describe("keys given twice", () => {
	it("refuses a key given twice anywhere, naming it, even when both copies agree", () => {
		const cases: [string, string][] = [
			[`{"tx_hash":"${HASH}","amount":"1","amount":"1000"}`, "amount"],
			[`{"tx_hash":"${HASH}","amount":"1","tx_hash":"${HASH}"}`, "tx_hash"],
			[`{"tx_hash":"${HASH}","amount":"1","metadata":{"note":"a","note":"b"}}`, "metadata.note"],
			[
				`{"tx_hash":"${HASH}","amount":"1","metadata":{"list":[{"k":1},{"k":2,"k":3}]}}`,
				"metadata.list[1].k",
			],
			// The same key spelled with an escape is the same key.
			[`{"tx_hash":"${HASH}","amount":"1","\u0061mount":"2"}`, "amount"],
			[`{"tx_hash":"${HASH}","amount":"1","user_id":null,"user_id":"${USER}"}`, "user_id"],
			[`{"tx_hash":"${HASH}","amount":"1","metadata":{"[1]":{"k":1,"k":2}}}`, "metadata.[1].k"],
		];
		for (const [body, field] of cases) {
			const result = parse(body);
			expect(result).toMatchObject({ ok: false, reason: "duplicate_key" });
			expect(fieldsOf(result)).toEqual([field]);
		}
	});

	it("does not mistake equal keys in different objects, or keys inside strings, for duplicates", () => {
		const metadata = { amount: "2", x: { amount: "3" }, s: '"amount":1,"amount":2', t: ["amount", "amount"] };
		expect(JSON.stringify(metadata)).toContain('\\"amount\\":1');
		expect(parse({ tx_hash: HASH, amount: "1", metadata }).ok).toBe(true);
	});
});

describe("what the ledger cannot store is refused, naming the field", () => {
	const withMetadata = (metadata: string) => `{"tx_hash":"${HASH}","amount":"1","metadata":${metadata}}`;

	it("refuses U+0000 in a metadata value or key, however it is written", () => {
		// As JSON escapes (a raw NUL is not valid JSON text at all: 400).
		for (const [metadata, field] of [
			[String.raw`{"note":"a\u0000b"}`, "metadata.note"],
			[String.raw`{"deep":{"list":["ok","\u0000"]}}`, "metadata.deep.list[1]"],
			[String.raw`{"a\u0000b":1}`, String.raw`metadata.a\u0000b`],
			// A key that looks like an index is still a key.
			[String.raw`{"[0]":{"x":"\u0000"}}`, "metadata.[0].x"],
		]) {
			const result = parse(withMetadata(metadata!));
			expect(result).toMatchObject({ ok: false, reason: "unstorable_text" });
			expect(fieldsOf(result)).toEqual([field]);
			expect(!result.ok && result.message).toMatch(/U\+0000|NUL/);
		}
	});

	it("refuses lone surrogates (a high half alone, a low half alone, halves swapped) and accepts pairs", () => {
		// As JSON escapes and as the raw code units a UTF-16 string can hold.
		const escaped = [String.raw`\ud800`, String.raw`x\udbffy`, String.raw`\udc00`, String.raw`\ude00\ud83d`];
		for (const text of [...escaped, "\ud800", "x\udbffy"]) {
			const result = parse(withMetadata(`{"note":"${text}"}`));
			expect(result).toMatchObject({ ok: false, reason: "unstorable_text" });
			expect(fieldsOf(result)).toEqual(["metadata.note"]);
			expect(!result.ok && result.message).toMatch(/lone surrogate/);
		}
		expect(parse(withMetadata(String.raw`{"note":"\ud83d\ude00 \u00e9 \uffff \u0001 \u007f"}`)).ok).toBe(
			true,
		);
	});

	it("refuses numbers JavaScript cannot hold exactly, which would be stored changed, and says to send strings", () => {
		for (const n of [
			"1e400",
			"-1e400",
			"12345678901234567890",
			"0.10000000000000000555",
			"1e-400",
			"0.99999999999999999999",
		]) {
			const result = parse(withMetadata(`{"n":${n}}`));
			expect(fieldsOf(result)).toEqual(["metadata.n"]);
			expect(!result.ok && result.message).toMatch(/send it as a string/);
		}
	});

	it("keeps numbers whose double is exactly what was written, however it was written", () => {
		for (const n of [
			"1.5",
			"1.50",
			"15e-1",
			"1e2",
			"-0",
			"5e-324",
			"1.7976931348623157e308",
			"9007199254740991",
			"693173957",
		]) {
			const result = parse(withMetadata(`{"n":${n}}`));
			expect(result).toMatchObject({ ok: true, deposit: { metadata: { n: Number(n) } } });
		}
	});
});

describe("malformed bodies", () => {
	it("answers 400 for text that is not JSON or not a JSON object", () => {
		for (const body of ["", "{", "nope", "[]", "null", '"text"', "12"]) {
			expect(parse(body)).toMatchObject({ ok: false, reason: "invalid_json", fields: [] });
		}
	});

	it("lists every wrong field, with a 422", () => {
		const result = parse({ tx_hash: "x", amount: "-1", currency: "EUR" });
		expect(result).toMatchObject({ ok: false, reason: "validation_failed" });
		expect(fieldsOf(result).sort()).toEqual(["amount", "currency", "tx_hash"]);
	});
});
