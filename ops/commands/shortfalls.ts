/**
 * `ops shortfalls list|resolve`: the reversals a wallet could not cover in full, whose players are
 * frozen, through the edge Worker's admin API (the console's *Shortfalls* page does the same):
 *
 * - `list`: the open shortfalls, oldest first, with the player and their status;
 * - `resolve <id> --note "…" [--keep-frozen]`: record what was done about the money and unfreeze
 *   the player once none of their shortfalls is open. Audited; of two admins at once one wins.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { AdminApiError, adminLogin, describeError } from "../admin-api";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

interface Shortfall {
	id: string;
	tx_id: string;
	shortfall: string;
	currency: string;
	user_id: string | null;
	username: string | null;
	user_status: string | null;
	open_for_player: number;
	created_at: string;
}

const OPTIONS = {
	...adminLogin.options,
	note: { type: "string" },
	"keep-frozen": { type: "boolean", default: false },
	json: { type: "boolean", default: false },
} as const;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const shortfalls: Command = {
	summary: "reversal shortfalls (frozen players): list, resolve with a note and unfreeze (admin API)",
	help: `usage: npm run ops -- shortfalls list [--json]
       npm run ops -- shortfalls resolve <id> --note "…" [--keep-frozen]

list      the open shortfalls, oldest first: the deposit, how much the reversal could not take
          back, the player and their status
resolve   record what was done (recovered, written off, …); the ledger does not move. The player
          becomes ACTIVE again once none of their shortfalls is open, unless --keep-frozen
          (a player frozen for another reason, not by a shortfall, stays frozen).
          Audited; a shortfall already resolved is refused

${adminLogin.help}

Exit codes: 0 done · 1 the API refused (its reason is printed) · 2 usage error · 4 the API could
not be reached, refused the credentials, or was unavailable (503: retry)`,
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
		const [action, id, ...rest] = positionals;
		if (action !== "list" && action !== "resolve") {
			throw new UsageError(`shortfalls needs an action: list or resolve${action ? `, not "${action}"` : ""}`);
		}
		if (rest.length || (action === "list" && id))
			throw new UsageError(`shortfalls ${action}: too many arguments`);
		if (action === "resolve") {
			if (!id || !UUID.test(id))
				throw new UsageError(`resolve needs the shortfall's id (a UUID)${id ? `, not "${id}"` : ""}`);
			if (!values.note?.trim())
				throw new UsageError('resolve needs --note "…" (what was done; it is audited)');
		}
		try {
			const api = await adminLogin.api(values);
			if (action === "list") {
				const { status, body } = await api.get<{ items: Shortfall[] }>("/admin/shortfalls?limit=100");
				if (status !== 200)
					throw new AdminApiError(`listing shortfalls answered ${status}: ${describeError(body)}`);
				if (values.json) {
					console.log(JSON.stringify(body.items, null, 2));
					return 0;
				}
				if (!body.items.length) {
					console.log("no open shortfall");
					return 0;
				}
				const rows = body.items.map((s) => [
					s.id,
					s.created_at,
					s.tx_id,
					`${s.shortfall} ${s.currency}`,
					s.username ?? s.user_id ?? "-",
					s.user_status ?? "-",
					String(s.open_for_player),
				]);
				console.log(formatTable(["ID", "RECORDED", "TX_ID", "SHORT_BY", "PLAYER", "STATUS", "OPEN"], rows));
				console.log(`${rows.length} open shortfall(s)`);
				return 0;
			}
			const { status, body } = await api.post<Record<string, unknown>>(`/admin/shortfalls/${id}/resolve`, {
				note: values.note!.trim(),
				unfreeze: !values["keep-frozen"],
			});
			if (status === 503)
				throw new AdminApiError(`resolving ${id}: ${describeError(body)} (answered 503; run it again)`);
			if (status !== 200) {
				console.log(`${id}: ✗ not resolved: ${describeError(body)}`);
				return 1;
			}
			const others = Number(body.other_open_shortfalls);
			console.log(
				`${id}: ✓ resolved (audit ${body.audit_log_id}); player ${body.user_id ?? "-"} ${
					body.unfrozen
						? "unfrozen"
						: `stays ${body.user_status}${
								others
									? ` (${others} other open shortfall(s))`
									: body.froze_player === false
										? " (frozen before this shortfall, for another reason)"
										: ""
							}`
				}`,
			);
			return 0;
		} catch (error) {
			if (error instanceof AdminApiError) {
				console.error(`error: ${error.message}`);
				return 4;
			}
			throw error;
		}
	},
};
