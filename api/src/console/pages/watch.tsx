/**
 * The watch page: each Worker version's figures (canary beside stable), the queues, the state of
 * every alert rule, and refused webhooks by source and reason, all from Cloudflare's analytics.
 */
import { formatValue, type Unit } from "../../../../shared/alerts/rules";
import type { Figures } from "../../../../shared/alerts/signals";
import { Layout, Notice, When } from "../layout";
import type { ConsoleAdmin } from "../session";
import {
	type Part,
	type VersionFigures,
	WATCH_WINDOWS,
	type Watch,
	type WatchUnavailable,
	type WorkerWatch,
} from "../watch-figures";

type Column = [label: string, field: string, unit: Unit];

const EDGE_COLUMNS: Column[] = [
	["Requests", "requests", "count"],
	["5xx rate", "errorRate", "ratio"],
	["p95", "p95Ms", "ms"],
	["p99", "p99Ms", "ms"],
	["Webhooks", "webhook.requests", "count"],
	["Webhook ack p95", "webhook.p95Ms", "ms"],
];

/** The API Worker's requests: accounts, the admin API and the console, forwarded by the edge. */
const API_COLUMNS: Column[] = EDGE_COLUMNS.filter(([, field]) => !field.startsWith("webhook."));

const CONSUMER_COLUMNS: Column[] = [
	["Messages", "messages", "count"],
	["Retried or dead-lettered", "failuresPerSecond", "per_second"],
	["Settle lag p95", "lagP95Ms", "ms"],
	["Chain mismatches", "chainMismatches", "count"],
];

function Failed(props: { what: string; error: string }) {
	return (
		<Notice kind="error">
			{props.what} could not be read: {props.error}
		</Notice>
	);
}

function VersionsTable(props: { caption: string; versions: Part<VersionFigures[]>; columns: Column[] }) {
	if (!props.versions.ok) return <Failed what={props.caption} error={props.versions.error} />;
	return (
		<table>
			<caption>{props.caption}</caption>
			<thead>
				<tr>
					<th scope="col">Version</th>
					<th scope="col">Role</th>
					<th scope="col">Traffic</th>
					{props.columns.map(([label]) => (
						<th scope="col">{label}</th>
					))}
				</tr>
			</thead>
			<tbody>
				{props.versions.value.map((v) => (
					<tr>
						<th scope="row" class="mono">
							{v.versionId}
						</th>
						<td>
							<span class={`status ${v.role}`}>{v.role}</span>
						</td>
						<td class="num">{v.percentage} %</td>
						{props.columns.map(([, field, unit]) => (
							<td class="num">{formatValue(unit, v.figures[field] ?? null)}</td>
						))}
					</tr>
				))}
			</tbody>
		</table>
	);
}

/** One Worker: its versions in the current deployment, then the gate's verdict on a canary. */
function WorkerSection(props: { title: string; worker: WorkerWatch; columns: Column[] }) {
	const { script, versions, gate } = props.worker;
	return (
		<>
			<h2>{props.title}: canary against stable</h2>
			<VersionsTable
				caption={`Versions of ${script} in its current deployment`}
				versions={versions}
				columns={props.columns}
			/>
			<Gate script={script} gate={gate} />
		</>
	);
}

/** The rollout gate's verdict on the canary, with every check it made. */
function Gate(props: { script: string; gate: WorkerWatch["gate"] }) {
	const gate = props.gate;
	if (!gate) return <p class="muted">One version serves all traffic: no canary to judge.</p>;
	if (!gate.ok) return <Failed what="The rollout gate's figures" error={gate.error} />;
	const v = gate.value;
	const said = { promote: "promote", rollback: "roll back", insufficient: "wait: too little traffic" }[
		v.decision
	];
	return (
		<section aria-label={`Rollout gate, ${props.script}`}>
			<p role="status">
				<strong>Rollout gate on the canary: {said}.</strong>
				{/* The checks say why, when the gate made them; otherwise its reasons do. */}
				{v.checks.length ? null : ` ${v.reasons.join(" ")}`}
			</p>
			{v.checks.length ? (
				<ul>
					{v.checks.map((c) => (
						<li>
							<span class={`status ${c.ok ? "ok" : "firing"}`}>{c.ok ? "holds" : "fails"}</span> {c.name}:{" "}
							{c.detail}
						</li>
					))}
				</ul>
			) : null}
		</section>
	);
}

function QueueFacts(props: { queue: Part<Figures>; name: string }) {
	if (!props.queue.ok) return <Failed what="The queue backlogs" error={props.queue.error} />;
	const f = props.queue.value;
	return (
		<dl class="facts">
			<dt>Backlog of {props.name}</dt>
			<dd>{formatValue("messages", f.backlogMessages ?? null)}</dd>
			<dt>Dead letters waiting in {props.name}-dlq</dt>
			<dd>{formatValue("messages", f.deadLetterBacklogMessages ?? null)}</dd>
		</dl>
	);
}

const STATE_ORDER = { firing: 0, error: 1, pending: 2, ok: 3, no_data: 4 } as const;

function RulesTable(props: { rules: Watch["rules"] }) {
	if (!props.rules.ok) return <Failed what="The alert rules" error={props.rules.error} />;
	const rules = [...props.rules.value].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]);
	const firing = rules.filter((r) => r.state === "firing").length;
	return (
		<>
			<p role="status">{firing ? `${firing} rule${firing > 1 ? "s" : ""} firing.` : "No rule is firing."}</p>
			<table>
				<caption>Alert rules, firing first</caption>
				<thead>
					<tr>
						<th scope="col">Rule</th>
						<th scope="col">Severity</th>
						<th scope="col">State</th>
						<th scope="col">Figure</th>
						<th scope="col">Fires above</th>
						<th scope="col">Held / for</th>
						<th scope="col">What it means</th>
					</tr>
				</thead>
				<tbody>
					{rules.map((e) => (
						<tr>
							<th scope="row">{e.rule.name}</th>
							<td>{e.rule.severity}</td>
							<td>
								<span class={`status ${e.state}`}>{e.state.replace("_", " ")}</span>
							</td>
							<td class="num">{formatValue(e.rule.unit, e.value)}</td>
							<td class="num">{formatValue(e.rule.unit, e.rule.threshold)}</td>
							<td class="num">
								{e.heldMinutes} / {e.rule.forMinutes} min
							</td>
							<td>
								{e.rule.summary}
								{e.error ? <span class="muted"> ({e.error})</span> : null}
								{e.rule.runbook && (e.state === "firing" || e.state === "pending") ? (
									<>
										<br />
										<strong>Runbook:</strong> {e.rule.runbook}
									</>
								) : null}
							</td>
						</tr>
					))}
				</tbody>
			</table>
		</>
	);
}

function RefusalsTable(props: { refusals: Watch["refusals"]; minutes: number }) {
	if (!props.refusals.ok) return <Failed what="The refused webhooks" error={props.refusals.error} />;
	const rows = props.refusals.value;
	if (!rows.length) {
		return <p role="status">No webhook was refused in the last {props.minutes} minutes.</p>;
	}
	return (
		<table>
			<caption>Refused webhooks by source and reason, most first</caption>
			<thead>
				<tr>
					<th scope="col">Source</th>
					<th scope="col">Status</th>
					<th scope="col">Reason</th>
					<th scope="col">Refused</th>
				</tr>
			</thead>
			<tbody>
				{rows.map((r) => (
					<tr>
						<th scope="row">{r.source || "(unknown: no signature header)"}</th>
						<td class="num">{r.status}</td>
						<td>{r.reason || "–"}</td>
						<td class="num">{formatValue("count", r.count)}</td>
					</tr>
				))}
			</tbody>
		</table>
	);
}

export function WatchPage(props: { admin: ConsoleAdmin; watch: Watch | WatchUnavailable }) {
	const w = props.watch;
	return (
		<Layout title="Watch" admin={props.admin} current="/console/watch">
			<h1>Watch</h1>
			{"ok" in w ? (
				<>
					<Notice kind="error">Analytics are not available: {w.reason}</Notice>
					<ul>
						{w.fix.map((line) => (
							<li>{line.startsWith("wrangler ") ? <code>{line}</code> : line}</li>
						))}
					</ul>
				</>
			) : (
				<>
					<form class="inline" method="get" action="/console/watch">
						<div class="field">
							<label for="minutes">Window</label>
							<select id="minutes" name="minutes">
								{WATCH_WINDOWS.map((m) => (
									<option value={String(m)} selected={m === w.minutes}>
										last {m} minutes
									</option>
								))}
							</select>
						</div>
						<button type="submit">Show</button>
					</form>
					<p class="muted">
						The last {w.minutes} minutes, <When at={w.window.from.toISOString()} /> to{" "}
						<When at={w.window.to.toISOString()} />, from Workers Analytics Engine and Queues analytics, read
						with the queries of the alert rules and the rollout gate.
					</p>
					<WorkerSection title="Edge Worker" worker={w.edge} columns={EDGE_COLUMNS} />
					<WorkerSection title="API Worker" worker={w.api} columns={API_COLUMNS} />
					<WorkerSection title="Queue consumer" worker={w.consumer} columns={CONSUMER_COLUMNS} />
					<h2>Queues</h2>
					<QueueFacts queue={w.queue} name={w.queueName} />
					<h2>Alert rules</h2>
					<RulesTable rules={w.rules} />
					<h2>Refused webhooks</h2>
					<p class="muted">
						401: signature (a secret rotation gone wrong shows here first), 415: content type, 400 / 413 /
						422: body.
					</p>
					<RefusalsTable refusals={w.refusals} minutes={w.minutes} />
				</>
			)}
		</Layout>
	);
}
