/**
 * Starts the Cloudflare API stand-in (test/support/cloudflare-stand-in.ts) for the alerts
 * Worker's tests: the Worker's CLOUDFLARE_API_BASE_URL and SLACK_WEBHOOK_URL point at it, and
 * the tests drive it over HTTP. Runs in Node, before the Worker starts in workerd.
 *
 * @module
 */
import type { TestProject } from "vitest/node";
import { startCloudflareStandIn } from "../../../test/support/cloudflare-stand-in";
import "./provided-context";

export default async function setup(project: TestProject) {
	const standIn = await startCloudflareStandIn();
	project.provide("cloudflareStandIn", {
		origin: standIn.origin,
		token: standIn.token,
		accountId: standIn.accountId,
	});
	return () => standIn.close();
}
