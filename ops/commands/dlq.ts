/**
 * `ops dlq list|redrive`: the dead letters (messages settlement gave up on), through the edge
 * Worker's admin API: list them, and send chosen ones (or all) back onto the deposits queue.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type AdminApi, AdminApiError, adminApi, describeError } from "../admin-api";
import { localBaseUrl } from "../local/defaults";
import { parseNumber } from "../rollout/plan";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

interface DeadLetter {
	id: string;
	message_id: string;
	tx_id: string | null;
	source: string;
	reason: string;
	attempts: number;
	created_at: string;
	redriven_at: string | null;
	body: unknown;
}

interface Page {
	items: DeadLetter[];
	next_cursor: string | null;
}

const OPTIONS = {
	host: { type: "string", default: localBaseUrl() },
	token: { type: "string" },
	username: { type: "string" },
	password: { type: "string" },
	totp: { type: "string" },
	limit: { type: "string", default: "50" },
	all: { type: "boolean", default: false },
	"include-redriven": { type: "boolean", default: false },
	json: { type: "boolean", default: false },
} as const;

async function* letters(api: AdminApi, limit: number, all: boolean, includeRedriven: boolean) {
	let cursor: string | null = null;
	do {
		const query = new URLSearchParams({
			limit: String(Math.min(limit, 100)),
			include_redriven: String(includeRedriven),
		});
		if (cursor) query.set("cursor", cursor);
		const { status, body } = await api.get<Page>(`/admin/dead-letters?${query}`);
		if (status !== 200)
			throw new AdminApiError(`listing dead letters answered ${status}: ${describeError(body)}`);
		yield* body.items;
		cursor = all ? body.next_cursor : null;
	} while (cursor);
}

function table(items: DeadLetter[]): string {
	const rows = items.map((l) => [
		l.id,
		l.created_at,
		l.source,
		l.tx_id ?? "-",
		String(l.attempts),
		l.redriven_at ? `redriven ${l.redriven_at}` : "",
		l.reason.length > 60 ? `${l.reason.slice(0, 57)}…` : l.reason,
	]);
	return formatTable(["ID", "CREATED", "SOURCE", "TX_ID", "ATTEMPTS", "REDRIVEN", "REASON"], rows);
}

async function list(
	api: AdminApi,
	values: { limit: string; all: boolean; "include-redriven": boolean; json: boolean },
) {
	const items: DeadLetter[] = [];
	for await (const l of letters(
		api,
		parseNumber("--limit", values.limit, 1, 100),
		values.all,
		values["include-redriven"],
	)) {
		items.push(l);
	}
	if (values.json) {
		console.log(JSON.stringify(items, null, 2));
	} else if (!items.length) {
		console.log(
			values["include-redriven"]
				? "no dead letters"
				: "no dead letters waiting (--include-redriven shows redriven ones)",
		);
	} else {
		console.log(table(items));
		console.log(`${items.length} dead letter(s)${values.all ? "" : " (first page; --all for every page)"}`);
	}
	return 0;
}

async function redrive(api: AdminApi, ids: string[], all: boolean) {
	if (all) {
		for await (const l of letters(api, 100, true, false)) ids.push(l.id);
		if (!ids.length) {
			console.log("no dead letters waiting: nothing to redrive");
			return 0;
		}
	}
	if (!ids.length)
		throw new UsageError("name the dead letters to redrive (ids from `dlq list`), or pass --all");
	let failed = 0;
	for (const [i, id] of ids.entries()) {
		if (!/^[0-9a-fA-F-]{36}$/.test(id)) {
			console.log(`[${i + 1}/${ids.length}] ${id}: ✗ not a dead letter id (a UUID from \`dlq list\`)`);
			failed++;
			continue;
		}
		const { status, body } = await api.post<{ tx_id?: string; audit_log_id?: string }>(
			`/admin/dead-letters/${id}/redrive`,
		);
		if (status === 202) {
			console.log(
				`[${i + 1}/${ids.length}] ${id}: ✓ sent back onto the deposits queue (tx_id ${body.tx_id}, audit ${body.audit_log_id})`,
			);
			continue;
		}
		failed++;
		const why =
			status === 422
				? "its stored message is not a valid deposit message and can never settle; it stays in the dead letters"
				: status === 409
					? "already redriven"
					: status === 404
						? "no dead letter with this id"
						: status === 503
							? "the queue is unavailable right now; run the command again later"
							: `answered ${status}`;
		console.log(`[${i + 1}/${ids.length}] ${id}: ✗ ${why} (${describeError(body)})`);
	}
	console.log(`${ids.length - failed} redriven, ${failed} not`);
	return failed ? 1 : 0;
}

export const dlq: Command = {
	summary: "list dead letters, or send them back onto the deposits queue (admin API)",
	help: `usage: npm run ops -- dlq list [options]
       npm run ops -- dlq redrive <id>... | --all [options]

list      dead letters waiting for review, newest first (GET /api/v1/admin/dead-letters)
redrive   send each named dead letter back onto the deposits queue
          (POST /api/v1/admin/dead-letters/<id>/redrive); one whose stored message is not a
          valid deposit message is refused (it can never settle). Audited by the API.

  --host <url>          the edge Worker (default ${localBaseUrl()}, the local stack)
  --token <jwt>         an admin access token (default $OPS_TOKEN), or log in with:
  --username <name>     …the admin's username,
  --password <pw>       …password (default $OPS_PASSWORD),
  --totp <code>         …and the current code from the authenticator app
  --limit <n>           page size for list (default 50, at most 100)
  --all                 list: every page; redrive: every dead letter waiting
  --include-redriven    list: show redriven ones too
  --json                list: JSON instead of a table

Exit codes:
  0  done (every named letter redriven)
  1  some letters were not redriven (each one's reason is printed)
  2  usage error
  4  the API could not be reached, or refused the credentials`,
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
		const [action, ...ids] = positionals;
		if (action !== "list" && action !== "redrive") {
			throw new UsageError(`dlq needs an action: list or redrive${action ? `, not "${action}"` : ""}`);
		}
		if (action === "list" && ids.length) throw new UsageError("dlq list takes no ids");
		try {
			const api = await adminApi({
				host: values.host,
				token: values.token ?? process.env.OPS_TOKEN,
				username: values.username,
				password: values.password ?? process.env.OPS_PASSWORD,
				totp: values.totp,
			});
			return action === "list" ? await list(api, values) : await redrive(api, ids, values.all);
		} catch (error) {
			if (error instanceof AdminApiError) {
				console.error(`error: ${error.message}`);
				return 4;
			}
			throw error;
		}
	},
};
