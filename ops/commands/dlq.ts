/**
 * `ops dlq list|redrive|last-net`: the dead letters (messages settlement gave up on), through
 * the edge Worker's admin API: list them, and send chosen ones (or all) back onto the deposits
 * queue; and the last net behind the dead-letter queue (R2): list it, or `--redrive` it all
 * back onto the dead-letter queue, whose consumer stores it in the dead letters.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type AdminApi, AdminApiError, adminLogin, describeError } from "../admin-api";
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
	...adminLogin.options,
	limit: { type: "string", default: "50" },
	all: { type: "boolean", default: false },
	"include-redriven": { type: "boolean", default: false },
	redrive: { type: "boolean", default: false },
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

interface LastNetItem {
	key: string;
	tx_id: string | null;
	attempts: number;
	stored_at: string;
	reason: string;
}

async function lastNet(api: AdminApi, values: { redrive: boolean; json: boolean }) {
	if (!values.redrive) {
		const items: LastNetItem[] = [];
		let cursor: string | null = null;
		do {
			const query = new URLSearchParams({ limit: "100" });
			if (cursor) query.set("cursor", cursor);
			const { status, body } = await api.get<{ items: LastNetItem[]; next_cursor: string | null }>(
				`/admin/last-net?${query}`,
			);
			if (status !== 200)
				throw new AdminApiError(`listing the last net answered ${status}: ${describeError(body)}`);
			items.push(...body.items);
			cursor = body.next_cursor;
		} while (cursor);
		if (values.json) console.log(JSON.stringify(items, null, 2));
		else if (!items.length) console.log("the last net is empty");
		else {
			const rows = items.map((i) => [
				i.key,
				i.stored_at,
				i.tx_id ?? "-",
				String(i.attempts),
				i.reason.slice(0, 60),
			]);
			console.log(formatTable(["KEY", "STORED", "TX_ID", "ATTEMPTS", "REASON"], rows));
			console.log(
				`${items.length} message(s) in the last net: \`dlq last-net --redrive\` once the database is back`,
			);
		}
		return 0;
	}
	let total = 0;
	for (let round = 1; ; round++) {
		const { status, body } = await api.post<{
			redriven?: number;
			remaining?: boolean;
			audit_log_id?: string;
		}>("/admin/last-net/redrive");
		if (status === 503) {
			console.log(
				`✗ ${describeError(body)}: the database (or the queue) cannot take them yet; nothing was moved. Run the command again once it is back.`,
			);
			console.log(`${total} redriven before that`);
			return 1;
		}
		if (status !== 200 && status !== 202)
			throw new AdminApiError(`redriving the last net answered ${status}: ${describeError(body)}`);
		total += body.redriven ?? 0;
		console.log(
			`[round ${round}] ${body.redriven ?? 0} sent back onto the dead-letter queue${body.audit_log_id ? ` (audit ${body.audit_log_id})` : ""}; ${total} in all`,
		);
		if (!body.remaining) break;
	}
	console.log(
		total
			? `${total} redriven: they reach the dead letters within seconds (\`dlq list\`), then \`dlq redrive\` settles them`
			: "the last net is empty: nothing to redrive",
	);
	return 0;
}

export const dlq: Command = {
	summary: "list dead letters, or send them back onto the deposits queue (admin API)",
	help: `usage: npm run ops -- dlq list [options]
       npm run ops -- dlq redrive <id>... | --all [options]
       npm run ops -- dlq last-net [--redrive] [options]

list      dead letters waiting for review, newest first (GET /api/v1/admin/dead-letters)
redrive   send each named dead letter back onto the deposits queue
          (POST /api/v1/admin/dead-letters/<id>/redrive); one whose stored message is not a
          valid deposit message is refused (it can never settle). Audited by the API.
last-net  what the dead-letter queue could not store in Postgres on its last deliveries, kept
          in R2 (GET /api/v1/admin/last-net); --redrive puts all of it back onto the
          dead-letter queue, 100 at a time (POST /api/v1/admin/last-net/redrive), whose consumer
          stores it in the dead letters; refused with nothing moved while the database is down

${adminLogin.help}
  --limit <n>           page size for list (default 50, at most 100)
  --all                 list: every page; redrive: every dead letter waiting
  --include-redriven    list: show redriven ones too
  --json                list, last-net: JSON instead of a table
  --redrive             last-net: redrive it all

Exit codes:
  0  done (every named letter redriven)
  1  some letters were not redriven (each one's reason is printed), or the last net could not
     be redriven yet (database or queue unavailable)
  2  usage error
  4  the API could not be reached, or refused the credentials`,
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
		const [action, ...ids] = positionals;
		if (action !== "list" && action !== "redrive" && action !== "last-net") {
			throw new UsageError(
				`dlq needs an action: list, redrive or last-net${action ? `, not "${action}"` : ""}`,
			);
		}
		if (action !== "redrive" && ids.length) throw new UsageError(`dlq ${action} takes no ids`);
		try {
			const api = await adminLogin.api(values);
			if (action === "last-net") return await lastNet(api, values);
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
