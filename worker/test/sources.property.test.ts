/**
 * Property-based tests (fast-check) of every webhook source, inside workerd: the Svix header
 * names, the original senders' X-Signature, Moralis Streams and Alchemy Notify. Whatever the
 * body and headers, the answer is never a 5xx, nothing refused is enqueued, and a 202 enqueues
 * exactly the deposits it lists, each a message the queue contract accepts. Valid provider
 * payloads never lose a transfer: each USDT transfer is a deposit with its exact amount, or
 * held for review; every other one is listed as ignored.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HeldTransfer } from "../../schema/held-transfer";
import { parseDepositMessage } from "../../schema/queue-message";
import { fromBaseUnits } from "../../shared/decimal";
import { recordingQueue } from "../../test/support/queue";
import { legacyInit, svixInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { app } from "../src/app";
import {
	ALCHEMY_URL,
	alchemyActivity,
	alchemyInit,
	alchemyPayload,
	MORALIS_URL,
	moralisInit,
	moralisPayload,
	moralisTransfer,
	USDT_BSC,
} from "./support/providers";

/** Runs per property: enough to find the classic mistakes, bounded so the suite stays fast. */
const RUNS = 60;

type Answer = {
	ok: boolean;
	tx_id?: string;
	duplicate?: boolean;
	deposits?: { tx_id: string; amount: string }[];
	held?: { tx_id: string }[];
	ignored?: unknown[];
	error?: { code: string; message: string };
};

async function deliver(url: string, init: RequestInit) {
	const deposits = recordingQueue({ forwardTo: env.DEPOSITS });
	const letters = recordingQueue({ forwardTo: env.DEAD_LETTERS });
	const res = await app.request(url, init, { ...env, DEPOSITS: deposits.queue, DEAD_LETTERS: letters.queue });
	return {
		status: res.status,
		body: (await res.json()) as Answer,
		sent: deposits.sent,
		held: letters.sent as unknown as HeldTransfer[],
	};
}

/** The invariant every answer keeps, for every source. */
function expectConsistent({ status, body, sent, held }: Awaited<ReturnType<typeof deliver>>) {
	expect(status).toBeLessThan(500);
	if (status === 202) {
		for (const m of sent) expect(parseDepositMessage(m).success).toBe(true);
		const listed = body.deposits ? body.deposits.map((d) => d.tx_id) : [body.tx_id];
		expect(sent.map((m) => m.tx_id)).toEqual(listed);
		expect(held.map((h) => h.tx_id)).toEqual((body.held ?? []).map((h) => h.tx_id));
		expect(sent.length + held.length).toBeGreaterThan(0);
	} else {
		expect(sent).toEqual([]);
		expect(held).toEqual([]);
		if (status >= 400)
			expect(body).toMatchObject({
				ok: false,
				error: { code: expect.any(String), message: expect.any(String) },
			});
	}
}

const anyJson = fc.jsonValue({ maxDepth: 3 });
const anyText = fc.oneof(
	fc.string({ maxLength: 200 }),
	fc.string({ unit: "binary", maxLength: 200 }),
	anyJson.map((v) => JSON.stringify(v)),
);

/** A valid Moralis payload of a few transfers, some of them not USDT deposits. */
const moralisBlock = fc
	.array(
		fc.record({
			raw: fc.oneof(
				fc.bigInt({ min: 0n, max: 10n ** 30n }),
				fc.bigInt({ min: 1n, max: 10n ** 10n }).map((n) => n * 10n ** 10n),
			),
			foreign: fc.boolean(),
			outgoing: fc.boolean(),
			logIndex: fc.nat({ max: 10_000 }),
		}),
		{ minLength: 1, maxLength: 8 },
	)
	.map((items) => ({
		confirmed: items[0]!.logIndex % 2 === 0,
		items: items.map((item, i) => ({ ...item, logIndex: item.logIndex * 10 + i })),
	}));

describe("every source under arbitrary input", () => {
	it("never fails or enqueues on arbitrary bodies signed by any source", async () => {
		await fc.assert(
			fc.asyncProperty(
				anyText,
				fc.constantFrom("svix", "legacy", "moralis", "alchemy"),
				async (text, source) => {
					const outcome =
						source === "svix"
							? await deliver(WEBHOOK_URL, svixInit(text))
							: source === "legacy"
								? await deliver(WEBHOOK_URL, await legacyInit(text))
								: source === "moralis"
									? await deliver(MORALIS_URL, moralisInit(text))
									: await deliver(ALCHEMY_URL, await alchemyInit(text));
					expectConsistent(outcome);
					if (source === "moralis" || source === "alchemy") expect(outcome.status).not.toBe(202);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("refuses arbitrary signature headers on the provider routes with 401", async () => {
		const header = fc.option(fc.string({ maxLength: 100 }), { nil: undefined });
		const body = JSON.stringify(moralisPayload([moralisTransfer({ to: `0x${"1".repeat(40)}`, value: "1" })]));
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(MORALIS_URL, ALCHEMY_URL),
				header,
				header,
				async (url, signature, alchemy) => {
					const headers: Record<string, string> = { "content-type": "application/json" };
					if (signature !== undefined) headers["x-signature"] = signature;
					if (alchemy !== undefined) headers["x-alchemy-signature"] = alchemy;
					const outcome = await deliver(url, { method: "POST", headers, body });
					expectConsistent(outcome);
					expect(outcome.status).toBe(401);
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("stays consistent when any field of a provider's transfer gets a value of another type", async () => {
		const transferKeys = Object.keys(moralisTransfer({ to: `0x${"2".repeat(40)}`, value: "1" }));
		const activityKeys = Object.keys(alchemyActivity({ to: `0x${"3".repeat(40)}`, raw: 1n }));
		await fc.assert(
			fc.asyncProperty(
				fc.boolean(),
				fc.nat(),
				fc.oneof(anyJson, fc.string({ unit: "binary" }), fc.double()),
				async (moralis, pick, value) => {
					if (moralis) {
						const transfer = moralisTransfer({ to: `0x${"2".repeat(40)}`, value: "5000000000000000000" });
						const key = transferKeys[pick % transferKeys.length]!;
						expectConsistent(
							await deliver(MORALIS_URL, moralisInit(moralisPayload([{ ...transfer, [key]: value }]))),
						);
					} else {
						const activity = alchemyActivity({ to: `0x${"3".repeat(40)}`, raw: 5_000_000n });
						const key = activityKeys[pick % activityKeys.length]!;
						expectConsistent(
							await deliver(ALCHEMY_URL, await alchemyInit(alchemyPayload([{ ...activity, [key]: value }]))),
						);
					}
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("stays consistent when a field of our own format gets any value, under the Svix names and X-Signature", async () => {
		const fields = Object.keys(watcherDeposit());
		await fc.assert(
			fc.asyncProperty(
				fc.constantFrom(...fields),
				fc.oneof(anyJson, fc.string({ unit: "binary" })),
				fc.boolean(),
				async (field, value, svix) => {
					const deposit = watcherDeposit({ [field]: value });
					expectConsistent(await deliver(WEBHOOK_URL, svix ? svixInit(deposit) : await legacyInit(deposit)));
				},
			),
			{ numRuns: RUNS },
		);
	});

	it("never loses a transfer of a valid Moralis block: each is a deposit with its exact amount, held, or ignored", async () => {
		await fc.assert(
			fc.asyncProperty(moralisBlock, async ({ confirmed, items }) => {
				const watched = `0x${crypto.randomUUID().replaceAll("-", "").padEnd(40, "a")}`;
				const transfers = items.map((item) =>
					moralisTransfer({
						to: item.outgoing ? `0x${"9".repeat(40)}` : watched,
						from: watched,
						triggered_by: [watched],
						value: item.raw.toString(),
						contract: item.foreign ? `0x${"8".repeat(40)}` : USDT_BSC,
						logIndex: String(item.logIndex),
					}),
				);
				const outcome = await deliver(MORALIS_URL, moralisInit(moralisPayload(transfers, { confirmed })));
				expectConsistent(outcome);
				expect([200, 202]).toContain(outcome.status);
				const { deposits = [], held = [], ignored = [] } = outcome.body;
				expect(deposits.length + held.length + ignored.length).toBe(items.length);
				const expected = items
					.filter((i) => !i.foreign && !i.outgoing && i.raw > 0n)
					.map((i) => fromBaseUnits(i.raw, 18))
					.filter((a) => !/\.\d{9,}$/.test(a) && a.split(".")[0]!.length <= 22);
				expect(deposits.map((d) => d.amount)).toEqual(expected);
				for (const m of outcome.sent)
					expect(m).toMatchObject({ status: confirmed ? "confirmed" : "pending", to_address: watched });
			}),
			{ numRuns: RUNS },
		);
	});
});
