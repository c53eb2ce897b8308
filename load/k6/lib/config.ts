/**
 * Settings of a k6 run, read once from the environment (`k6 run -e NAME=value` or exported
 * variables) and validated before the first request, so a typo stops the run with a message
 * instead of shaping the load wrongly. Every name is documented in load/README.md ("k6 against
 * staging").
 *
 * @module
 */

/** The five open-model shapes, and `vus`: the original's closed model (`VUS` for `DURATION`). */
const SCENARIOS = ["smoke", "average", "stress", "spike", "soak", "vus"] as const;
type ScenarioName = (typeof SCENARIOS)[number];

/** Settings an earlier version of the script read: naming one is a mistake worth stopping for. */
const RETIRED: Record<string, string> = {
	ADMIN_TOKEN:
		"the settlement check no longer needs an admin token: it logs in as the run's own players, so nothing outlives its credentials",
	USER_IDS:
		"deposits go to players the run registers (LOAD_USERS); set RUN_ID to the earlier run's to send to its players again",
	SETTLE_SAMPLE: "the settlement check reads every deposit of the run from the players' ledgers",
};

type Env = Record<string, string | undefined>;

/** A k6-style duration ("90s", "2m", "1h30m", "1.5h") in seconds. */
export function parseDuration(name: string, raw: string): number {
	const match = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(raw) ? raw.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
	if (!match) {
		throw new Error(`${name}=${raw} is not a duration: expected e.g. 90s, 2m, 1h30m`);
	}
	const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
	return match.reduce((sum, part) => {
		const [, value, u] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part) as RegExpExecArray;
		return sum + Number(value) * (unit[u as string] as number);
	}, 0);
}

/** Reads and checks every setting. Throws with the setting's name and what it expects. */
export function readConfig(env: Env) {
	const text = (name: string, fallback?: string): string => {
		const value = env[name];
		if (value !== undefined && value !== "") return value;
		if (fallback !== undefined) return fallback;
		throw new Error(`${name} is not set: run with -e ${name}=... (see load/README.md, "k6 against staging")`);
	};
	const number = (name: string, fallback: number, check: (n: number) => boolean, what: string): number => {
		const raw = env[name];
		if (raw === undefined || raw === "") return fallback;
		const value = Number(raw);
		if (!Number.isFinite(value) || !check(value)) {
			throw new Error(`${name}=${raw} is not valid: expected ${what}`);
		}
		return value;
	};
	const duration = (name: string, fallback: string): number => {
		const seconds = parseDuration(name, text(name, fallback));
		if (!(seconds >= 1)) throw new Error(`${name}=${env[name]} is too short: expected at least 1s`);
		return seconds;
	};

	for (const [name, why] of Object.entries(RETIRED)) {
		if (env[name]) throw new Error(`${name} is no longer read: ${why} (see load/README.md)`);
	}

	const baseUrl = text("BASE_URL").replace(/\/+$/, "");
	const closedModel = Boolean(env.VUS || env.DURATION);
	const scenario = text("SCENARIO", closedModel ? "vus" : "smoke");
	if (!(SCENARIOS as readonly string[]).includes(scenario)) {
		throw new Error(`SCENARIO=${scenario} is not known: choose one of ${SCENARIOS.join(", ")}`);
	}
	if (closedModel && scenario !== "vus") {
		throw new Error(
			`VUS and DURATION shape the closed-model run (SCENARIO=vus), not SCENARIO=${scenario}: drop them, or drop SCENARIO`,
		);
	}

	const secret = text("WEBHOOK_SECRET");
	if (!/^whsec_[A-Za-z0-9+/]+=*$/.test(secret)) {
		throw new Error(
			"WEBHOOK_SECRET must be a Standard Webhooks secret (whsec_ followed by base64), as configured in the edge Worker's WEBHOOK_SECRETS",
		);
	}
	const runId = text("RUN_ID", "");
	if (runId && !/^[A-Za-z0-9_.-]{1,32}$/.test(runId)) {
		throw new Error(`RUN_ID=${runId} is not valid: expected 1 to 32 letters, digits, '_', '.' or '-'`);
	}

	return {
		baseUrl,
		webhookSecret: secret,
		scenario: scenario as ScenarioName,
		/** Chain path segment of the webhook route. */
		chain: text("CHAIN", "bep20"),
		/** Confirmations that credit a deposit on this chain (the consumer's CONFIRMATIONS). */
		requiredConfirmations: number(
			"REQUIRED_CONFIRMATIONS",
			12,
			(n) => Number.isInteger(n) && n > 0,
			"an integer > 0",
		),
		/** Deposits per second that "average" means; the other open shapes are multiples of it. */
		baseRate: number("BASE_RATE", 20, (n) => n > 0, "a number > 0"),
		/** Every stage of the open shapes lasts this factor times its length (0.1: ten times shorter). */
		durationScale: number("DURATION_SCALE", 1, (n) => n > 0 && n <= 100, "a factor > 0 and <= 100"),
		/** How long the soak holds the average rate (before DURATION_SCALE). */
		soakSeconds: duration("SOAK_DURATION", "2h"),
		/** The closed model: this many VUs, each sending iteration after iteration. */
		vus: number("VUS", 20, (n) => Number.isInteger(n) && n > 0 && n <= 1000, "an integer 1..1000"),
		/** The closed model's length. */
		vusSeconds: duration("DURATION", "1m"),
		/** Share of iterations that redeliver an earlier deposit (0..0.5). */
		duplicateShare: number("DUPLICATE_SHARE", 0.1, (n) => n >= 0 && n <= 0.5, "a share between 0 and 0.5"),
		/** Share of deposits sent twice, low confirmations and then enough (some out of order). */
		stagedShare: number("STAGED_SHARE", 0.2, (n) => n >= 0 && n <= 1, "a share between 0 and 1"),
		/** Every Nth iteration also checks the health route. */
		healthEvery: number("HEALTH_EVERY", 10, (n) => Number.isInteger(n) && n > 0, "an integer > 0"),
		/** Players the run registers and credits, round robin. */
		loadUsers: number(
			"LOAD_USERS",
			20,
			(n) => Number.isInteger(n) && n > 0 && n <= 1000,
			"an integer 1..1000",
		),
		/** How long the settlement check waits, after the load ends, for every deposit to be credited. */
		settleTimeoutSeconds: number("SETTLE_TIMEOUT", 120, (n) => n > 0, "seconds > 0"),
		/** Prefix of the summary files handleSummary writes. */
		summaryPrefix: text("SUMMARY_PREFIX", "k6-deposits"),
		/** Distinguishes this run's players and deposits from every other run's; defaults to the start time. */
		runId,
	};
}

export type Config = ReturnType<typeof readConfig>;
