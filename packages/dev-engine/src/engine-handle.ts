import { rm } from "node:fs/promises";
import type { EngineApi } from "./api-types.ts";
import type { EnginePorts } from "./config.ts";
import { asyncDisposeSymbol } from "./dispose.ts";
import type { EngineProcess } from "./engine-process.ts";
import { DevEngineError } from "./errors.ts";
import type { LogRing } from "./log-buffer.ts";

/** Options of {@link EngineHandle.stop}. */
export interface StopOptions {
	/** Milliseconds between SIGTERM and SIGKILL. Default: 5000. */
	timeoutMs?: number;
}

/** A running dev engine. Obtain one with `startEngine()`. */
export interface EngineHandle {
	/** Public base URL (guard port), e.g. "http://127.0.0.1:6420". Stays the same across restarts. */
	readonly endpoint: string;
	/** Namespace used by `api`. */
	readonly namespace: string;
	/** Ports in use (kept across restarts). */
	readonly ports: EnginePorts;
	/** Storage folder of the engine. */
	readonly dataDir: string;
	/** Pid of the engine process itself (the latest one after a restart). */
	readonly pid: number;
	/** Whether the engine process is currently alive. */
	readonly running: boolean;
	/** Typed client for this engine's API, scoped to `namespace`. */
	readonly api: EngineApi;
	/** The last ~200 lines of the engine's output. */
	logTail(): string;
	/** SIGTERM, then SIGKILL after `timeoutMs` (default 5000); removes temp storage. Idempotent. */
	stop(options?: StopOptions): Promise<void>;
	/** SIGKILLs the engine and waits for it to exit; keeps storage so `restart()` can reuse it. */
	kill(): Promise<void>;
	/** Stops the engine if running and starts it again with the same ports and storage. */
	restart(): Promise<void>;
	/** Same as `stop()`, for `await using`. */
	[Symbol.asyncDispose](): Promise<void>;
}

/** Everything a handle needs from `startEngine`. */
export interface HandleInit {
	endpoint: string;
	namespace: string;
	ports: EnginePorts;
	dataDir: string;
	/** Folders removed on stop (config folder, temp storage). */
	tempDirs: string[];
	ring: LogRing;
	api: EngineApi;
	proc: EngineProcess;
	/** Starts the engine again (checks ports, spawns, waits for health). */
	relaunch: () => Promise<EngineProcess>;
}

/** Creates the {@link EngineHandle} of an engine that has just become healthy. */
export function createEngineHandle(init: HandleInit): EngineHandle {
	return new DevEngineHandle(init);
}

class DevEngineHandle implements EngineHandle {
	readonly endpoint: string;
	readonly namespace: string;
	readonly ports: EnginePorts;
	readonly dataDir: string;
	readonly api: EngineApi;
	readonly #init: HandleInit;
	#proc: EngineProcess | undefined;
	#lastPid: number;
	#stopped: Promise<void> | undefined;
	#queue: Promise<unknown> = Promise.resolve();

	constructor(init: HandleInit) {
		this.#init = init;
		this.endpoint = init.endpoint;
		this.namespace = init.namespace;
		this.ports = init.ports;
		this.dataDir = init.dataDir;
		this.api = init.api;
		this.#proc = init.proc;
		this.#lastPid = init.proc.pid;
	}

	get pid(): number {
		return this.#proc?.pid ?? this.#lastPid;
	}

	get running(): boolean {
		return this.#proc?.running ?? false;
	}

	logTail(): string {
		return this.#init.ring.tail();
	}

	stop(options: StopOptions = {}): Promise<void> {
		this.#stopped ??= this.#enqueue(async () => {
			try {
				await this.#proc?.terminate(options.timeoutMs ?? 5000);
			} finally {
				await Promise.all(this.#init.tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
			}
		});
		return this.#stopped;
	}

	async kill(): Promise<void> {
		// Not queued behind a slow stop()/restart(): SIGKILL whatever runs right now...
		await this.#proc?.kill();
		// ...and whatever a pending restart() may have launched meanwhile.
		await this.#enqueue(async () => {
			await this.#proc?.kill();
		});
	}

	restart(): Promise<void> {
		return this.#enqueue(async () => {
			if (this.#stopped) throw new DevEngineError("NOT_RUNNING", "restart() called after stop()");
			await this.#proc?.terminate(5000);
			this.#proc = undefined;
			const proc = await this.#init.relaunch();
			this.#proc = proc;
			this.#lastPid = proc.pid;
		});
	}

	[asyncDisposeSymbol](): Promise<void> {
		return this.stop();
	}

	#enqueue<T>(task: () => Promise<T>): Promise<T> {
		const run = this.#queue.then(task, task);
		this.#queue = run.catch(() => undefined);
		return run;
	}
}
