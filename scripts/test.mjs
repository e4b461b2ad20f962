#!/usr/bin/env node
// `npm test`: build, lint, type-check, then every package's tests on its own runtime (vitest on Node, `bun test`,
// `deno test`), and one closing line `N passed, N failed` that totals all runtimes. Exits non-zero on any failure,
// and fails if a test run left a rivet-engine process behind.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { countResults, failedTests } from "./test-output.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "node_modules", ".bin");
const env = {
	...process.env,
	PATH: `${bin}:${process.env.PATH}`,
	TURBO_TELEMETRY_DISABLED: "1",
	DO_NOT_TRACK: "1",
	NO_COLOR: "1",
	FORCE_COLOR: "0",
	DENO_NO_UPDATE_CHECK: "1",
	// Inherited by every process the tests start, engines included, so the leak check below only counts our own.
	X_TEST_RUN_ID: randomUUID(),
};
const extra = process.argv.slice(2);

function step(name, command, args) {
	process.stdout.write(`\n▶ ${name}\n`);
	return new Promise((resolve) => {
		const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
		let output = "";
		const onData = (chunk) => {
			output += chunk;
			process.stdout.write(chunk);
		};
		child.stdout.on("data", onData);
		child.stderr.on("data", onData);
		child.on("close", (code) => resolve({ code: code ?? 1, output }));
	});
}

function engines() {
	try {
		return new Set(
			execFileSync("pgrep", ["-x", "rivet-engine"], { encoding: "utf8" }).split(/\s+/).filter(Boolean),
		);
	} catch {
		return new Set();
	}
}

const before = engines();
let failedSteps = 0;
for (const [name, args] of [
	["build", ["run", "build", "--output-logs=errors-only"]],
	["typecheck", ["run", "typecheck", "--output-logs=errors-only"]],
]) {
	const { code } = await step(name, "turbo", args);
	if (code !== 0) failedSteps++;
}
const lint = await step("lint", "biome", ["check", "."]);
if (lint.code !== 0) failedSteps++;
const tests = await step("test", "turbo", ["run", "test", "--continue", "--concurrency=1", ...extra]);
const totals = countResults(tests.output);
/** Whether process `pid` was started by this run (its environment carries our run id). */
function ours(pid) {
	try {
		return readFileSync(`/proc/${pid}/environ`, "latin1")
			.split("\0")
			.includes(`X_TEST_RUN_ID=${env.X_TEST_RUN_ID}`);
	} catch {
		return !before.has(pid);
	}
}
const leaked = [...engines()].filter((pid) => !before.has(pid) && ours(pid));
if (leaked.length > 0) {
	process.stdout.write(`\nleaked rivet-engine processes: ${leaked.join(", ")} (killing them)\n`);
	for (const pid of leaked) {
		try {
			process.kill(Number(pid), "SIGKILL");
		} catch {}
	}
}
let passed = 0;
let failed = 0;
process.stdout.write("\n");
const failures = failedTests(tests.output);
if (failures.length > 0)
	process.stdout.write(`failed tests:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`);
for (const [runtime, t] of Object.entries(totals)) {
	process.stdout.write(`${runtime}: ${t.passed} passed, ${t.failed} failed\n`);
	passed += t.passed;
	failed += t.failed;
}
// A failure that no test runner counted (a crashed runner, a failed build or lint, a leaked engine) still counts.
if (tests.code !== 0 && failed === 0) failed = 1;
if (failedSteps > 0) process.stdout.write(`${failedSteps} build/lint/typecheck step(s) failed\n`);
failed += failedSteps + (leaked.length > 0 ? 1 : 0);
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
