/** The faults the RPC proxy of the chain tests can inject (test/rpc-proxy.ts), shared with the tests that set them. */
const RPC_FAULTS = ["refuse", "http503", "hang", "rpc_error", "other_block_hash"] as const;
export type RpcFault = (typeof RPC_FAULTS)[number];
