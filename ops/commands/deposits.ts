/**
 * `ops deposits list|review|assign|attribute`: the admin review of deposits settlement could not
 * finish on its own, through the edge Worker's admin API (which audits every action):
 *
 * - `list [--status held] [--hold-reason r]`: deposits in a state, newest first, with why they
 *   are held;
 * - `review <tx_id> --reject|--release --reason "…" [--user-id owner]`: resolve a held deposit;
 * - `assign <tx_id> --user-id p`: give one parked deposit to a player;
 * - `attribute --chain c --address a --user-id p [--apply]`: list the deposits parked for an
 *   address (dry run), or move exactly those listed to the player who holds it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type AdminApi, AdminApiError, adminLogin, describeError } from "../admin-api";
import { parseNumber } from "../rollout/plan";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

interface Deposit {
	tx_id: string;
	status: string;
	chain: string;
	amount: string;
	currency: string;
	user_id: string | null;
	hold_reason: string | null;
	hold_detail: unknown;
	first_seen_at: string;
	review: { decision: string; reason: string } | null;
}

const OPTIONS = {
	...adminLogin.options,
	status: { type: "string", default: "held" },
	"hold-reason": { type: "string" },
	limit: { type: "string", default: "50" },
	json: { type: "boolean", default: false },
	reject: { type: "boolean", default: false },
	release: { type: "boolean", default: false },
	reason: { type: "string" },
	"user-id": { type: "string" },
	chain: { type: "string" },
	address: { type: "string" },
	apply: { type: "boolean", default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>["values"];

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function requireId(what: string, id: string | undefined): string {
	if (!id || !UUID.test(id)) throw new UsageError(`${what} must be a UUID${id ? `, not "${id}"` : ""}`);
	return id;
}

/** The refusal the API gave, as one line. */
function refused(what: string, status: number, body: unknown): AdminApiError | null {
	if (status === 503)
		return new AdminApiError(`${what}: ${describeError(body)} (answered 503; run it again)`);
	return null;
}

async function list(api: AdminApi, values: Values): Promise<number> {
	const query = new URLSearchParams({
		status: values.status ?? "held",
		limit: String(parseNumber("--limit", values.limit ?? "50", 1, 100)),
	});
	if (values["hold-reason"]) query.set("hold_reason", values["hold-reason"]);
	const { status, body } = await api.get<{ items: Deposit[] }>(`/admin/deposits?${query}`);
	if (status !== 200) throw new AdminApiError(`listing deposits answered ${status}: ${describeError(body)}`);
	if (values.json) {
		console.log(JSON.stringify(body.items, null, 2));
		return 0;
	}
	if (!body.items.length) {
		console.log(`no ${query.get("status")} deposits`);
		return 0;
	}
	const rows = body.items.map((d) => [
		d.tx_id,
		d.first_seen_at,
		d.chain,
		`${d.amount} ${d.currency}`,
		d.user_id ?? "-",
		d.hold_reason ?? "-",
		d.review ? `${d.review.decision}: ${d.review.reason}` : "",
	]);
	console.log(
		formatTable(["TX_ID", "FIRST_SEEN", "CHAIN", "AMOUNT", "OWNER", "HOLD_REASON", "REVIEW"], rows),
	);
	console.log(`${rows.length} ${query.get("status")} deposit(s) (first page; --json for hold details)`);
	return 0;
}

async function review(api: AdminApi, txId: string, values: Values): Promise<number> {
	if (values.reject === values.release)
		throw new UsageError("review needs exactly one of --reject or --release");
	if (!values.reason)
		throw new UsageError('review needs --reason "…" (why; stored with the decision and audited)');
	const decision = values.reject ? "reject" : "release";
	const userId = values["user-id"];
	const { status, body } = await api.post<Record<string, unknown>>(`/admin/deposits/${txId}/review`, {
		decision,
		reason: values.reason,
		...(userId ? { user_id: userId } : {}),
	});
	const down = refused(`reviewing ${txId}`, status, body);
	if (down) throw down;
	if (status !== 200 && status !== 202) {
		console.log(`${txId}: ✗ not ${decision}d: ${describeError(body)}`);
		return 1;
	}
	console.log(`${txId}: ✓ ${body.outcome}, now ${body.status} (audit ${body.audit_log_id})`);
	return 0;
}

async function assign(api: AdminApi, txId: string, values: Values): Promise<number> {
	const userId = requireId("--user-id", values["user-id"]);
	const { status, body } = await api.post<Record<string, unknown>>(`/admin/deposits/${txId}/assign`, {
		user_id: userId,
	});
	const down = refused(`assigning ${txId}`, status, body);
	if (down) throw down;
	if (status !== 202) {
		console.log(`${txId}: ✗ not assigned: ${describeError(body)}`);
		return 1;
	}
	console.log(`${txId}: ✓ ${body.outcome} to ${userId}; settlement credits it (audit ${body.audit_log_id})`);
	return 0;
}

async function attribute(api: AdminApi, values: Values): Promise<number> {
	const userId = requireId("--user-id", values["user-id"]);
	if (!values.chain || !values.address) throw new UsageError("attribute needs --chain and --address");
	const target = { chain: values.chain, address: values.address, user_id: userId };
	const plan = await api.post<{
		deposits: { tx_id: string; amount: string; currency: string; chain: string }[];
		more: boolean;
	}>("/admin/deposits/attribute", target);
	if (plan.status !== 200) {
		console.log(`✗ ${describeError(plan.body)}`);
		return 1;
	}
	const listed = plan.body.deposits;
	for (const d of listed) console.log(`  ${d.tx_id}  ${d.chain}  ${d.amount} ${d.currency}`);
	console.log(
		`${listed.length} parked deposit(s) to ${values.address}${plan.body.more ? " (more after these: run again)" : ""}`,
	);
	if (!values.apply) {
		if (listed.length) console.log("dry run: nothing moved; --apply moves exactly these to the player");
		return 0;
	}
	if (!listed.length) return 0;
	const { status, body } = await api.post<Record<string, unknown>>("/admin/deposits/attribute", {
		...target,
		apply: true,
		tx_ids: listed.map((d) => d.tx_id),
	});
	const down = refused("attributing", status, body);
	if (down) throw down;
	if (status !== 202) {
		console.log(`✗ none moved: ${describeError(body)}`);
		return 1;
	}
	console.log(`✓ ${listed.length} moved to ${userId}; settlement credits them (audit ${body.audit_log_id})`);
	return 0;
}

export const deposits: Command = {
	summary: "review held and parked deposits: list, review (reject/release), assign, attribute (admin API)",
	help: `usage: npm run ops -- deposits list [--status held] [--hold-reason <r>] [--json]
       npm run ops -- deposits review <tx_id> --reject|--release --reason "…" [--user-id <owner>]
       npm run ops -- deposits assign <tx_id> --user-id <player>
       npm run ops -- deposits attribute --chain <c> --address <a> --user-id <player> [--apply]

list       deposits in a state (default held), newest first, with why they are held
review     resolve a held deposit: --reject (final, never credited: the answer to a chain
           mismatch) or --release (back to settlement; --user-id must confirm the owner fixed on
           the deposit, and where the chain is checked it is checked again). --reason is required
assign     give one unmatched (parked) deposit to a player; refused when it is not parked or
           another admin was first
attribute  the deposits parked for an address, to the player who holds it: a dry run lists
           them; --apply then moves exactly those listed (none if any of them changed)
Every action is audited by the API.

${adminLogin.help}

Exit codes:
  0  done
  1  the API refused the action (its reason is printed)
  2  usage error
  4  the API could not be reached, refused the credentials, or was unavailable (503: retry)`,
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
		const [action, id, ...rest] = positionals;
		const actions = ["list", "review", "assign", "attribute"];
		if (!action || !actions.includes(action)) {
			throw new UsageError(
				`deposits needs an action: ${actions.join(", ")}${action ? `, not "${action}"` : ""}`,
			);
		}
		if (rest.length || ((action === "list" || action === "attribute") && id)) {
			throw new UsageError(
				`deposits ${action} takes ${action === "review" || action === "assign" ? "one tx_id" : "no tx_id"}`,
			);
		}
		const txId = action === "review" || action === "assign" ? requireId("the tx_id", id) : "";
		try {
			const api = await adminLogin.api(values);
			if (action === "list") return await list(api, values);
			if (action === "review") return await review(api, txId, values);
			if (action === "assign") return await assign(api, txId, values);
			return await attribute(api, values);
		} catch (error) {
			if (error instanceof AdminApiError) {
				console.error(`error: ${error.message}`);
				return 4;
			}
			throw error;
		}
	},
};
