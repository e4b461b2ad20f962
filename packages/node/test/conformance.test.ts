/**
 * The conformance suite (`@x/conformance`) on Node: vitest, `@x/runner-node`, the `ws` client, and child processes
 * of this same Node binary.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
	defineConformanceSuite,
	type ProcessExit,
	type RunnerProcess,
	type WebSocketClientConstructor,
} from "@x/conformance";
import { afterAll, it } from "vitest";
import WebSocket from "ws";
import { Runner as CompatRunner } from "../src/compat.ts";
import { Runner } from "../src/index.ts";

function spawnNode(scriptPath: string, env: Record<string, string>): RunnerProcess {
	const child = spawn(process.execPath, [scriptPath], {
		cwd: fileURLToPath(new URL("..", import.meta.url)),
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const lines: string[] = [];
	let output = "";
	let partial = "";
	child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
		output += chunk;
		partial += chunk;
		const parts = partial.split("\n");
		partial = parts.pop() ?? "";
		lines.push(...parts);
	});
	child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
		output += chunk;
	});
	const exited = new Promise<ProcessExit>((resolve) => {
		child.on("close", (code, signal) => resolve({ code, signal }));
	});
	return {
		pid: child.pid ?? -1,
		lines,
		output: () => output,
		kill: (signal) => void child.kill(signal),
		exited,
	};
}

defineConformanceSuite((name, fn, timeoutMs) => it(name, fn, timeoutMs), {
	runtime: "node",
	Runner,
	CompatRunner,
	// Node 20 has no global WebSocket; `ws` is what @x/runner-node uses too.
	WebSocket: WebSocket as unknown as WebSocketClientConstructor,
	signalRunnerScript: fileURLToPath(new URL("./fixtures/conformance-signal-runner.mjs", import.meta.url)),
	spawnRunnerProcess: spawnNode,
	afterAll: (fn) => afterAll(fn, 30_000),
});
