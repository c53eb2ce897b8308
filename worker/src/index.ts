/**
 * The edge Worker's entry point: the app, and the Durable Object class its replay guard uses.
 *
 * @module
 */
import { app } from "./app";

export { DeliveryGuard } from "./lib/delivery-guard";

export default {
	fetch: app.fetch,
} satisfies ExportedHandler<Env>;
