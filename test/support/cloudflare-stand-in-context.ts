/**
 * What the Cloudflare stand-in's global setup (cloudflare-stand-in-setup.ts) provides to the tests
 * and to the vitest config.
 *
 * @module
 */
export type { ProvidedContext } from "vitest";

/** The Cloudflare stand-in: its origin and the credentials it accepts. */
export interface CloudflareStandInAddress {
	origin: string;
	token: string;
	accountId: string;
}

declare module "vitest" {
	export interface ProvidedContext {
		cloudflareStandIn: CloudflareStandInAddress;
	}
}
