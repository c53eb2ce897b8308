/**
 * Whether settlement runs, on the console's home page, with the form that pauses or resumes it.
 * A reason is always asked for: it is in the audit log, and on this panel while paused.
 */
import type { SettlementState } from "../../routes/admin/settlement";
import { Csrf, When } from "../layout";
import type { ConsoleAdmin } from "../session";

export function SettlementPanel(props: { admin: ConsoleAdmin; state: SettlementState }) {
	const { state } = props;
	const action = state.paused ? "resume" : "pause";
	return (
		<section aria-labelledby="settlement-heading">
			<h2 id="settlement-heading">Settlement</h2>
			{state.paused ? (
				<p class="notice error" role="status" id="settlement-state">
					Settlement is <strong>paused</strong> since <When at={state.paused_at} /> by{" "}
					{state.paused_by?.username ?? "an admin since removed"}: “{state.reason}”. Webhooks are still
					accepted and wait on the queue; nothing is credited until it is resumed.
				</p>
			) : (
				<p class="notice ok" role="status" id="settlement-state">
					Settlement is <strong>running</strong>: accepted deposits are settled as they arrive.
				</p>
			)}
			<form class="inline" method="post" action={`/console/settlement/${action}`}>
				<Csrf token={props.admin.csrf} />
				<div class="field">
					<label for="settlement-reason">Why {state.paused ? "resume" : "pause"} settlement</label>
					<input id="settlement-reason" name="reason" required minlength={5} maxlength={1000} />
				</div>
				<button type="submit">{state.paused ? "Resume settlement" : "Pause settlement"}</button>
			</form>
		</section>
	);
}
