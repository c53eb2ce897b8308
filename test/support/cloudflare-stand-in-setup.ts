/**
 * Starts the Cloudflare API stand-in (cloudflare-stand-in.ts) for the tests of the Workers that
 * call Cloudflare's APIs: the alerts Worker (CLOUDFLARE_API_BASE_URL, SLACK_WEBHOOK_URL) and the
 * edge Worker's console watch page. The tests drive it over HTTP. Runs in Node, a vitest global
 * setup, before the Workers start in workerd.
 *
 * @module
 */
import type { TestProject } from "vitest/node";
import { startCloudflareStandIn } from "./cloudflare-stand-in";
import "./cloudflare-stand-in-context";

export default async function setup(project: TestProject) {
	const standIn = await startCloudflareStandIn();
	project.provide("cloudflareStandIn", {
		origin: standIn.origin,
		token: standIn.token,
		accountId: standIn.accountId,
	});
	return () => standIn.close();
}
