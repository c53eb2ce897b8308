/**
 * The edge Worker's entry point.
 *
 * @module
 */
import { app } from "./app";

export default {
	fetch: app.fetch,
} satisfies ExportedHandler<Env>;
