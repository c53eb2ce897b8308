/**
 * Compiles the local USDT-like token (`LocalUSDT.sol`) with solc from npm, offline. The
 * result is committed as `local-usdt.json`, so starting the local chain needs no compiler; a
 * test compiles the source again and requires the same artifact, and
 * `npm run token:build` rewrites it after the source changes.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";

const here = dirname(fileURLToPath(import.meta.url));
const TOKEN_SOURCE_PATH = join(here, "LocalUSDT.sol");
export const TOKEN_ARTIFACT_PATH = join(here, "local-usdt.json");

/** What the local chain deploys: the ABI and the creation bytecode, with how they were made. */
interface TokenArtifact {
	contractName: "LocalUSDT";
	compiler: string;
	settings: { optimizer: { enabled: boolean; runs: number }; evmVersion: string };
	abi: unknown[];
	bytecode: `0x${string}`;
}

const SETTINGS = { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" } as const;

interface SolcOutput {
	errors?: { severity: "error" | "warning"; formattedMessage: string }[];
	contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>;
}

/** Compiles the source; throws with solc's messages when it does not compile. */
export function compileLocalUsdt(): TokenArtifact {
	const input = {
		language: "Solidity",
		sources: { "LocalUSDT.sol": { content: readFileSync(TOKEN_SOURCE_PATH, "utf8") } },
		settings: { ...SETTINGS, outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
	};
	const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
	const errors = (output.errors ?? []).filter((e) => e.severity === "error");
	if (errors.length > 0) {
		throw new Error(`LocalUSDT.sol does not compile:\n${errors.map((e) => e.formattedMessage).join("\n")}`);
	}
	const contract = output.contracts?.["LocalUSDT.sol"]?.LocalUSDT;
	if (!contract) throw new Error("solc produced no LocalUSDT contract");
	return {
		contractName: "LocalUSDT",
		compiler: solc.version(),
		settings: SETTINGS,
		abi: contract.abi,
		bytecode: `0x${contract.evm.bytecode.object}`,
	};
}

/** The committed artifact, as JSON text (tabs, as the rest of the repository). */
export function artifactText(artifact: TokenArtifact): string {
	return `${JSON.stringify(artifact, null, "\t")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const artifact = compileLocalUsdt();
	writeFileSync(TOKEN_ARTIFACT_PATH, artifactText(artifact));
	console.log(
		`wrote ${TOKEN_ARTIFACT_PATH} (solc ${artifact.compiler}, ${(artifact.bytecode.length - 2) / 2} bytes)`,
	);
}
