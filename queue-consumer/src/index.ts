/**
 * The consumer Worker's entry point: deposits from the main queue are settled; what the
 * dead-letter queue hands over is stored in `dead_letters`.
 *
 * @module
 */
import type { DepositMessage } from "../../schema/queue-message";
import { settleBatch } from "./settle";

export default {
	async queue(batch, env) {
		await settleBatch(batch, env);
	},
} satisfies ExportedHandler<Env, DepositMessage>;
