import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import {
	API_BUNDLE_DIR,
	CONSUMER_BUNDLE_DIR,
	TEST_ALCHEMY_SIGNING_KEY,
	TEST_ALCHEMY_SIGNING_KEY_ROTATED,
	TEST_JWT_SECRET,
	TEST_LEGACY_SECRET,
	TEST_LEGACY_SECRET_ROTATED,
	TEST_MORALIS_SECRET,
	TEST_MORALIS_SECRET_ROTATED,
	TEST_TELEGRAM_BOT_TOKEN,
	TEST_WEBHOOK_SECRET,
	TEST_WEBHOOK_SECRET_ROTATED,
} from "./test/projects.ts";
// The Cloudflare stand-in's provided address, typed for `inject` below (the import brings the declaration).
import type { CloudflareStandInAddress } from "./test/support/cloudflare-stand-in-context";

// wrangler must not reach the internet from tests.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
// Secrets are given to the test Workers below, not through the environment: silence wrangler's notices.
process.env.WRANGLER_LOG = "error";

/**
 * The queue settings of the consumer Worker in every test project (beside the edge Worker and on
 * its own). Tests wait for settlement, so batches go at once and retries wait for nothing.
 * The main queue gives up after 3 retries, so a test can drive a message to the dead-letter
 * queue quickly (queue.test.ts counts 4 failed settlements). The dead-letter queue, which has
 * no queue behind it, retries 10 times: under the consumer tests' database faults (a share of
 * every request fails) its write of the dead letter must outlast them, as production's 100
 * retries do.
 */
const TEST_QUEUE_CONSUMERS = {
	deposits: {
		maxBatchSize: 100,
		maxBatchTimeout: 0.05,
		maxRetries: 3,
		retryDelay: 0,
		deadLetterQueue: "deposits-dlq",
	},
	"deposits-dlq": { maxBatchSize: 100, maxBatchTimeout: 0.05, maxRetries: 10, retryDelay: 0 },
};

/** The consumer Worker as configured in its wrangler.toml, run from the bundle global-setup builds. */
function consumerWorker(databaseUrl: string, neonEndpoint: string) {
	// Its bindings, compatibility settings and queues come from the config; its code from the bundle.
	const { modulesRules: _rules, ...workerOptions } = unstable_getMiniflareWorkerOptions(
		"queue-consumer/wrangler.toml",
	).workerOptions;
	return {
		...workerOptions,
		name: "cricalgo-queue-consumer",
		modules: true,
		scriptPath: `${CONSUMER_BUNDLE_DIR}/index.js`,
		bindings: {
			...(workerOptions.bindings as Record<string, unknown>),
			DATABASE_URL: databaseUrl,
			NEON_HTTP_ENDPOINT: neonEndpoint,
			// The edge tests send synthetic webhooks (transactions on no chain): trust senders.
			CHAIN_VERIFICATION: "sender",
		},
		queueConsumers: TEST_QUEUE_CONSUMERS,
	};
}

/** The edge Worker's webhook secrets. */
const edgeSecrets = {
	WEBHOOK_SECRETS: `${TEST_WEBHOOK_SECRET} ${TEST_WEBHOOK_SECRET_ROTATED}`,
	LEGACY_WEBHOOK_SECRETS: `${TEST_LEGACY_SECRET} ${TEST_LEGACY_SECRET_ROTATED}`,
	MORALIS_STREAM_SECRETS: `${TEST_MORALIS_SECRET},${TEST_MORALIS_SECRET_ROTATED}`,
	ALCHEMY_SIGNING_KEYS: `${TEST_ALCHEMY_SIGNING_KEY} ${TEST_ALCHEMY_SIGNING_KEY_ROTATED}`,
};

/** The miniflare options of a test project (wrangler gives them for a config loosely typed). */
type MiniflareOptions = NonNullable<
	Exclude<Parameters<typeof cloudflareTest>[0], (...args: never[]) => unknown>["miniflare"]
>;

/** The API Worker's secrets and settings in the tests: the database, tokens, the Cloudflare stand-in. */
function apiSettings(databaseUrl: string, neonEndpoint: string, cloudflare: CloudflareStandInAddress) {
	return {
		DATABASE_URL: databaseUrl,
		NEON_HTTP_ENDPOINT: neonEndpoint,
		JWT_SECRET: TEST_JWT_SECRET,
		TELEGRAM_BOT_TOKEN: TEST_TELEGRAM_BOT_TOKEN,
		// The console's watch page reads analytics from the Cloudflare stand-in.
		CLOUDFLARE_API_BASE_URL: `${cloudflare.origin}/client/v4`,
		CLOUDFLARE_API_TOKEN: cloudflare.token,
		CLOUDFLARE_ACCOUNT_ID: cloudflare.accountId,
	};
}

/** The API Worker as configured in api/wrangler.toml, run from the bundle global-setup builds. */
function apiWorker(settings: ReturnType<typeof apiSettings>) {
	const { modulesRules: _rules, ...workerOptions } =
		unstable_getMiniflareWorkerOptions("api/wrangler.toml").workerOptions;
	return {
		...workerOptions,
		name: "cricalgo-api",
		modules: true,
		scriptPath: `${API_BUNDLE_DIR}/index.js`,
		bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...settings },
	};
}

/**
 * What the test runner (the edge Worker) gets beyond its own bindings: the API Worker's, so that
 * the API's tests can call the API's app with a changed environment and all tests can seed and
 * read the database (test/support/test-bindings.ts). The edge's code reads none of them. The R2
 * bucket and the queues are the same local ones the API and consumer Workers use.
 */
function apiBindingsForTests(settings: ReturnType<typeof apiSettings>) {
	const { bindings, ratelimits, r2Buckets } = unstable_getMiniflareWorkerOptions("api/wrangler.toml")
		.workerOptions as MiniflareOptions;
	return { bindings: { ...bindings, ...settings }, ratelimits, r2Buckets };
}

export default defineConfig({
	test: {
		globalSetup: ["./test/global-setup.ts"],
		reporters: ["default", "./test/summary-reporter.ts"],
		projects: [
			{
				test: {
					name: "node",
					include: [
						"test/*.test.ts",
						"ops/**/*.test.ts",
						"schema/**/*.test.ts",
						"load/**/*.test.ts",
						"api/test-browser/**/*.test.ts",
					],
					environment: "node",
					fileParallelism: false,
					// Many of these tests run the ops CLI several times (a Node process each, a few
					// seconds on a quiet machine, up to half a minute on a loaded one).
					testTimeout: 150_000,
					hookTimeout: 180_000,
				},
			},
			{
				plugins: [
					cloudflareTest(({ inject }) => {
						const databaseUrl = inject("databaseUrls")["edge-api"];
						const settings = apiSettings(databaseUrl, inject("neonEndpoint"), inject("cloudflareStandIn"));
						const forTests = apiBindingsForTests(settings);
						return {
							// The tests run in the edge Worker, the front door: `exports.default` is the edge,
							// which reaches the API Worker through its `API` service binding.
							wrangler: { configPath: "./wrangler.toml" },
							miniflare: {
								...forTests,
								bindings: { ...edgeSecrets, ...forTests.bindings },
								workers: [apiWorker(settings), consumerWorker(databaseUrl, inject("neonEndpoint"))],
							},
						};
					}),
				],
				test: {
					name: "edge-api",
					include: ["worker/test/**/*.test.ts", "api/test/**/*.test.ts"],
					// The Cloudflare API stand-in, for the console's watch page.
					globalSetup: ["./test/support/cloudflare-stand-in-setup.ts"],
					fileParallelism: false,
					testTimeout: 30_000,
				},
			},
			{
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./queue-consumer/wrangler.toml" },
						miniflare: {
							compatibilityFlags: ["service_binding_extra_handlers"],
							bindings: {
								DATABASE_URL: inject("databaseUrls").consumer,
								// Through the fault proxy (no faults until a test sets some), so tests can
								// fail the database under the real queue.
								NEON_HTTP_ENDPOINT: inject("faultProxy").endpoint,
								DATABASE_TIMEOUT_MS: 3000,
								RETRY_BASE_SECONDS: 0,
								// Most suites settle synthetic deposits; the chain suites pass their own
								// verification settings (queue-consumer/test/support/chain.ts).
								CHAIN_VERIFICATION: "sender",
							},
							queueConsumers: TEST_QUEUE_CONSUMERS,
						},
					})),
				],
				test: {
					name: "consumer",
					include: ["queue-consumer/test/**/*.test.ts"],
					// The local chain (anvil, tokens, an RPC proxy) and the TRON stand-in.
					globalSetup: ["./test/chain-global-setup.ts"],
					fileParallelism: false,
					testTimeout: 30_000,
				},
			},
			{
				plugins: [
					cloudflareTest(({ inject }) => {
						const cloudflare = inject("cloudflareStandIn");
						return {
							wrangler: { configPath: "./alerts/wrangler.toml" },
							miniflare: {
								bindings: {
									CLOUDFLARE_API_BASE_URL: `${cloudflare.origin}/client/v4`,
									CLOUDFLARE_API_TOKEN: cloudflare.token,
									CLOUDFLARE_ACCOUNT_ID: cloudflare.accountId,
									SLACK_WEBHOOK_URL: `${cloudflare.origin}/slack/T0000/B0000/alerts`,
								},
							},
						};
					}),
				],
				test: {
					name: "alerts",
					include: ["alerts/test/**/*.test.ts"],
					globalSetup: ["./test/support/cloudflare-stand-in-setup.ts"],
					fileParallelism: false,
					testTimeout: 30_000,
				},
			},
		],
	},
});
