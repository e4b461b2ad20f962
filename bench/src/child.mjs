/**
 * Starting a runner under test as a child process, and talking to it over its control channel
 * (see `bench/runners/control.mjs`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { BENCH_DIR, ROOT } from "./paths.mjs";

const BIN = join(ROOT, "node_modules", ".bin");
const RUNNERS = join(BENCH_DIR, "runners");

/**
 * The runners under test: how each is started. `id` names it in the results.
 * @type {Array<{ id: string, label: string, runtime: string, command: string, args: string[], cwd: string }>}
 */
export const RUNNERS_UNDER_TEST = [
	{
		id: "ours-node",
		label: "ours (Node)",
		runtime: "node",
		command: process.execPath,
		args: ["--expose-gc", join(RUNNERS, "ours-node.mjs")],
		cwd: BENCH_DIR,
	},
	{
		id: "ours-bun",
		label: "ours (Bun)",
		runtime: "bun",
		command: join(BIN, "bun"),
		args: ["run", join(RUNNERS, "ours.ts")],
		cwd: BENCH_DIR,
	},
	{
		id: "ours-deno",
		label: "ours (Deno)",
		runtime: "deno",
		command: join(BIN, "deno"),
		args: ["run", "-A", "--v8-flags=--expose-gc", join(RUNNERS, "ours.ts")],
		cwd: BENCH_DIR,
	},
	{
		id: "reference",
		label: "reference 2.2.1 (Node)",
		runtime: "node",
		command: process.execPath,
		args: ["--expose-gc", join(RUNNERS, "reference.mjs")],
		cwd: BENCH_DIR,
	},
	{
		id: "floor",
		label: "floor (Node, codec only)",
		runtime: "node",
		command: process.execPath,
		args: ["--expose-gc", join(RUNNERS, "floor.mjs")],
		cwd: BENCH_DIR,
	},
];

/**
 * A running runner process.
 * @typedef {{ pid: number, call(cmd: string, timeoutMs?: number): Promise<Record<string, any>>,
 *   stop(): Promise<void>, exited: Promise<number | null>, stderrTail(): string }} RunnerChild
 */

/**
 * Spawns a runner and waits until it has connected to the engine.
 * @param {(typeof RUNNERS_UNDER_TEST)[number]} spec
 * @param {{ endpoint: string, runnerName: string, totalSlots: number, readyTimeoutMs?: number }} options
 * @returns {Promise<RunnerChild>}
 */
export async function startRunner(spec, options) {
	const child = spawn(spec.command, spec.args, {
		cwd: spec.cwd,
		stdio: ["pipe", "pipe", "pipe"],
		env: {
			...process.env,
			PATH: `${BIN}:${process.env.PATH}`,
			BENCH_ENDPOINT: options.endpoint,
			BENCH_RUNNER_NAME: options.runnerName,
			BENCH_TOTAL_SLOTS: String(options.totalSlots),
			DENO_NO_UPDATE_CHECK: "1",
			NO_COLOR: "1",
			LOG_LEVEL: "warn",
		},
	});
	let stderr = "";
	child.stderr.on("data", (chunk) => {
		stderr = (stderr + chunk).slice(-4000);
	});
	const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
	const waiting = new Map();
	let nextId = 1;
	let onReady;
	const ready = new Promise((resolve) => {
		onReady = resolve;
	});
	createInterface({ input: child.stdout }).on("line", (line) => {
		if (!line.startsWith("@@bench ")) return;
		const message = JSON.parse(line.slice(8));
		if (message.type === "ready") onReady(message);
		const entry = waiting.get(message.id);
		if (!entry) return;
		waiting.delete(message.id);
		if (message.error) entry.reject(new Error(`${spec.id}: ${message.error}`));
		else entry.resolve(message);
	});
	const fail = (why) => new Error(`${spec.id} ${why}; stderr tail:\n${stderr.slice(-1500)}`);
	const timeout = options.readyTimeoutMs ?? 30_000;
	let readyTimer;
	await Promise.race([
		ready,
		exited.then((code) => Promise.reject(fail(`exited with ${code} before it was ready`))),
		new Promise((_, reject) => {
			readyTimer = setTimeout(() => reject(fail(`not ready after ${timeout} ms`)), timeout);
		}),
	])
		.catch((error) => {
			child.kill("SIGKILL");
			throw error;
		})
		.finally(() => clearTimeout(readyTimer));
	return {
		pid: child.pid,
		exited,
		stderrTail: () => stderr,
		call(cmd, timeoutMs = 30_000) {
			const id = nextId++;
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => {
					waiting.delete(id);
					reject(fail(`did not answer "${cmd}" within ${timeoutMs} ms`));
				}, timeoutMs);
				waiting.set(id, {
					resolve: (value) => {
						clearTimeout(timer);
						resolve(value);
					},
					reject: (error) => {
						clearTimeout(timer);
						reject(error);
					},
				});
				child.stdin.write(`${JSON.stringify({ id, cmd })}\n`);
			});
		},
		async stop() {
			if (child.exitCode !== null || child.signalCode !== null) return;
			child.stdin.write(`${JSON.stringify({ id: 0, cmd: "exit" })}\n`);
			let timer;
			const done = await Promise.race([
				exited.then(() => true),
				new Promise((resolve) => {
					timer = setTimeout(() => resolve(false), 5000);
				}),
			]);
			clearTimeout(timer);
			if (!done) {
				child.kill("SIGKILL");
				await exited;
			}
		},
	};
}

/** Runner CPU (µs, user + system, read inside the runner) spent while `work()` runs. */
export async function cpuDuring(child, work) {
	const before = await child.call("usage");
	await work();
	const after = await child.call("usage");
	return after.user + after.system - (before.user + before.system);
}

/** Resolves after `ms`. */
export function delay(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
