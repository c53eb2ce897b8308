/**
 * The smoke test of a running deployment, the original's `smoke_and_checks.sh` fixed: health;
 * register a fresh player and log in; a webhook for that player signed like a real sender's
 * (the original posted an unsigned body, as a GET, and never saw it credited); poll the
 * deposit's status until it is credited; the player's transactions list shows it. Each step is
 * recorded with its HTTP status and timing, for the JSON artifact.
 *
 * Exit codes: 0 passed; 2 health failed and 3 webhook refused (as the original); 4 register or
 * login failed; 5 the deposit was not credited in time; 6 the transactions list is wrong.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { signWebhook } from "../webhook-signing";

const SMOKE_EXIT = {
	passed: 0,
	health: 2,
	webhook: 3,
	account: 4,
	credit: 5,
	transactions: 6,
} as const;

interface SmokeOptions {
	host: string;
	/** Standard Webhooks secret (`whsec_…`) the edge Worker accepts. */
	secret: string;
	chain: string;
	amount: string;
	/** How long to wait for the credit, ms. */
	creditTimeoutMs: number;
	pollIntervalMs: number;
	/** Only the health step (for production, where a test deposit has no place). */
	healthOnly: boolean;
	log(line: string): void;
}

interface SmokeStep {
	step: string;
	status: "passed" | "failed" | "skipped";
	http_status: number | null;
	duration_ms: number;
	details: string;
	response?: unknown;
}

interface SmokeResult {
	status: "passed" | "failed";
	exit_code: number;
	host: string;
	started_at: string;
	finished_at: string;
	failed_step: string | null;
	user: { id: string; username: string } | null;
	tx_id: string | null;
	steps: SmokeStep[];
}

class StepFailed extends Error {
	constructor(
		message: string,
		readonly exitCode: number,
	) {
		super(message);
	}
}

interface Answer {
	status: number;
	body: unknown;
}

async function request(url: string, init: RequestInit = {}): Promise<Answer> {
	const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
	const text = await res.text();
	let body: unknown = text;
	try {
		body = JSON.parse(text);
	} catch {
		// Not JSON: keep the text for the artifact.
	}
	return { status: res.status, body };
}

/** `0.00100000` and `0.001` are the same amount: compare decimal strings without floats. */
export function sameAmount(a: string, b: string): boolean {
	const norm = (s: string) => {
		const [whole = "0", fraction = ""] = s.trim().split(".");
		return `${whole.replace(/^0+(?=\d)/, "")}.${fraction.replace(/0+$/, "")}`;
	};
	return norm(a) === norm(b);
}

const errorOf = (body: unknown) => {
	const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
	return e ? `${e.code}: ${e.message}` : JSON.stringify(body).slice(0, 200);
};

/** Runs the smoke test; never throws. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
	const host = options.host.replace(/\/+$/, "");
	const api = `${host}/api/v1`;
	const steps: SmokeStep[] = [];
	const result: SmokeResult = {
		status: "passed",
		exit_code: SMOKE_EXIT.passed,
		host,
		started_at: new Date().toISOString(),
		finished_at: "",
		failed_step: null,
		user: null,
		tx_id: null,
		steps,
	};
	const names = options.healthOnly
		? ["health"]
		: ["health", "register", "login", "webhook", "credit", "transactions"];
	let index = 0;

	async function step(
		name: string,
		exitCode: number,
		run: () => Promise<{ answer?: Answer; details: string }>,
	) {
		index++;
		const started = Date.now();
		const stamp = new Date().toISOString();
		options.log(`[${stamp}] ${index}/${names.length} ${name} …`);
		try {
			const { answer, details } = await run();
			steps.push({
				step: name,
				status: "passed",
				http_status: answer?.status ?? null,
				duration_ms: Date.now() - started,
				details,
				response: answer?.body,
			});
			options.log(`      ✓ ${details} (${Date.now() - started} ms)`);
		} catch (error) {
			const cause = (error as { cause?: { code?: string; message?: string } }).cause;
			const message =
				error instanceof StepFailed
					? error.message
					: `could not reach ${host}: ${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}`;
			steps.push({
				step: name,
				status: "failed",
				http_status: null,
				duration_ms: Date.now() - started,
				details: message,
			});
			options.log(`      ✗ ${message}`);
			throw new StepFailed(`${name}: ${message}`, error instanceof StepFailed ? error.exitCode : exitCode);
		}
	}

	try {
		await step("health", SMOKE_EXIT.health, async () => {
			const answer = await request(`${api}/health`);
			if (answer.status !== 200) {
				throw new StepFailed(
					`GET /api/v1/health answered ${answer.status}: ${errorOf(answer.body)}`,
					SMOKE_EXIT.health,
				);
			}
			return { answer, details: `GET /api/v1/health → 200` };
		});
		if (options.healthOnly) return finish();

		const username = `smoke_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
		const password = randomBytes(18).toString("base64url");
		await step("register", SMOKE_EXIT.account, async () => {
			const answer = await request(`${api}/auth/register`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ username, password }),
			});
			const user = answer.body as { id?: string; username?: string };
			if (answer.status !== 201 || !user.id) {
				throw new StepFailed(
					`POST /api/v1/auth/register answered ${answer.status}: ${errorOf(answer.body)}`,
					SMOKE_EXIT.account,
				);
			}
			result.user = { id: user.id, username };
			return { answer, details: `registered ${username} (${user.id})` };
		});

		let token = "";
		await step("login", SMOKE_EXIT.account, async () => {
			const answer = await request(`${api}/login`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ username, password }),
			});
			token = (answer.body as { access_token?: string }).access_token ?? "";
			if (answer.status !== 200 || !token) {
				throw new StepFailed(
					`POST /api/v1/login answered ${answer.status}: ${errorOf(answer.body)}`,
					SMOKE_EXIT.account,
				);
			}
			// The token is a credential: keep it out of the artifact.
			return { answer: { status: answer.status, body: { token_type: "Bearer" } }, details: "logged in" };
		});
		const auth = { authorization: `Bearer ${token}` };

		await step("webhook", SMOKE_EXIT.webhook, async () => {
			const payload = {
				tx_hash: `0x${randomBytes(32).toString("hex")}`,
				amount: options.amount,
				chain: options.chain,
				currency: "USDT",
				// Well past any chain's threshold: the deposit is final and must be credited.
				confirmations: 64,
				status: "confirmed",
				user_id: result.user!.id,
				metadata: { note: "smoke_test" },
			};
			const { headers, body } = signWebhook(options.secret, payload);
			const answer = await request(`${api}/webhooks/${options.chain}`, { method: "POST", headers, body });
			const txId = (answer.body as { tx_id?: string }).tx_id;
			if (answer.status !== 202 || !txId) {
				const hint = answer.status === 401 ? " (is the secret one of the Worker's WEBHOOK_SECRETS?)" : "";
				throw new StepFailed(
					`POST /api/v1/webhooks/${options.chain} answered ${answer.status}: ${errorOf(answer.body)}${hint}`,
					SMOKE_EXIT.webhook,
				);
			}
			result.tx_id = txId;
			return { answer, details: `202, tx_id ${txId}` };
		});

		await step("credit", SMOKE_EXIT.credit, async () => {
			const deadline = Date.now() + options.creditTimeoutMs;
			let last: Answer | undefined;
			for (let polls = 1; ; polls++) {
				last = await request(`${api}/transactions/${result.tx_id}`, { headers: auth });
				const status = (last.body as { status?: string }).status;
				if (last.status === 200 && status === "credited") {
					return { answer: last, details: `credited after ${polls} poll(s)` };
				}
				// Not settled yet: 404 (no deposit row yet) or pending. Anything else is final.
				if (!(last.status === 404 || (last.status === 200 && status === "pending"))) {
					throw new StepFailed(
						`GET /api/v1/transactions/${result.tx_id} answered ${last.status} with status "${status ?? errorOf(last.body)}", not credited`,
						SMOKE_EXIT.credit,
					);
				}
				if (Date.now() >= deadline) {
					throw new StepFailed(
						`not credited within ${options.creditTimeoutMs / 1000} s (last answer ${last.status}${status ? `, status "${status}"` : ""}); is the queue consumer running?`,
						SMOKE_EXIT.credit,
					);
				}
				await new Promise((r) => setTimeout(r, options.pollIntervalMs));
			}
		});

		await step("transactions", SMOKE_EXIT.transactions, async () => {
			const answer = await request(`${api}/transactions?type=deposit&limit=20`, { headers: auth });
			const items = (answer.body as { items?: { related_id?: string; amount?: string; type?: string }[] })
				.items;
			if (answer.status !== 200 || !Array.isArray(items)) {
				throw new StepFailed(
					`GET /api/v1/transactions answered ${answer.status}: ${errorOf(answer.body)}`,
					SMOKE_EXIT.transactions,
				);
			}
			const credit = items.find((i) => i.related_id === result.tx_id);
			if (!credit || !sameAmount(credit.amount ?? "", options.amount)) {
				throw new StepFailed(
					credit
						? `the ledger row for ${result.tx_id} has amount ${credit.amount}, not ${options.amount}`
						: `no ledger row for ${result.tx_id} among the player's ${items.length} deposit transaction(s)`,
					SMOKE_EXIT.transactions,
				);
			}
			return {
				answer,
				details: `${items.length} deposit transaction(s), including ${credit.amount} for ${result.tx_id}`,
			};
		});
		return finish();
	} catch (error) {
		const failed = error as StepFailed;
		result.status = "failed";
		result.exit_code = failed.exitCode;
		result.failed_step = steps.at(-1)?.step ?? null;
		for (const name of names.slice(steps.length)) {
			steps.push({
				step: name,
				status: "skipped",
				http_status: null,
				duration_ms: 0,
				details: "an earlier step failed",
			});
		}
		return finish();
	}

	function finish(): SmokeResult {
		result.finished_at = new Date().toISOString();
		return result;
	}
}
