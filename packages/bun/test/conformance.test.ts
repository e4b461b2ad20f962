/**
 * The conformance suite (`@x/conformance`) on Bun: `bun test`, `@x/runner-bun`, Bun's global WebSocket, and child
 * processes of this same Bun binary.
 */
import { afterAll, test } from "bun:test";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
	defineConformanceSuite,
	type ProcessExit,
	type RunnerProcess,
	type WebSocketClientConstructor,
} from "@x/conformance";
import { Runner as CompatRunner } from "../src/compat.ts";
import { Runner } from "../src/index.ts";

function spawnBun(scriptPath: string, env: Record<string, string>): RunnerProcess {
	// process.execPath is the bun binary running this test.
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

defineConformanceSuite((name, fn, timeoutMs) => test(name, fn, timeoutMs), {
	runtime: "bun",
	Runner,
	CompatRunner,
	WebSocket: globalThis.WebSocket as unknown as WebSocketClientConstructor,
	signalRunnerScript: fileURLToPath(new URL("./fixtures/signal-runner.ts", import.meta.url)),
	spawnRunnerProcess: spawnBun,
	afterAll: (fn) => afterAll(fn, 30_000),
});
