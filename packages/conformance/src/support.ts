/**
 * Helpers shared by the scenarios: waiting, bytes, unique names, a recorder of runner callbacks, and per-scenario
 * cleanup.
 *
 * @module
 */
import type { Actor, EngineHandle } from "@x/dev-engine";
import type { ActorConfig, RunnerOptions, StopReason } from "@x/runner-core";

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `promise` settles or `ms` pass, whichever is first; never rejects. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		await Promise.race([
			promise.catch(() => undefined),
			new Promise<void>((resolve) => {
				timer = setTimeout(resolve, ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

/** Polls `check` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
	check: () => T | Promise<T>,
	what: string,
	timeoutMs = 15_000,
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
			throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${detail}`);
		}
		await sleep(intervalMs);
	}
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
	return encoder.encode(text);
}

/** Text of UTF-8 `bytes` (empty for null). */
export function text(bytes: Uint8Array | null | undefined): string {
	return bytes ? decoder.decode(bytes) : "";
}

/** Bytes of a deterministic xorshift sequence, so failures are reproducible. */
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

let counter = 0;

/** A runner pool (or key) name unique to this process and call. */
export function uniqueName(prefix: string): string {
	counter++;
	return `${prefix}-${counter}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The actor as the engine sees it; throws when the engine does not know it. */
export async function engineActor(engine: EngineHandle, actorId: string): Promise<Actor> {
	const actor = await engine.api.getActor(actorId);
	if (!actor) throw new Error(`the engine does not know actor ${actorId}`);
	return actor;
}

/** A request through the gateway; returns status, body bytes and headers. */
export async function gatewayRequest(
	engine: EngineHandle,
	actorId: string,
	path: string,
	init: RequestInit = {},
	timeoutMs = 30_000,
): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
	const started = Date.now();
	try {
		const response = await fetch(engine.api.gatewayUrl(actorId, path), {
			...init,
			signal: AbortSignal.timeout(timeoutMs),
		});
		return {
			status: response.status,
			body: new Uint8Array(await response.arrayBuffer()),
			headers: response.headers,
		};
	} catch (error) {
		const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
		throw new Error(
			`gateway ${init.method ?? "GET"} ${path} to ${actorId} failed after ${Date.now() - started} ms: ${detail}`,
			{ cause: error },
		);
	}
}

/** One `onActorStart` call. */
export interface StartRecord {
	readonly actorId: string;
	readonly generation: number;
	readonly config: ActorConfig;
	readonly at: number;
}

/** One `onActorStop` call. */
export interface StopRecord {
	readonly actorId: string;
	readonly generation: number;
	readonly reason: StopReason;
	readonly at: number;
}

/** Records what a runner's callbacks saw. */
export class Recorder {
	readonly starts: StartRecord[] = [];
	readonly stops: StopRecord[] = [];
	readonly errors: string[] = [];
	readonly connects: Array<{ runnerId: string; reconnected: boolean; at: number }> = [];
	readonly disconnects: Array<{ code: number; willReconnect: boolean; at: number }> = [];
	shutdowns = 0;

	/** Callbacks to spread into runner options. */
	callbacks(): Pick<
		RunnerOptions,
		"onActorStart" | "onActorStop" | "onConnected" | "onDisconnected" | "onError" | "onShutdown"
	> {
		return {
			onActorStart: ({ actorId, generation, config }) => {
				this.starts.push({ actorId, generation, config, at: Date.now() });
			},
			onActorStop: ({ actorId, generation, reason }) => {
				this.stops.push({ actorId, generation, reason, at: Date.now() });
			},
			onConnected: ({ runnerId, reconnected }) => {
				this.connects.push({ runnerId, reconnected, at: Date.now() });
			},
			onDisconnected: ({ code, willReconnect }) => {
				this.disconnects.push({ code, willReconnect, at: Date.now() });
			},
			onError: (error, context) => {
				this.errors.push(`${context.stage}${context.actorId ? ` ${context.actorId}` : ""}: ${error.message}`);
			},
			onShutdown: () => {
				this.shutdowns++;
			},
		};
	}

	/** Starts of one actor. */
	startsOf(actorId: string): StartRecord[] {
		return this.starts.filter((s) => s.actorId === actorId);
	}

	/** Stops of one actor. */
	stopsOf(actorId: string): StopRecord[] {
		return this.stops.filter((s) => s.actorId === actorId);
	}
}

/** Cleanup of one scenario run: deferred functions run in reverse order, each even when another throws. */
export class Scope {
	readonly #deferred: Array<() => unknown> = [];

	/** Runs `fn` when the scenario ends, however it ends. */
	defer(fn: () => unknown): void {
		this.#deferred.push(fn);
	}

	/** Runs every deferred function (last in, first out); returns the first failure, if any. */
	async close(): Promise<unknown> {
		let failure: unknown;
		while (this.#deferred.length > 0) {
			const fn = this.#deferred.pop()!;
			try {
				await fn();
			} catch (error) {
				failure ??= error;
			}
		}
		return failure;
	}
}
