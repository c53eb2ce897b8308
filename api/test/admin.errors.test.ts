import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { recordingQueue } from "../../test/support/queue";
import { randomTxHash } from "../../test/support/webhooks";
import {
	adminWithToken,
	call,
	count,
	expectError,
	json,
	registerUser,
	seedDeposit,
	sql,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

async function seedLetter(body: unknown) {
	const [row] = await sql().query(
		"INSERT INTO dead_letters (message_id, source, reason, body) VALUES ($1, 'consumer', 'invalid', $2::jsonb) RETURNING id",
		[`m-${crypto.randomUUID()}`, JSON.stringify(body)],
	);
	return row!.id as string;
}

const validBody = () => ({
	v: 1,
	tx_id: crypto.randomUUID(),
	chain: "bep20",
	tx_hash: randomTxHash(),
	log_index: 0,
	amount: "1",
	currency: "USDT",
	confirmations: null,
	status: "confirmed",
	to_address: null,
	user_id: null,
	block_number: null,
	metadata: null,
	webhook_id: "wh",
	received_at: "2026-11-01T10:00:00.000Z",
});

describe("assign errors change nothing", () => {
	it("answers 404 for an unknown deposit, 422 for an unknown user or a bad body", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const { queue, sent } = recordingQueue();
		const envOverrides = { DEPOSITS: queue };
		const txId = await seedDeposit({ status: "unmatched" });

		await expectError(
			await call(`/api/v1/admin/deposits/${crypto.randomUUID()}/assign`, {
				body: { user_id: user.id },
				token: admin.token,
				envOverrides,
			}),
			404,
			"not_found",
		);
		const unknownUser = await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				body: { user_id: crypto.randomUUID() },
				token: admin.token,
				envOverrides,
			}),
			422,
			"validation_failed",
		);
		expect(unknownUser.fields).toEqual([{ path: "user_id", message: "no such user" }]);
		await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				body: { user_id: "bob" },
				token: admin.token,
				envOverrides,
			}),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, { body: {}, token: admin.token, envOverrides }),
			422,
			"validation_failed",
		);
		await expectError(
			await call("/api/v1/admin/deposits/not-a-uuid/assign", {
				body: { user_id: user.id },
				token: admin.token,
				envOverrides,
			}),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				method: "POST",
				body: `user_id=${user.id}`,
				headers: { "content-type": "text/plain" },
				token: admin.token,
				envOverrides,
			}),
			415,
			"unsupported_media_type",
		);
		expect(sent).toEqual([]);
		expect(await count("audit_logs", "action <> 'admin.login'")).toBe(0);
	});

	it("refuses with 409 a deposit that is not unmatched (credited, pending, reversed)", async () => {
		const admin = await adminWithToken();
		const owner = await registerUser();
		const other = await registerUser();
		const { queue, sent } = recordingQueue();
		for (const status of ["credited", "pending", "reversed"] as const) {
			const txId = await seedDeposit({ status, userId: owner.id });
			const error = await expectError(
				await call(`/api/v1/admin/deposits/${txId}/assign`, {
					body: { user_id: other.id },
					token: admin.token,
					envOverrides: { DEPOSITS: queue },
				}),
				409,
				"conflict",
			);
			expect(error.deposit_status).toBe(status);
		}
		expect(sent).toEqual([]);
		// Each refused attempt is audited as refused, naming nobody as assigned but the owner.
		const audits = await sql().query(
			"SELECT details->>'outcome' AS outcome, details->>'assigned_user_id' AS assigned FROM audit_logs WHERE action = 'deposit.assign'",
		);
		expect(audits).toEqual([1, 2, 3].map(() => ({ outcome: "refused", assigned: owner.id })));
		expect(await count("deposits", "user_id = $1", [other.id])).toBe(0);
	});

	it("answers 503 with Retry-After when the queue refuses, and audits the failure", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const txId = await seedDeposit({ status: "unmatched" });
		const { queue } = recordingQueue({ fail: true });
		const res = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			body: { user_id: user.id },
			token: admin.token,
			envOverrides: { DEPOSITS: queue },
		});
		await expectError(res, 503, "service_unavailable");
		expect(res.headers.get("retry-after")).toBe("5");
		const actions = await sql().query(
			"SELECT action FROM audit_logs WHERE action LIKE 'deposit.%' ORDER BY created_at",
		);
		expect(actions.map((a) => a.action).sort()).toEqual(["deposit.assign", "deposit.assign_failed"]);
		// The claim stands (the player is the deposit's owner): another player cannot take it,
		// and the same assign, retried, sends the message.
		expect(
			await sql().query("SELECT status::text AS status, user_id FROM deposits WHERE id = $1", [txId]),
		).toEqual([{ status: "unmatched", user_id: user.id }]);
		const other = await registerUser();
		const taken = await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				body: { user_id: other.id },
				token: admin.token,
				envOverrides: { DEPOSITS: recordingQueue().queue },
			}),
			409,
			"conflict",
		);
		expect(taken).toMatchObject({ deposit_status: "unmatched", user_id: user.id });
		const retry = recordingQueue();
		const again = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			body: { user_id: user.id },
			token: admin.token,
			envOverrides: { DEPOSITS: retry.queue },
		});
		expect(again.status).toBe(202);
		expect((await json(again)).outcome).toBe("already_assigned");
		expect(retry.sent).toEqual([expect.objectContaining({ tx_id: txId, user_id: user.id })]);
	});

	it("answers 401 when the admin was deleted after logging in", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const txId = await seedDeposit({ status: "unmatched" });
		await sql().query("DELETE FROM admins WHERE id = $1", [admin.id]);
		const { queue, sent } = recordingQueue();
		await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				body: { user_id: user.id },
				token: admin.token,
				envOverrides: { DEPOSITS: queue },
			}),
			401,
			"unauthorized",
		);
		await expectError(
			await call("/api/v1/admin/deposit-addresses", {
				body: { user_id: user.id, chain: "bep20", address: "0x9999999999999999999999999999999999999999" },
				token: admin.token,
			}),
			401,
			"unauthorized",
		);
		expect(sent).toEqual([]);
		expect(await count("deposit_addresses")).toBe(0);
	});
});

describe("redrive errors", () => {
	it("answers 404 for an unknown letter and 409 for one already redriven", async () => {
		const admin = await adminWithToken();
		const { queue, sent } = recordingQueue();
		await expectError(
			await call(`/api/v1/admin/dead-letters/${crypto.randomUUID()}/redrive`, {
				method: "POST",
				token: admin.token,
				envOverrides: { DEPOSITS: queue },
			}),
			404,
			"not_found",
		);
		const id = await seedLetter(validBody());
		const first = await call(`/api/v1/admin/dead-letters/${id}/redrive`, {
			method: "POST",
			token: admin.token,
			envOverrides: { DEPOSITS: queue },
		});
		expect(first.status).toBe(202);
		const second = await expectError(
			await call(`/api/v1/admin/dead-letters/${id}/redrive`, {
				method: "POST",
				token: admin.token,
				envOverrides: { DEPOSITS: queue },
			}),
			409,
			"conflict",
		);
		expect(second.redriven_at).toEqual(expect.any(String));
		expect(sent).toHaveLength(1);
	});

	it("refuses with 422 a letter whose body still does not validate, and leaves it as it was", async () => {
		const admin = await adminWithToken();
		const { queue, sent } = recordingQueue();
		for (const body of [{ hello: "world" }, { ...validBody(), amount: "1e3" }, null, "text"]) {
			const id = await seedLetter(body);
			const error = await expectError(
				await call(`/api/v1/admin/dead-letters/${id}/redrive`, {
					method: "POST",
					token: admin.token,
					envOverrides: { DEPOSITS: queue },
				}),
				422,
				"validation_failed",
			);
			expect(error.fields).toEqual(expect.any(Array));
		}
		expect(sent).toEqual([]);
		expect(await count("dead_letters", "redriven_at IS NOT NULL")).toBe(0);
		expect(await count("audit_logs", "action LIKE 'dead_letter.%'")).toBe(0);
	});

	it("answers 503 when the queue refuses, releases the letter and audits the failure", async () => {
		const admin = await adminWithToken();
		const id = await seedLetter(validBody());
		const { queue } = recordingQueue({ fail: true });
		const res = await call(`/api/v1/admin/dead-letters/${id}/redrive`, {
			method: "POST",
			token: admin.token,
			envOverrides: { DEPOSITS: queue },
		});
		await expectError(res, 503, "service_unavailable");
		expect(await count("dead_letters", "redriven_at IS NULL")).toBe(1);
		const actions = await sql().query(
			"SELECT action FROM audit_logs WHERE action LIKE 'dead_letter.%' ORDER BY created_at, action",
		);
		expect(actions.map((a) => a.action).sort()).toEqual([
			"dead_letter.redrive",
			"dead_letter.redrive_failed",
		]);
		const retry = recordingQueue();
		const again = await call(`/api/v1/admin/dead-letters/${id}/redrive`, {
			method: "POST",
			token: admin.token,
			envOverrides: { DEPOSITS: retry.queue },
		});
		expect(again.status).toBe(202);
		expect(retry.sent).toHaveLength(1);
	});

	it("lets only one of two concurrent redrives of a letter through", async () => {
		const admin = await adminWithToken();
		const id = await seedLetter(validBody());
		const { queue, sent } = recordingQueue();
		const results = await Promise.all(
			[1, 2].map(() =>
				call(`/api/v1/admin/dead-letters/${id}/redrive`, {
					method: "POST",
					token: admin.token,
					envOverrides: { DEPOSITS: queue },
				}),
			),
		);
		expect(results.map((r) => r.status).sort()).toEqual([202, 409]);
		expect(sent).toHaveLength(1);
	});
});
