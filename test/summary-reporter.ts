/**
 * Prints the closing line CI reads, alone on a line: `N passed, N failed` (`, N skipped` when
 * any were). A test file that fails to load and an unhandled error each count as a failure,
 * so a broken run can never close on "0 failed".
 *
 * @module
 */
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
	onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>) {
		let passed = 0;
		let failed = unhandledErrors.length;
		let skipped = 0;
		for (const module of modules) {
			if (module.state() === "failed" && module.errors().length > 0) failed++;
			for (const test of module.children.allTests()) {
				const state = test.result().state;
				if (state === "passed") passed++;
				else if (state === "failed") failed++;
				else skipped++;
			}
		}
		process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
	}
}
