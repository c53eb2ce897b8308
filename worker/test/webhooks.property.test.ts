/**
 * Property-based tests (fast-check) of the webhook route as a whole, inside workerd: whatever
 * the body and headers, the answer is never a 5xx, and a message is enqueued exactly when the
 * answer is 202 (then it satisfies the queue contract and carries the answered tx_id).
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHAINS, parseDepositMessage } from "../../schema/queue-message";
import { METADATA_MAX_BYTES, METADATA_MAX_DEPTH } from "../../shared/webhook/payload";
import { TEST_LEGACY_SECRET } from "../../test/projects";
import { recordingQueue } from "../../test/support/queue";
import { BASE, legacySignature, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { app, MAX_BODY_BYTES } from "../src/app";

/** Runs per property: enough to find the classic mistakes, bounded so the suite stays fast. */
const RUNS = 150;

interface Outcome {
	status: number;
	sent: unknown[];
	body: unknown;
}

async function deliver(init: RequestInit, url = WEBHOOK_URL): Promise<Outcome> {
	const { queue, sent } = recordingQueue({ forwardTo: env.DEPOSITS });
	const res = await app.request(url, init, { ...env, DEPOSITS: queue });
	return { status: res.status, sent, body: await res.json() };
}

/** The invariant every answer keeps. */
function expectConsistent({ status, sent, body }: Outcome) {
	expect(status).toBeLessThan(500);
	if (status === 202) {
		expect(sent).toHaveLength(1);
		const parsed = parseDepositMessage(sent[0]);
		expect(parsed.success).toBe(true);
		expect(parsed.data?.tx_id).toBe((body as { tx_id: string }).tx_id);
	} else {
		expect(sent).toEqual([]);
		expect(body).toMatchObject({
			ok: false,
			error: { code: expect.any(String), message: expect.any(String) },
		});
	}
}

function expectRefused(outcome: Outcome) {
	expectConsistent(outcome);
	expect(outcome.status).toBeGreaterThanOrEqual(400);
}

const hex = (length: number) =>
	fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: length, maxLength: length });
const evmHash = hex(64).map((h) => `0x${h}`);
const amount = fc
	.tuple(fc.bigInt({ min: 0n, max: 10n ** 22n - 1n }), fc.integer({ min: 0, max: 99_999_999 }))
	.filter(([i, f]) => i > 0n || f > 0)
	.map(([i, f]) => `${i}.${String(f).padStart(8, "0")}`);
const validDeposit = fc.record(
	{
		tx_hash: evmHash,
		amount,
		confirmations: fc.oneof(fc.constant(null), fc.nat({ max: 2_147_483_647 })),
		log_index: fc.nat({ max: 2_147_483_647 }),
		to_address: fc.oneof(
			fc.constant(null),
			// Lower case: a mixed-case EVM address must carry its EIP-55 checksum.
			hex(40).map((h) => `0x${h.toLowerCase()}`),
		),
		status: fc.constantFrom("pending", "confirmed", "removed", "reorged", "dropped", null),
		user_id: fc.oneof(fc.constant(null), fc.uuid()),
		block_number: fc.oneof(fc.constant(null), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String)),
		metadata: fc.oneof(
			fc.constant(null),
			fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
		),
	},
	{ requiredKeys: ["tx_hash", "amount"] },
);

describe("webhook intake under arbitrary input", () => {
	it("accepts every valid deposit once, with a message the consumer accepts", async () => {
		await fc.assert(
			fc.asyncProperty(validDeposit, async (deposit) => {
				// A metadata.user_id that is a UUID and differs from user_id is a (correct) refusal: avoid it here.
				if (deposit.metadata && "user_id" in deposit.metadata) delete deposit.metadata.user_id;
				fc.pre(new TextEncoder().encode(JSON.stringify(deposit.metadata ?? {})).length <= METADATA_MAX_BYTES);
				const outcome = await deliver(signedInit(deposit));
				expectConsistent(outcome);
				expect(outcome.status).toBe(202);
			}),
			{ numRuns: RUNS },
		);
	});

	it("never fails or enqueues on arbitrary signed bodies (text, JSON of any shape, raw bytes)", async () => {
		const body = fc.oneof(
			fc.string({ maxLength: 300 }),
			fc.string({ unit: "binary", maxLength: 300 }),
			fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
		);
		await fc.assert(
			fc.asyncProperty(body, async (text) => expectConsistent(await deliver(signedInit(text)))),
			{ numRuns: RUNS },
		);
		await fc.assert(
			fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
				const headers = {
					"content-type": "application/json",
					"x-signature": await legacySignature(TEST_LEGACY_SECRET, bytes),
				};
				expectConsistent(await deliver({ method: "POST", headers, body: bytes }));
			}),
			{ numRuns: RUNS },
		);
	});

	it("refuses with 422 naming the field whatever the ledger cannot store, wherever it is in metadata", async () => {
		const unstorable = fc.constantFrom("\u0000", "\ud800", "\udfff", "\udc00\ud800");
		await fc.assert(
			fc.asyncProperty(
				fc.string({ maxLength: 20 }),
				unstorable,
				fc.string({ maxLength: 20 }),
				fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: METADATA_MAX_DEPTH - 1 }),
				fc.boolean(),
				async (before, bad, after, path, inKey) => {
					let metadata: Record<string, unknown> = inKey
						? { [`${before}${bad}${after}`]: 1 }
						: { x: `${before}${bad}${after}` };
					for (const key of path.slice().reverse()) metadata = { [key]: metadata };
					const outcome = await deliver(signedInit(watcherDeposit({ metadata })));
					expectRefused(outcome);
					expect(outcome.status).toBe(422);
					const fields = (outcome.body as { error: { fields: { path: string }[] } }).error.fields;
					expect(fields[0]!.path.startsWith(`metadata.${path.join(".")}.`)).toBe(true);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("refuses a valid body truncated anywhere", async () => {
		const text = JSON.stringify(watcherDeposit());
		await fc.assert(
			fc.asyncProperty(fc.nat({ max: text.length - 1 }), async (cut) =>
				expectRefused(await deliver(signedInit(text.slice(0, cut)))),
			),
			{ numRuns: RUNS },
		);
	});

	it("stays consistent when any field gets a value of another type, and refuses an object or array in place of a plain field", async () => {
		const fields = Object.keys(watcherDeposit());
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...fields),
				fc.oneof(
					fc.jsonValue({ maxDepth: 3 }),
					fc.string({ unit: "binary" }),
					fc.double(),
					fc.bigInt().map(String),
				),
				async (field, value) => {
					const outcome = await deliver(signedInit(watcherDeposit({ [field]: value })));
					expectConsistent(outcome);
					if (field !== "metadata" && typeof value === "object" && value !== null) expectRefused(outcome);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("refuses deep nesting in any field", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom("tx_hash", "amount", "metadata", "user_id", "confirmations"),
				fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 20_000 })),
				fc.constantFrom("[", '{"a":'),
				async (field, depth, open) => {
					const close = open === "[" ? "]" : "}";
					const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
					const base = JSON.stringify(watcherDeposit({ [field]: "__HOLE__" }));
					const outcome = await deliver(signedInit(base.replace('"__HOLE__"', nested)));
					// Shallow metadata is legitimately accepted; everything else is refused.
					if (!(field === "metadata" && open !== "[" && depth <= METADATA_MAX_DEPTH)) expectRefused(outcome);
					else expectConsistent(outcome);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("refuses oversized bodies with 413, whatever they hold", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 4 }),
				fc.boolean(),
				async (size, json) => {
					const text = json
						? JSON.stringify(watcherDeposit({ metadata: { pad: "x".repeat(size) } }))
						: "x".repeat(size);
					const outcome = await deliver(signedInit(text));
					expectRefused(outcome);
					expect(outcome.status).toBe(413);
				},
			),
			{ numRuns: 25 },
		);
	});

	it("refuses arbitrary signature headers with 401", async () => {
		const header = fc.option(fc.string({ maxLength: 120 }), { nil: undefined });
		await fc.assert(
			fc.asyncProperty(header, header, header, header, async (id, timestamp, signature, legacy) => {
				const headers: Record<string, string> = { "content-type": "application/json" };
				if (id !== undefined) headers["webhook-id"] = id;
				if (timestamp !== undefined) headers["webhook-timestamp"] = timestamp;
				if (signature !== undefined) headers["webhook-signature"] = signature;
				if (legacy !== undefined) headers["x-signature"] = legacy;
				const outcome = await deliver({ method: "POST", headers, body: JSON.stringify(watcherDeposit()) });
				expectRefused(outcome);
				expect(outcome.status).toBe(401);
			}),
			{ numRuns: RUNS },
		);
	});

	it("refuses signed requests to arbitrary chains with 404", async () => {
		await fc.assert(
			fc.asyncProperty(fc.string({ minLength: 1, maxLength: 30 }), async (chain) => {
				const url = `${BASE}/api/v1/webhooks/${encodeURIComponent(chain)}`;
				const outcome = await deliver(signedInit(watcherDeposit()), url);
				if ((CHAINS as readonly string[]).includes(chain.toLowerCase())) return;
				expectRefused(outcome);
				expect(outcome.status).toBe(404);
			}),
			{ numRuns: RUNS },
		);
	});
});
