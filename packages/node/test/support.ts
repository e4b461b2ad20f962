/**
 * Shared helpers of the engine integration tests: polling, a recorder of runner callbacks, runner construction with
 * the test defaults (no signals, quiet logger), and gateway requests.
 */
import { type Actor, type CreateActorParams, createEngineApi, type EngineHandle } from "@x/dev-engine";
import {
	type ActorConfig,
	createConsoleLogger,
	type ErrorContext,
	type Logger,
	type NodeRunnerOptions,
	Runner,
	type RunnerError,
	type StopReason,
} from "../src/index.ts";

/** A logger that prints warnings and errors only. */
export function quietLogger(): Logger {
	return createConsoleLogger({ level: "warn" });
}

let poolCounter = 0;

/** A runner pool name unique to this process and call. */
export function uniquePool(prefix: string): string {
	poolCounter++;
	return `${prefix}-${process.pid}-${poolCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * How long to wait for anything the engine drives (starts, stops, sleeps, wakes). Generous on purpose: the engine's
 * workflow worker sheds load when the host CPU is busy (metric `gasoline_load_shedding_ratio`), which on a small shared
 * machine delays workflow steps by tens of seconds.
 */
export const ENGINE_WAIT_MS = 60_000;

/** Timeout of one engine test (several engine waits in a row). */
export const ENGINE_TEST_TIMEOUT_MS = 180_000;

/** Polls `check` every `intervalMs` until it returns a truthy value; throws `message` after `timeoutMs`. */
export async function waitFor<T>(
	check: () => T | Promise<T>,
	message: string,
	timeoutMs = ENGINE_WAIT_MS,
	intervalMs = 50,
): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value) return value as NonNullable<T>;
		} catch (error) {
			lastError = error;
		}
		if (Date.now() > deadline) {
			const detail = lastError === undefined ? "" : ` (last error: ${String(lastError)})`;
			throw new Error(`timed out after ${timeoutMs} ms waiting for: ${message}${detail}`);
		}
		await sleep(intervalMs);
	}
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One `onActorStart` call. */
export interface StartRecord {
	actorId: string;
	generation: number;
	config: ActorConfig;
	at: number;
}

/** One `onActorStop` call. */
export interface StopRecord {
	actorId: string;
	generation: number;
	reason: StopReason;
	at: number;
}

/** Records what the runner callbacks saw, in order. */
export class Recorder {
	readonly starts: StartRecord[] = [];
	readonly stops: StopRecord[] = [];
	readonly errors: Array<{ error: RunnerError; context: ErrorContext }> = [];
	readonly connects: Array<{ runnerId: string; reconnected: boolean; at: number }> = [];
	readonly disconnects: Array<{ code: number; reason: string; willReconnect: boolean; at: number }> = [];
	/** Every callback as a short label, e.g. `start:<id>:0`, `stop:<id>:sleep`, `shutdown`. */
	readonly order: string[] = [];

	/** Callbacks to spread into the runner options (`onActorStart` must be supplied separately when customised). */
	callbacks(): Pick<
		NodeRunnerOptions,
		"onActorStart" | "onActorStop" | "onConnected" | "onDisconnected" | "onError" | "onShutdown"
	> {
		return {
			onActorStart: ({ actorId, generation, config }) => {
				this.recordStart(actorId, generation, config);
			},
			onActorStop: ({ actorId, generation, reason }) => {
				this.stops.push({ actorId, generation, reason, at: Date.now() });
				this.order.push(`stop:${actorId}:${reason}`);
			},
			onConnected: ({ runnerId, reconnected }) => {
				this.connects.push({ runnerId, reconnected, at: Date.now() });
				this.order.push(`connected:${reconnected}`);
			},
			onDisconnected: ({ code, reason, willReconnect }) => {
				this.disconnects.push({ code, reason, willReconnect, at: Date.now() });
				this.order.push(`disconnected:${code}`);
			},
			onError: (error, context) => {
				this.errors.push({ error, context });
				this.order.push(`error:${context.stage}`);
			},
			onShutdown: () => {
				this.order.push("shutdown");
			},
		};
	}

	/** Records an `onActorStart` call (for custom start handlers). */
	recordStart(actorId: string, generation: number, config: ActorConfig): void {
		this.starts.push({ actorId, generation, config, at: Date.now() });
		this.order.push(`start:${actorId}:${generation}`);
	}

	/** Starts recorded for one actor. */
	startsOf(actorId: string): StartRecord[] {
		return this.starts.filter((s) => s.actorId === actorId);
	}

	/** Stops recorded for one actor. */
	stopsOf(actorId: string): StopRecord[] {
		return this.stops.filter((s) => s.actorId === actorId);
	}
}

const liveRunners = new Set<Runner>();

/** A Node runner with the test defaults: `signals: false`, a quiet logger, 20 slots. Tracked for cleanup. */
export function makeRunner(
	engine: EngineHandle,
	runnerName: string,
	options: Omit<NodeRunnerOptions, "endpoint" | "runnerName" | "totalSlots"> &
		Partial<Pick<NodeRunnerOptions, "totalSlots">>,
): Runner {
	const runner = new Runner({
		endpoint: engine.endpoint,
		runnerName,
		totalSlots: 20,
		logger: quietLogger(),
		...options,
		signals: false,
	});
	liveRunners.add(runner);
	return runner;
}

/** Shuts down (immediately) every runner made by {@link makeRunner} that is still up. For afterEach/afterAll. */
export async function shutdownAllRunners(): Promise<void> {
	const runners = [...liveRunners];
	liveRunners.clear();
	await Promise.all(runners.map((runner) => runner.shutdown({ mode: "immediate" }).catch(() => undefined)));
}

/** GET (or another method) through the gateway; returns status and body text. */
export async function gatewayFetch(
	engine: EngineHandle,
	actorId: string,
	path = "/",
	init: RequestInit = {},
	timeoutMs = 30_000,
): Promise<{ status: number; text: string }> {
	const res = await fetch(engine.api.gatewayUrl(actorId, path), {
		...init,
		signal: AbortSignal.timeout(timeoutMs),
	});
	return { status: res.status, text: await res.text() };
}

/** The actor as the engine sees it; throws when it does not exist. */
export async function engineActor(engine: EngineHandle, actorId: string): Promise<Actor> {
	const actor = await engine.api.getActor(actorId);
	if (!actor) throw new Error(`engine does not know actor ${actorId}`);
	return actor;
}

/** Bytes 0..n-1 of a deterministic pseudo-random sequence (seeded), so failures are reproducible. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array<ArrayBuffer> {
	const out = new Uint8Array(n);
	let x = seed >>> 0 || 1;
	for (let i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		out[i] = x & 0xff;
	}
	return out;
}

/** Whether two byte arrays are equal (fast path for big values, so assertion diffs stay small). */
export function bytesEqual(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
	if (!a || !b) return a === b;
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

let actorCounter = 0;

/**
 * Creates an actor, tolerating the engine's stalls in starting new workflows under CPU load (`POST /actors` then hangs
 * for 10–80 s, see {@link ENGINE_WAIT_MS}). Uses get-or-create with a unique key (unless one is given) so a retry
 * never creates a second actor.
 */
export async function createActor(
	engine: EngineHandle,
	params: Omit<CreateActorParams, "key"> & { key?: string },
	deadlineMs = ENGINE_WAIT_MS,
): Promise<Actor> {
	actorCounter++;
	const key = params.key ?? `t-${process.pid}-${actorCounter}-${Math.random().toString(36).slice(2, 8)}`;
	const api = createEngineApi(engine.endpoint, { namespace: engine.namespace, timeoutMs: 15_000 });
	const started = Date.now();
	for (let attempt = 1; ; attempt++) {
		try {
			const { actor } = await api.getOrCreateActor({ ...params, key });
			if (attempt > 1)
				console.warn(`[support] createActor needed ${attempt} attempts (${Date.now() - started} ms)`);
			return actor;
		} catch (error) {
			// A retry can race the first attempt's workflow for the key (seen right after an engine restart, when the
			// first attempt timed out): the engine then destroys the newcomer and answers 400
			// actor.destroyed_during_creation. Asked again, get-or-create finds the actor that holds the key.
			const raced = error instanceof Error && /destroyed_during_creation/.test(error.message);
			const transient =
				raced || (error instanceof Error && (error.name === "TimeoutError" || /\b500\b/.test(error.message)));
			if (!transient || Date.now() - started > deadlineMs) throw error;
			if (raced) await sleep(500);
		}
	}
}

/**
 * A one-line view of the engine for failure messages: the actor as the engine sees it, and how often the engine's
 * workflow worker shed load (pulled only part of its due work because the host CPU was busy).
 */
export async function engineDiagnostics(engine: EngineHandle, actorId?: string): Promise<string> {
	const parts: string[] = [];
	try {
		if (actorId) parts.push(`actor=${JSON.stringify(await engine.api.getActor(actorId))}`);
		const text = await (
			await fetch(`http://127.0.0.1:${engine.ports.metrics}/metrics`, { signal: AbortSignal.timeout(5000) })
		).text();
		const count = (le: string): number => {
			const prefix = `rivet_gasoline_load_shedding_ratio_bucket{le="${le}"} `;
			const line = text.split("\n").find((l) => l.startsWith(prefix));
			return Number(line?.slice(prefix.length) ?? 0);
		};
		parts.push(`worker ticks with load shedding: ${count("0.9")} of ${count("+Inf")}`);
	} catch (error) {
		parts.push(`diagnostics failed: ${String(error)}`);
	}
	return parts.join("; ");
}

/** Waits until `runner` hosts the actor in state "running"; on timeout the error carries engine diagnostics. */
export async function waitRunning(engine: EngineHandle, runner: Runner, actorId: string): Promise<void> {
	try {
		await waitFor(() => runner.getActor(actorId)?.state === "running", `actor ${actorId} running`);
	} catch (error) {
		throw new Error(`${String(error)}; ${await engineDiagnostics(engine, actorId)}`);
	}
}
