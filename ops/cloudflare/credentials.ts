/**
 * The Cloudflare credentials the ops commands read, from the same environment variables
 * wrangler reads, so one setting serves both: `CLOUDFLARE_API_TOKEN`,
 * `CLOUDFLARE_ACCOUNT_ID` and (for a proxy or a test stand-in) `CLOUDFLARE_API_BASE_URL`.
 *
 * @module
 */
import { type CloudflareApi, createCloudflareApi, DEFAULT_API_BASE_URL } from "../../shared/cloudflare/api";
import { UsageError } from "../usage-error";

export interface Credentials {
	token: string;
	accountId: string;
	baseUrl: string;
}

/** Reads the credentials or says which variable is missing and how to get it. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials {
	const token = env.CLOUDFLARE_API_TOKEN;
	const accountId = env.CLOUDFLARE_ACCOUNT_ID;
	const missing = [!token && "CLOUDFLARE_API_TOKEN", !accountId && "CLOUDFLARE_ACCOUNT_ID"].filter(Boolean);
	if (missing.length || !token || !accountId) {
		throw new UsageError(
			`${missing.join(" and ")} not set: create an API token (dash.cloudflare.com/profile/api-tokens) with Workers Scripts: Edit, Account Analytics: Read and Queues: Read, and export it with your account id`,
		);
	}
	return { token, accountId, baseUrl: env.CLOUDFLARE_API_BASE_URL || DEFAULT_API_BASE_URL };
}

/** The analytics client for these credentials. */
export function analyticsApi(credentials: Credentials): CloudflareApi {
	return createCloudflareApi(credentials);
}
