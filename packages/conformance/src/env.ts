/**
 * What each runtime's test file supplies to the suite: its adapter's classes, a WebSocket client, and a way to start
 * a child process of the same runtime. Everything runtime-specific lives in those test files, not in the suite.
 *
 * @module
 */
import type { Runner, RunnerOptions } from "@x/runner-core";
import type { Runner as ReferenceRunner, RunnerConfig } from "@x/runner-core/compat";

/** The runtime a suite run is on. */
export type RuntimeName = "node" | "bun" | "deno";

/** The public surface of an adapter's `Runner` (structural, so any copy of the core class fits). */
export type RunnerLike = Pick<Runner, keyof Runner>;

/** The public surface of an adapter's compat `Runner` (the `@rivetkit/engine-runner@2.2.1` API). */
export type CompatRunnerLike = Pick<ReferenceRunner, keyof ReferenceRunner>;

/** A WHATWG-style message event as the three runtimes' clients deliver it. */
export interface ClientMessageEvent {
	/** Text as a string; binary as an ArrayBuffer, a typed array (Bun's `nodebuffer`) or a Blob. */
	readonly data: unknown;
}

/** A WHATWG-style close event. */
export interface ClientCloseEvent {
	readonly code: number;
	readonly reason: string;
}

/** The part of a WebSocket client the suite uses (the global `WebSocket` of Bun and Deno, `ws` on Node). */
export interface WebSocketClientLike {
	readonly readyState: number;
	readonly protocol: string;
	binaryType: string;
	send(data: string | ArrayBuffer | Uint8Array): void;
	close(code?: number, reason?: string): void;
	onopen: ((event: unknown) => void) | null;
	onmessage: ((event: ClientMessageEvent) => void) | null;
	onclose: ((event: ClientCloseEvent) => void) | null;
	onerror: ((event: unknown) => void) | null;
}

/** A WebSocket client constructor. */
export type WebSocketClientConstructor = new (url: string, protocols: string[]) => WebSocketClientLike;

/** How a child process ended. */
export interface ProcessExit {
	/** Exit code, or null when a signal ended it. */
	readonly code: number | null;
	/** The signal that ended it, or null. */
	readonly signal: string | null;
}

/** A child process of the runtime under test, started by {@link ConformanceEnv.spawnRunnerProcess}. */
export interface RunnerProcess {
	/** Process id. */
	readonly pid: number;
	/** Every complete stdout line so far, in order (filled in as they arrive). */
	readonly lines: readonly string[];
	/** Everything written to stdout and stderr so far (for failure messages). */
	output(): string;
	/** Sends a signal. */
	kill(signal: "SIGTERM" | "SIGINT" | "SIGKILL"): void;
	/** Settles when the process has exited and its output has been read. */
	readonly exited: Promise<ProcessExit>;
}

/** Everything the suite needs from one runtime. */
export interface ConformanceEnv {
	/** Which runtime this is (shown in scenario failures). */
	readonly runtime: RuntimeName;
	/** The adapter's `Runner` (`@x/runner-node`, `@x/runner-bun` or `@x/runner-deno`). */
	readonly Runner: new (
		options: RunnerOptions,
	) => RunnerLike;
	/** The adapter's drop-in `Runner` from its `/compat` entry. */
	readonly CompatRunner: new (
		config: RunnerConfig,
	) => CompatRunnerLike;
	/** A WebSocket client constructor (global `WebSocket` on Bun and Deno, `ws` on Node 20). */
	readonly WebSocket: WebSocketClientConstructor;
	/**
	 * Absolute path of this runtime's signal fixture: it starts a `Runner` of the adapter with `signals: { exit: true }`
	 * from `CONFORMANCE_ENDPOINT` and `CONFORMANCE_POOL`, prints `conformance:connected <runnerId>`, then
	 * `conformance:started <actorId>` per actor start, `conformance:stopped <actorId> <reason>` per stop and
	 * `conformance:shutdown` from `onShutdown`.
	 */
	readonly signalRunnerScript: string;
	/** Starts `scriptPath` in a child process of the SAME runtime, with `env` added to the environment. */
	spawnRunnerProcess(scriptPath: string, env: Record<string, string>): RunnerProcess;
	/** Registers a hook run after every scenario of the file (where the test runner has one). */
	readonly afterAll?: (fn: () => Promise<void>) => void;
}

/** Registers one scenario with the runtime's test runner (`it`, `test` or `Deno.test`). */
export type RegisterScenario = (name: string, fn: () => Promise<void>, timeoutMs: number) => void;
