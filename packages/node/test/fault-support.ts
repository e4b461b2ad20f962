/**
 * Helpers of the fault-tolerance tests (fault-*.test.ts): an exactly-once WebSocket handler, a gateway WebSocket
 * client that records what it got, child runner processes, engine bookkeeping (every engine pid seen is checked to be
 * gone at the end) and memory snapshots.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EngineHandle } from "@x/dev-engine";
import WebSocket from "ws";
import { type NodeRunnerOptions, utf8Decode, utf8Encode } from "../src/index.ts";
import { sleep } from "./support.ts";

export { sleep, uniquePool, waitFor } from "./support.ts";

/** KV key of the per-actor counter of applied messages. */
export const COUNTER_KEY: Uint8Array = utf8Encode("count");

/** KV key of the marker written when message `id` is applied. */
export function appliedKey(id: string): Uint8Array {
	return utf8Encode(`applied/${id}`);
}

/** One application of a client message by a handler. */
export interface Application {
	actorId: string;
	id: string;
	count: number;
	where: string;
	/** Request id of the tunnelled socket that applied it. */
	requestId: string;
	at: number;
}

/**
 * A WebSocket handler for hibernation `commit: "manual"`: each message (its text is a message id) increments the
 * actor's counter and writes an `applied/<id>` marker in one `event.commit`, then answers `ack:<id>`. Messages of
 * different sockets of one actor are applied one at a time (the runner orders messages per socket only), so the
 * counter's read-modify-write never races.
 */
export function exactlyOnceHandler(
	log: Application[],
	where: string,
): NonNullable<NodeRunnerOptions["websocket"]> {
	const chains = new Map<string, Promise<void>>();
	return (socket, { actorId, runner, requestId }) => {
		socket.addEventListener("message", (event) => {
			const id = String(event.data);
			const apply = async (): Promise<void> => {
				const [stored] = await runner.kvGet(actorId, [COUNTER_KEY]);
				const count = Number(stored ? utf8Decode(stored) : "0") + 1;
				const value = utf8Encode(String(count));
				await event.commit([
					[COUNTER_KEY, value],
					[appliedKey(id), value],
				]);
				log.push({ actorId, id, count, where, requestId, at: Date.now() });
				socket.send(`ack:${id}`);
			};
			const run = (chains.get(actorId) ?? Promise.resolve()).then(apply);
			chains.set(
				actorId,
				run.catch(() => undefined),
			);
			return run;
		});
	};
}

/** Resolves once `count()` has not changed for `quietMs` (background work has settled). */
export async function settled(count: () => number, quietMs: number, timeoutMs: number): Promise<void> {
	const end = Date.now() + timeoutMs;
	let last = count();
	let since = Date.now();
	while (Date.now() - since < quietMs) {
		if (Date.now() > end) throw new Error(`still changing after ${timeoutMs} ms`);
		await sleep(100);
		const now = count();
		if (now !== last) {
			last = now;
			since = Date.now();
		}
	}
}

/** Ids that occur more than once. */
export function duplicates(ids: readonly string[]): string[] {
	const seen = new Set<string>();
	const twice = new Set<string>();
	for (const id of ids) (seen.has(id) ? twice : seen).add(id);
	return [...twice];
}

/** A client WebSocket through the engine's gateway that records replies and how it closed. */
export class GatewayClient {
	readonly replies: string[] = [];
	readonly sent: string[] = [];
	closed: { code: number; reason: string; at: number } | undefined;
	readonly ws: WebSocket;

	private constructor(ws: WebSocket) {
		this.ws = ws;
		ws.on("message", (data) => this.replies.push(String(data)));
		ws.on("close", (code, reason) => {
			this.closed = { code, reason: String(reason), at: Date.now() };
		});
		ws.on("error", () => {});
	}

	/** Opens a socket to `path` of the actor; rejects when it cannot be opened within `timeoutMs`. */
	static async open(
		engine: EngineHandle,
		actorId: string,
		path = "/ws",
		timeoutMs = 15_000,
	): Promise<GatewayClient> {
		const ws = new WebSocket(engine.api.gatewayWebSocketUrl(actorId, path), ["rivet"]);
		const client = new GatewayClient(ws);
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				ws.terminate();
				reject(new Error(`gateway WebSocket to ${actorId} did not open within ${timeoutMs} ms`));
			}, timeoutMs);
			ws.once("open", () => {
				clearTimeout(timer);
				resolve();
			});
			ws.once("close", (code, reason) => {
				clearTimeout(timer);
				reject(new Error(`gateway WebSocket to ${actorId} closed before opening: ${code} ${String(reason)}`));
			});
		});
		return client;
	}

	get open(): boolean {
		return this.ws.readyState === WebSocket.OPEN && this.closed === undefined;
	}

	send(text: string): void {
		this.sent.push(text);
		this.ws.send(text);
	}

	/** Ids answered with `ack:<id>`. */
	acked(): string[] {
		return this.replies.filter((r) => r.startsWith("ack:")).map((r) => r.slice(4));
	}

	close(): void {
		if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
	}

	terminate(): void {
		this.ws.terminate();
	}
}

/** A child Node process running a fixture script, with its stdout split into lines. */
export interface FixtureProcess {
	readonly child: ChildProcess;
	readonly lines: string[];
	output(): string;
	readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
	/** Resolves with the first line matching `pattern` (already printed or future). */
	waitLine(pattern: RegExp, timeoutMs: number): Promise<string>;
}

const children = new Set<ChildProcess>();

/** Starts `fixtures/fault/<name>` with this Node binary, in the package folder (so `@x/runner-node` resolves). */
export function spawnFixture(name: string, env: Record<string, string>): FixtureProcess {
	const script = fileURLToPath(new URL(`./fixtures/fault/${name}`, import.meta.url));
	const child = spawn(process.execPath, [script], {
		cwd: fileURLToPath(new URL("..", import.meta.url)),
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	children.add(child);
	const lines: string[] = [];
	let output = "";
	let partial = "";
	child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
		output += chunk;
		partial += chunk;
		const parts = partial.split("\n");
		partial = parts.pop() ?? "";
		lines.push(...parts);
	});
	child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
		output += chunk;
	});
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
		(resolve) => {
			child.on("close", (code, signal) => {
				children.delete(child);
				resolve({ code, signal, at: Date.now() });
			});
		},
	);
	return {
		child,
		lines,
		output: () => output,
		exited,
		async waitLine(pattern, timeoutMs) {
			const end = Date.now() + timeoutMs;
			for (;;) {
				const line = lines.find((l) => pattern.test(l));
				if (line !== undefined) return line;
				if (Date.now() > end || child.exitCode !== null)
					throw new Error(
						`no line matching ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-3000)}`,
					);
				await sleep(50);
			}
		},
	};
}

/** SIGKILLs every fixture process still running (for afterAll). */
export async function killFixtures(): Promise<void> {
	const waits = [...children].map(
		(child) =>
			new Promise<void>((resolve) => {
				child.once("close", () => resolve());
				child.kill("SIGKILL");
			}),
	);
	await Promise.all(waits);
}

/** Remembers every pid an engine had, so the end of a test file can check that none is left. */
export class EngineTracker {
	readonly #engines: EngineHandle[] = [];
	readonly #pids = new Set<number>();

	add(engine: EngineHandle): EngineHandle {
		this.#engines.push(engine);
		this.note();
		return engine;
	}

	/** Records the current pids (call after a restart). */
	note(): void {
		for (const engine of this.#engines) if (engine.pid > 0) this.#pids.add(engine.pid);
	}

	/** Stops every engine; resolves with the pids that are still alive afterwards (expected: none). */
	async stopAll(): Promise<number[]> {
		this.note();
		await Promise.all(this.#engines.map((engine) => engine.stop().catch(() => undefined)));
		return [...this.#pids].filter(alive);
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

const MiB = 1024 * 1024;

/** Heap used and RSS, in MiB, after a garbage collection when `--expose-gc` is on. */
export function memory(): { heapMiB: number; rssMiB: number } {
	const gc = (globalThis as { gc?: () => void }).gc;
	gc?.();
	const usage = process.memoryUsage();
	return { heapMiB: Math.round(usage.heapUsed / MiB), rssMiB: Math.round(usage.rss / MiB) };
}

/** Resident memory of another process in MiB (Linux `/proc`), or undefined where it cannot be read. */
export function processRssMiB(pid: number): number | undefined {
	try {
		const status = readFileSync(`/proc/${pid}/status`, "utf8");
		const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
		return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
	} catch {
		return undefined;
	}
}

/** Milliseconds an HTTP GET through the gateway takes, with its status. */
export async function timedFetch(
	engine: EngineHandle,
	actorId: string,
	path: string,
	timeoutMs = 10_000,
): Promise<{ status: number; text: string; ms: number }> {
	const from = Date.now();
	const res = await fetch(engine.api.gatewayUrl(actorId, path), { signal: AbortSignal.timeout(timeoutMs) });
	const text = await res.text();
	return { status: res.status, text, ms: Date.now() - from };
}
