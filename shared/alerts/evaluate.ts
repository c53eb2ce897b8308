/**
 * Evaluates the alert rules at a point in time, the way Prometheus would have with a
 * one-minute evaluation interval: a rule is `pending` while its condition holds and `firing`
 * once it has held at every minute of its `for` duration.
 *
 * No state is needed for that: the evaluator looks back one minute at a time (each point over
 * the rule's own 5-minute window) and stops at the first minute where the condition did not
 * hold. A healthy system costs one query per signal; only a rule whose condition holds now
 * looks further back. Queries are shared between rules through a per-evaluation cache.
 *
 * @module
 */
import type { CloudflareApi } from "../cloudflare/api";
import type { AlertRule } from "./rules";
import { type AlertTarget, type Figures, readSignal, type SignalName } from "./signals";

type RuleState = "ok" | "pending" | "firing" | "no_data" | "error";

export interface RuleEvaluation {
	rule: AlertRule;
	/** The figure at the evaluation time (null: nothing to measure, or an error). */
	value: number | null;
	state: RuleState;
	/** Whole minutes the condition has held, up to the rule's `for`. */
	heldMinutes: number;
	/** Why the rule could not be evaluated (state "error"). */
	error?: string;
}

/** Reads a signal over the window ending at `at` (the source of figures; injectable for tests). */
export type FigureSource = (signal: SignalName, windowMinutes: number, at: Date) => Promise<Figures>;

const MINUTE = 60_000;

/** The evaluation time of `now`: the start of the current minute, so windows line up between runs. */
export function evaluationTime(now: Date): Date {
	return new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
}

/** A figure source that queries Cloudflare, asking each (signal, window, time) question once. */
export function cloudflareFigures(api: CloudflareApi, target: AlertTarget): FigureSource {
	const asked = new Map<string, Promise<Figures>>();
	return (signal, windowMinutes, at) => {
		const key = `${signal}:${windowMinutes}:${at.getTime()}`;
		let answer = asked.get(key);
		if (!answer) {
			answer = readSignal(signal, api, target, {
				from: new Date(at.getTime() - windowMinutes * MINUTE),
				to: at,
			});
			asked.set(key, answer);
		}
		return answer;
	};
}

async function evaluateRule(rule: AlertRule, figures: FigureSource, at: Date): Promise<RuleEvaluation> {
	let value: number | null = null;
	let held = 0;
	try {
		for (let minute = 0; minute <= rule.forMinutes; minute++) {
			const point = new Date(at.getTime() - minute * MINUTE);
			const figure = (await figures(rule.signal, rule.windowMinutes, point))[rule.field] ?? null;
			if (minute === 0) value = figure;
			if (figure === null || !(figure > rule.threshold)) break;
			held++;
		}
	} catch (error) {
		return {
			rule,
			value: null,
			state: "error",
			heldMinutes: 0,
			error: error instanceof Error ? error.message : String(error),
		};
	}
	// `held` counts points: the condition held now and at each earlier minute, `for` + 1 in all.
	const state: RuleState =
		held === 0 ? (value === null ? "no_data" : "ok") : held > rule.forMinutes ? "firing" : "pending";
	return { rule, value, state, heldMinutes: Math.max(0, held - 1) };
}

/**
 * Evaluates every rule at `at` (use {@link evaluationTime}).
 *
 * @example
 * ```ts
 * const results = await evaluateRules(RULES, cloudflareFigures(api, target), evaluationTime(new Date()));
 * const firing = results.filter((r) => r.state === "firing");
 * ```
 */
export function evaluateRules(
	rules: readonly AlertRule[],
	figures: FigureSource,
	at: Date,
): Promise<RuleEvaluation[]> {
	return Promise.all(rules.map((rule) => evaluateRule(rule, figures, at)));
}
