/**
 * Reads the output of vitest, bun test and deno test (as turbo prints it, prefixed per package): the counts per
 * runtime and the names of the failed tests.
 *
 * @module
 */

/** Sums the result lines of vitest, bun test and deno test in turbo's prefixed output, per runtime. */
export function countResults(output) {
	const totals = {
		node: { passed: 0, failed: 0 },
		bun: { passed: 0, failed: 0 },
		deno: { passed: 0, failed: 0 },
	};
	for (const raw of output.split("\n")) {
		const line = raw.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), "");
		let m = /Tests\s+(.*)\(\d+\)\s*$/.exec(line);
		if (m) {
			for (const part of m[1].split("|")) {
				const n = /(\d+)\s+(passed|failed)/.exec(part);
				if (n) totals.node[n[2]] += Number(n[1]);
			}
			continue;
		}
		m = /^\S*:test:\s+(\d+)\s+(pass|fail)\s*$/.exec(line) ?? /^\s*(\d+)\s+(pass|fail)\s*$/.exec(line);
		if (m) {
			totals.bun[m[2] === "pass" ? "passed" : "failed"] += Number(m[1]);
			continue;
		}
		m = /(?:ok|FAILED)\s+\|\s+(\d+)\s+passed(?:\s+\((?:\d+) steps?\))?\s+\|\s+(\d+)\s+failed/.exec(line);
		if (m) {
			totals.deno.passed += Number(m[1]);
			totals.deno.failed += Number(m[2]);
		}
	}
	return totals;
}

/** The failed tests named in the output of vitest, bun test and deno test, each with its first error line. */
export function failedTests(output) {
	const lines = output
		.split("\n")
		.map((raw) => raw.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g"), ""));
	const failures = [];
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i];
		const name =
			/\sFAIL\s+(\S+\.test\.ts\s+>.*)$/.exec(line)?.[1] ??
			/\(fail\)\s+(.*?)(?:\s+\[[\d.]+m?s\])?$/.exec(line)?.[1] ??
			/^(?:\S+:test:\s+)?(.+?)\s+\.\.\.\s+FAILED\b/.exec(line)?.[1];
		if (!name) continue;
		const error = lines
			.slice(i + 1, i + 12)
			.map((l) => l.replace(/^\S+:test:\s*/, "").trim())
			.find((l) => /^(\w*Error|error:|Expected|AssertionError)/.test(l));
		const entry = error ? `${name.trim()}: ${error.slice(0, 300)}` : name.trim();
		if (!failures.includes(entry)) failures.push(entry);
	}
	return failures;
}
