/**
 * Settings of a k6 run, read once from the environment (`k6 run -e NAME=value` or exported
 * variables). Every name is documented in load/README.md ("k6 against staging").
 *
 * @module
 */

/** The five load shapes; chosen with `SCENARIO`. */
export const SCENARIOS = ["smoke", "average", "stress", "spike", "soak"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

function text(name: string, fallback?: string): string {
	const value = __ENV[name];
	if (value !== undefined && value !== "") return value;
	if (fallback !== undefined) return fallback;
	throw new Error(`${name} is not set: run with -e ${name}=... (see load/README.md, "k6 against staging")`);
}

function number(name: string, fallback: number, check: (n: number) => boolean, what: string): number {
	const raw = __ENV[name];
	if (raw === undefined || raw === "") return fallback;
	const value = Number(raw);
	if (!Number.isFinite(value) || !check(value)) {
		throw new Error(`${name}=${raw} is not valid: expected ${what}`);
	}
	return value;
}

function scenario(): ScenarioName {
	const name = text("SCENARIO", "smoke");
	if (!(SCENARIOS as readonly string[]).includes(name)) {
		throw new Error(`SCENARIO=${name} is not known: choose one of ${SCENARIOS.join(", ")}`);
	}
	return name as ScenarioName;
}

function secret(): string {
	const value = text("WEBHOOK_SECRET");
	if (!/^whsec_[A-Za-z0-9+/]+=*$/.test(value)) {
		throw new Error(
			"WEBHOOK_SECRET must be a Standard Webhooks secret (whsec_ followed by base64), as configured in the edge Worker's WEBHOOK_SECRETS",
		);
	}
	return value;
}

/** Everything a run needs, validated before the first request. */
export const config = {
	baseUrl: text("BASE_URL").replace(/\/+$/, ""),
	webhookSecret: secret(),
	scenario: scenario(),
	/** Chain path segment of the webhook route. */
	chain: text("CHAIN", "bep20"),
	/** Confirmations that credit a deposit on this chain (the consumer's CONFIRMATIONS). */
	requiredConfirmations: number(
		"REQUIRED_CONFIRMATIONS",
		12,
		(n) => Number.isInteger(n) && n > 0,
		"an integer > 0",
	),
	/** Deposits per second that "average" means; the other shapes are multiples of it. */
	baseRate: number("BASE_RATE", 20, (n) => n > 0, "a number > 0"),
	/** Share of iterations that redeliver an earlier deposit (0..0.5). */
	duplicateShare: number("DUPLICATE_SHARE", 0.1, (n) => n >= 0 && n <= 0.5, "a share between 0 and 0.5"),
	/** Share of deposits sent twice, low confirmations and then enough (some out of order). */
	stagedShare: number("STAGED_SHARE", 0.2, (n) => n >= 0 && n <= 1, "a share between 0 and 1"),
	/** Every Nth iteration also checks the health route. */
	healthEvery: number("HEALTH_EVERY", 10, (n) => Number.isInteger(n) && n > 0, "an integer > 0"),
	/** How long the soak holds the average rate. */
	soakDuration: text("SOAK_DURATION", "2h"),
	/** Existing users to credit, comma separated; when empty, setup registers LOAD_USERS users. */
	userIds: text("USER_IDS", "")
		.split(",")
		.map((s) => s.trim())
		.filter(Boolean),
	loadUsers: number("LOAD_USERS", 20, (n) => Number.isInteger(n) && n > 0 && n <= 1000, "an integer 1..1000"),
	/** Admin bearer token for the settlement check; without it the check is skipped. */
	adminToken: text("ADMIN_TOKEN", ""),
	/** How long teardown waits for every deposit to be credited. */
	settleTimeoutSeconds: number("SETTLE_TIMEOUT", 120, (n) => n > 0, "seconds > 0"),
	/** At most this many deposits are polled at the end (evenly spread); 0 = all. */
	settleSample: number("SETTLE_SAMPLE", 2000, (n) => Number.isInteger(n) && n >= 0, "an integer >= 0"),
	/** Prefix of the summary files handleSummary writes. */
	summaryPrefix: text("SUMMARY_PREFIX", "k6-deposits"),
	/** Distinguishes this run's deposits from every other run's; defaults to the start time. */
	runId: text("RUN_ID", ""),
};
