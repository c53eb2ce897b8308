/**
 * `ops settlement status|pause|resume`: stop settlement for a while (an incident on a chain, a
 * ledger repair) without losing anything, and start it again.
 *
 * - The pause itself is the admin API's (`/api/v1/admin/settlement`: audited, idempotent), the
 *   same one the console uses. While paused, webhooks are accepted and queued, and the consumer
 *   puts each batch back on the queue instead of settling it; after the resume each deposit is
 *   credited once. This is what `npm start` (whose local queue cannot pause) relies on.
 * - With `--env staging|production`, the deposits queue's delivery is also paused or resumed
 *   through Cloudflare's Queues API (what `wrangler queues pause-delivery` does), so nothing is
 *   delivered at all while paused. A pause sets the admin API's state first and a resume clears
 *   it first: whichever call fails, nothing is credited while an operator believes it paused.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type AdminApi, AdminApiError, adminLogin, describeError } from "../admin-api";
import { credentialsFromEnv } from "../cloudflare/credentials";
import { deliveryPaused, QueueDeliveryError, setDeliveryPaused } from "../cloudflare/queue-delivery";
import { depositsQueue } from "../cloudflare/workers";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

interface State {
	changed?: boolean;
	audit_log_id?: string | null;
	paused: boolean;
	paused_at: string | null;
	paused_by: { id: string | null; username: string | null } | null;
	reason: string | null;
}

const OPTIONS = {
	...adminLogin.options,
	reason: { type: "string" },
	env: { type: "string" },
	json: { type: "boolean", default: false },
} as const;

function describe(state: State): string {
	if (!state.paused) return "settlement: running";
	const by = state.paused_by?.username ?? "an admin since removed";
	return `settlement: PAUSED since ${state.paused_at} by ${by}: "${state.reason}" (webhooks are queued; nothing is credited until resumed)`;
}

async function readState(api: AdminApi): Promise<State> {
	const { status, body } = await api.get<State>("/admin/settlement");
	if (status !== 200)
		throw new AdminApiError(`reading the settlement state answered ${status}: ${describeError(body)}`);
	return body;
}

async function change(api: AdminApi, action: "pause" | "resume", reason: string): Promise<State | null> {
	const { status, body } = await api.post<State>(`/admin/settlement/${action}`, { reason });
	if (status === 503)
		throw new AdminApiError(`${action}: ${describeError(body)} (answered 503; run it again)`);
	if (status !== 200) {
		console.log(`✗ not ${action}d: ${describeError(body)}`);
		return null;
	}
	return body;
}

export const settlement: Command = {
	summary: "pause or resume settlement (nothing lost, nothing credited while paused), or say which it is",
	help: `usage: npm run ops -- settlement status [--env <e>] [--json]
       npm run ops -- settlement pause --reason "…" [--env <e>]
       npm run ops -- settlement resume --reason "…" [--env <e>]

status   whether settlement is paused: since when, by whom, why; with --env, also whether the
         deposits queue's delivery is paused on Cloudflare
pause    stop crediting: webhooks are still accepted and wait on the queue. Idempotent: pausing
         a paused system changes nothing. The reason is audited
resume   settle what waited, each deposit once. Idempotent as well

  --env <e>             a deployed environment (staging, production): also pause or resume the
                        deposits queue's delivery through Cloudflare's API (CLOUDFLARE_API_TOKEN
                        with Queues: Edit, CLOUDFLARE_ACCOUNT_ID). Without it: the local stack
${adminLogin.help}

Exit codes:
  0  done (or nothing to do)
  1  the API refused, or Cloudflare's queue could not be changed (the message says what holds)
  2  usage error
  4  the admin API could not be reached, refused the credentials, or was unavailable (503: retry)`,
	async run(args) {
		const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
		const [action, ...rest] = positionals;
		if (action !== "status" && action !== "pause" && action !== "resume") {
			throw new UsageError(
				`settlement needs an action: status, pause or resume${action ? `, not "${action}"` : ""}`,
			);
		}
		if (rest.length) throw new UsageError(`settlement ${action} takes no further arguments`);
		if (action !== "status" && !values.reason?.trim()) {
			throw new UsageError(`settlement ${action} needs --reason "…" (why; it is audited)`);
		}
		// Read before anything changes, so a missing credential changes nothing.
		const cloudflare = values.env
			? { credentials: credentialsFromEnv(), queue: depositsQueue(values.env) }
			: null;
		try {
			const api = await adminLogin.api(values);
			if (action === "status") {
				const state = await readState(api);
				const queuePaused = cloudflare
					? await deliveryPaused(cloudflare.credentials, cloudflare.queue)
					: null;
				if (values.json) {
					console.log(
						JSON.stringify({ ...state, queue: cloudflare?.queue ?? null, delivery_paused: queuePaused }),
					);
					return 0;
				}
				console.log(describe(state));
				if (cloudflare) {
					console.log(`queue ${cloudflare.queue}: delivery ${queuePaused ? "PAUSED" : "running"}`);
					if (queuePaused !== state.paused) {
						console.log(
							`the two disagree: run \`npm run ops -- settlement ${state.paused ? "pause" : "resume"} --env ${values.env} --reason "…"\` to align the queue`,
						);
					}
				}
				return 0;
			}
			const state = await change(api, action, values.reason!.trim());
			if (!state) return 1;
			console.log(
				`${state.changed ? "✓" : "·"} ${describe(state)}${state.changed ? ` (audit ${state.audit_log_id})` : " (nothing changed)"}`,
			);
			if (!cloudflare) return 0;
			try {
				const paused = await setDeliveryPaused(cloudflare.credentials, cloudflare.queue, action === "pause");
				console.log(`✓ queue ${cloudflare.queue}: delivery ${paused ? "paused" : "resumed"}`);
				return 0;
			} catch (error) {
				if (!(error instanceof QueueDeliveryError)) throw error;
				console.log(
					action === "pause"
						? `✗ queue ${cloudflare.queue}: delivery not paused (${error.message}). Settlement is paused all the same: the consumer puts every batch back. Run the command again to pause the queue too.`
						: `✗ queue ${cloudflare.queue}: delivery still paused (${error.message}): nothing is settled until it resumes. Run the command again.`,
				);
				return 1;
			}
		} catch (error) {
			if (error instanceof AdminApiError) {
				console.error(`error: ${error.message}`);
				return 4;
			}
			if (error instanceof QueueDeliveryError) {
				console.error(`error: ${error.message}`);
				return 1;
			}
			throw error;
		}
	},
};
