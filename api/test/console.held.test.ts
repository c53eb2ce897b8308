/**
 * The console's held queue: a held deposit listed with why, rejected with a reason through the
 * review API (audited, never credited); a post without the CSRF token or with too short a
 * reason changes nothing.
 */
import { describe, expect, it } from "vitest";
import { count, seedDeposit, sql } from "./support/accounts";
import { signedIn } from "./support/console";

async function heldDeposit() {
	const txId = await seedDeposit({ status: "pending", amount: "4.25", confirmations: 12 });
	await sql().query("UPDATE deposits SET status = 'held', hold_reason = 'chain_mismatch' WHERE id = $1", [
		txId,
	]);
	return txId;
}
const status = async (txId: string) =>
	(await sql().query("SELECT status::text AS status FROM deposits WHERE id = $1", [txId]))[0]!.status;

describe("the console's held queue", () => {
	it("lists a held deposit and rejects it with a reason; without the token or a reason nothing changes", async () => {
		const { browser } = await signedIn();
		const txId = await heldDeposit();
		const page = await (await browser.request("/console/held")).text();
		expect(page).toContain(txId);
		expect(page).toContain("chain_mismatch");
		const path = `/console/deposits/${txId}/review`;
		expect(
			(
				await browser.request(path, {
					form: { decision: "reject", reason: "the chain has no such transfer" },
				})
			).status,
		).toBe(403);
		const csrf = await browser.csrf("/console/held");
		const short = await browser.request(path, { form: { csrf, decision: "reject", reason: "no" } });
		expect(short.status).toBe(422);
		// The notice names the failing field, as the API's answer lists it.
		expect(await short.text()).toContain("reason: say why, in at least 10 characters");
		expect(await status(txId)).toBe("held");
		const res = await browser.request(path, {
			form: { csrf, decision: "reject", reason: "the chain has no such transfer" },
		});
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/console/held?done=rejected");
		expect(await status(txId)).toBe("rejected");
		expect(
			await count("audit_logs", "action = 'deposit.review' AND details->>'tx_id' = $1", [txId]),
		).toBeGreaterThanOrEqual(1);
		expect(await count("transactions", "related_id = $1", [txId])).toBe(0);
	});
});
