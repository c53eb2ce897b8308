/**
 * The consumer's settlement engine, as the Node-side tools run it: the one file of this Worker
 * that code outside it may import (the import-direction test holds everyone else to that).
 *
 * Two tools run the engine outside workerd, on purpose: the local stack's re-check loop
 * (`ops/local/recheck-runner.ts`, because `wrangler dev` never fires the consumer's cron) and the
 * settlement benchmarks (`load/bench/`, which measure these exact statements against Postgres).
 * Everything they need is re-exported here, so the Worker's own layout (`src/`) can change
 * without them reaching into it.
 *
 * @module
 */
export { parseChainConfig } from "./src/chain/chain-config";
export { parseConsumerConfig, retryDelaySeconds } from "./src/config";
export type { QueueBatch, QueueMessage } from "./src/queue-types";
export { settleRow } from "./src/read-message";
export { recheckDeposits } from "./src/recheck";
export { type DeliveryRow, deliveryRow, RECORD_DELIVERIES } from "./src/record-deliveries";
export { type SettleContext, settleDepositBatch } from "./src/settle";
export { SETTLE_STATEMENTS, type SettleRow } from "./src/settle-sql";
export { type Sql, settleInOneRoundTrip } from "./src/settle-transaction";
