/**
 * `npm run k6:bundle`: the k6 script as one JavaScript file for k6 versions that do not run
 * TypeScript (before 1.0).
 * esbuild strips the types and inlines the script's own modules; `k6` and `k6/*` stay imports,
 * as k6 provides them. The output is plain ES2017 with ES module syntax, which every k6 since
 * 0.30 reads.
 *
 *   npm run k6:bundle            # writes load/k6/dist/deposits.js
 *   k6 run -e BASE_URL=… -e WEBHOOK_SECRET=… load/k6/dist/deposits.js
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { type BuildOptions, build } from "esbuild";

const K6_ENTRY = fileURLToPath(new URL("k6/deposits.ts", import.meta.url));
const K6_BUNDLE = fileURLToPath(new URL("k6/dist/deposits.js", import.meta.url));

/** The one set of esbuild options for the k6 script (the tests run the same bundle). */
export const k6BundleOptions = {
	entryPoints: [K6_ENTRY],
	bundle: true,
	format: "esm",
	platform: "neutral",
	target: "es2017",
	external: ["k6", "k6/*"],
	legalComments: "none",
	logLevel: "warning",
} satisfies BuildOptions;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const result = await build({ ...k6BundleOptions, outfile: K6_BUNDLE, metafile: true });
	const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
	console.log(`wrote ${K6_BUNDLE} (${(bytes / 1024).toFixed(1)} KiB): k6 run … load/k6/dist/deposits.js`);
}
