/**
 * Settings of the local stack (`npm start`). Every one can be overridden from the environment;
 * the secrets here are for a developer's machine only and are printed at start.
 *
 * @module
 */
import { splitSecrets } from "../../shared/webhook-secrets";

/** Standard Webhooks secret of the local stack (base64 of "cricalgo-local-webhook-secret!!"). */
export const LOCAL_WEBHOOK_SECRET = "whsec_Y3JpY2FsZ28tbG9jYWwtd2ViaG9vay1zZWNyZXQhIQ==";
/**
 * Secrets of the other webhook sources of the local stack (wrangler.toml's WEBHOOK_SOURCES), by
 * the secret binding each source names. Each can be overridden from the environment.
 */
export const LOCAL_SOURCE_SECRETS = {
	/** The original senders' X-Signature secret (plain text, as the original's WEBHOOK_SECRET). */
	LEGACY_WEBHOOK_SECRETS: "cricalgo-local-original-webhook-secret",
	/** The Moralis Streams secret. */
	MORALIS_STREAM_SECRETS: "cricalgo-local-moralis-streams-secret",
	/** The Alchemy webhook signing key. */
	ALCHEMY_SIGNING_KEYS: "whsec_cricalgoLocalAlchemySigningKey0001",
} as const;

/** The local stack's secret of each source binding: from the environment, else the default. */
export function localSourceSecrets(): Record<keyof typeof LOCAL_SOURCE_SECRETS, string> {
	const entries = Object.entries(LOCAL_SOURCE_SECRETS).map(([name, fallback]) => [
		name,
		process.env[name] || fallback,
	]);
	return Object.fromEntries(entries) as Record<keyof typeof LOCAL_SOURCE_SECRETS, string>;
}

export const LOCAL_JWT_SECRET = "cricalgo-local-jwt-secret-not-for-production-use-0001";
export const DEFAULT_EDGE_PORT = 8787;
export const DEFAULT_NEON_PORT = 4444;
export const LOCAL_DATABASE = "cricalgo";
export const LOCAL_DATA_DIR = ".data/pglite";

/** The base URL of the local edge Worker. */
export function localBaseUrl(): string {
	return `http://127.0.0.1:${process.env.EDGE_PORT ?? DEFAULT_EDGE_PORT}`;
}

/** The first secret of `WEBHOOK_SECRETS`, or the local default. */
export function signingSecret(): string {
	return splitSecrets(process.env.WEBHOOK_SECRETS)[0] ?? LOCAL_WEBHOOK_SECRET;
}
