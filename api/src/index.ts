/**
 * The API Worker's entry point. It has no route of its own on the internet: the edge Worker
 * forwards to it through a service binding.
 *
 * @module
 */
import { app } from "./app";

export default {
	fetch: app.fetch,
} satisfies ExportedHandler<Env>;
