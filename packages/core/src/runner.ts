/**
 * `Runner`: the public facade. It keeps the reference runner's method names; each method validates its arguments and
 * delegates to one part (built in wiring.ts; the engine session in session.ts). It is longer than most modules
 * because the public surface is: every method is a few documented lines.
 *
 * @module
 */
import { encodeToServerlessServer } from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "./actor.ts";
import { toBase64 } from "./bytes.ts";
import { type ResolvedConfig, type RunnerOptions, resolveConfig } from "./config.ts";
import {
	ActorNotFoundError,
	describeError,
	InvalidArgumentError,
	isRunnerError,
	RunnerError,
	RunnerShutdownError,
} from "./errors.ts";
import type { KvCallOptions, KvEntry, KvListOptions } from "./kv.ts";
import type { Logger } from "./platform.ts";
import { Session } from "./session.ts";
import { runShutdown } from "./shutdown.ts";
import { bindSignals } from "./signals.ts";
import type { WebSocketMetrics } from "./tunnel/ws-channel.ts";
import type { ActorInfo, EngineThresholds, ErrorContext, ShutdownOptions } from "./types.ts";
import { PROTOCOL_VERSION } from "./url.ts";
import { type RunnerParts, wireRunner } from "./wiring.ts";

/** Options of {@link Runner.start}. */
export interface StartOptions {
	/** Aborting it starts a drain (`shutdown()`), e.g. from a process signal. */
	signal?: AbortSignal;
}

/**
 * A runner: one connection to the engine hosting many actors. Create it, `await start()`, and call `shutdown()` when
 * done. Adapter packages (`@x/runner-node`, …) export a subclass with the host's defaults filled in.
 */
export class Runner {
	readonly #config: ResolvedConfig;
	readonly #log: Logger;
	readonly #parts: RunnerParts;
	readonly #session: Session;
	#started = false;
	#draining = false;
	#shutdown: Promise<void> | undefined;
	#escalate: (() => void) | undefined;
	#shutdownWaiters: Array<() => void> = [];

	/** Validates the options; throws {@link InvalidArgumentError} naming a bad one. Connects only on `start()`. */
	constructor(options: RunnerOptions) {
		this.#config = resolveConfig(options);
		this.#log = this.#config.platform.logger.child({ runner: this.#config.runnerName });
		this.#parts = wireRunner(this.#config, this.#log, {
			runner: this,
			send: (message) => this.#session.connection.send(message),
			ready: () => this.#session.connection.ready,
			backpressured: () => this.#session.connection.backpressured,
			shuttingDown: () => this.#shutdown !== undefined,
			draining: () => this.#draining,
			report: (error, context) => this.#report(error, context),
		});
		this.#session = new Session(this.#config, this.#log, this.#parts, {
			shuttingDown: () => this.#shutdown !== undefined,
			evicted: () => void this.shutdown({ mode: "immediate" }),
			callback: (name, fn) => this.#callback(name, fn),
			report: (error, context) => this.#report(error, context),
		});
	}

	/** Runner pool name. */
	get runnerName(): string {
		return this.#config.runnerName;
	}

	/** Id the engine gave this runner; undefined before the first handshake. */
	get runnerId(): string | undefined {
		return this.#session.runnerId;
	}

	/** Thresholds announced by the engine at the last handshake. */
	get thresholds(): EngineThresholds | undefined {
		return this.#session.thresholds;
	}

	/** Whether the engine connection is up and the handshake done. */
	get connected(): boolean {
		return this.#session.connection.ready;
	}

	/** The actors hosted now, by id (read-only views). */
	get actors(): ReadonlyMap<string, ActorInfo> {
		return this.#parts.actors.map;
	}

	/** Counters of tunnelled WebSockets (open, hibernatable, restored, replayed, dropped duplicates, gaps). */
	get webSocketMetrics(): Readonly<WebSocketMetrics> {
		return { ...this.#parts.tunnel.metrics };
	}

	/** Connects to the engine. Resolves after the first successful handshake; keeps retrying until then. */
	start(options: StartOptions = {}): Promise<void> {
		if (this.#shutdown)
			return Promise.reject(new RunnerShutdownError("runner was shut down; create a new one"));
		if (this.#started)
			return Promise.reject(new RunnerError("ALREADY_STARTED", "start() was already called"));
		this.#started = true;
		const source = this.#config.platform.signals;
		const signalOptions = this.#config.options.signals ?? true;
		if (source && signalOptions !== false) {
			const remove = bindSignals(this, source, signalOptions === true ? {} : signalOptions);
			void this.shutdownComplete().then(remove);
		}
		const { signal } = options;
		if (signal) {
			if (signal.aborted) return this.shutdown().then(() => Promise.reject(new RunnerShutdownError()));
			signal.addEventListener("abort", () => void this.shutdown(), { once: true });
		}
		return this.#session.start();
	}

	/**
	 * Shuts down (see {@link ShutdownOptions}). Idempotent: every call returns the same promise, which resolves after
	 * `onShutdown` has run.
	 */
	shutdown(options: ShutdownOptions = {}): Promise<void> {
		if (options.mode !== undefined && options.mode !== "drain" && options.mode !== "immediate") {
			return Promise.reject(new InvalidArgumentError("mode", `must be "drain" or "immediate"`));
		}
		if (this.#shutdown) {
			if (options.mode === "immediate") this.#escalate?.();
			return this.#shutdown;
		}
		this.#shutdown = this.#runShutdown(options);
		const waiters = this.#shutdownWaiters;
		this.#shutdownWaiters = [];
		for (const waiter of waiters) waiter();
		return this.#shutdown;
	}

	/** Settles when a shutdown (started by anyone) has completed; never rejects. */
	shutdownComplete(): Promise<void> {
		return new Promise<void>((resolve) => {
			const check = (): void => {
				if (this.#shutdown) void this.#shutdown.then(resolve, resolve);
				else this.#shutdownWaiters.push(check);
			};
			check();
		});
	}

	/** Asks the engine to put the actor to sleep; it keeps its KV and alarm and wakes on demand. */
	sleepActor(actorId: string, generation?: number): void {
		const actor = this.#requireActor(actorId, generation);
		actor.intent = "sleep";
		this.#parts.events.record(actor, {
			tag: "EventActorIntent",
			val: { intent: { tag: "ActorIntentSleep", val: null } },
		});
	}

	/** Asks the engine to stop the actor for good: it is destroyed, its KV deleted. */
	stopActor(actorId: string, generation?: number): void {
		const actor = this.#requireActor(actorId, generation);
		actor.intent = "destroy";
		this.#parts.events.record(actor, {
			tag: "EventActorIntent",
			val: { intent: { tag: "ActorIntentStop", val: null } },
		});
	}

	/** Same as {@link stopActor}. */
	destroyActor(actorId: string, generation?: number): void {
		this.stopActor(actorId, generation);
	}

	/** Stops the actor here and now, without asking the engine; its crash policy then applies. */
	async forceStopActor(actorId: string, generation?: number): Promise<void> {
		return this.#parts.actors.stop(this.#requireActor(actorId, generation), "forced");
	}

	/** The hosted actor, or undefined (also when `generation` is given and differs). */
	getActor(actorId: string, generation?: number): ActorInfo | undefined {
		return this.#parts.actors.get(actorId, generation);
	}

	/** Whether the actor is hosted here. */
	hasActor(actorId: string, generation?: number): boolean {
		return this.#parts.actors.get(actorId, generation) !== undefined;
	}

	/** Waits until the hosted actor has started; rejects if it is unknown or its start fails. */
	async getAndWaitForActor(actorId: string, generation?: number): Promise<ActorInfo> {
		const actor = this.#requireActor(actorId, generation);
		await actor.started;
		return actor;
	}

	/** Sets (epoch ms) or clears (`null`) the actor's alarm; a sleeping actor is woken when it is due. */
	setAlarm(actorId: string, timestamp: number | Date | null, generation?: number): void {
		const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
		if (ms !== null && (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)) {
			throw new InvalidArgumentError(
				"timestamp",
				`must be epoch milliseconds (≥ 0), a Date or null, got ${String(timestamp)}`,
			);
		}
		const actor = this.#requireActor(actorId, generation);
		const alarmTs = ms === null ? null : BigInt(Math.floor(ms));
		this.#parts.events.record(actor, {
			tag: "EventActorSetAlarm",
			val: { alarmTs },
		});
	}

	/** Clears the actor's alarm. */
	clearAlarm(actorId: string, generation?: number): void {
		this.setAlarm(actorId, null, generation);
	}

	/** Values for `keys` in the same order; `null` where missing. */
	kvGet(actorId: string, keys: Uint8Array[], options?: KvCallOptions): Promise<(Uint8Array | null)[]> {
		return this.#parts.kv.get(actorId, keys, options);
	}

	/** Every entry of the actor's store, in key order. */
	kvListAll(actorId: string, options?: KvListOptions): Promise<KvEntry[]> {
		return this.#parts.kv.listAll(actorId, options);
	}

	/** Entries with `start ≤ key ≤ end`, or `< end` when `exclusive`. */
	kvListRange(
		actorId: string,
		start: Uint8Array,
		end: Uint8Array,
		exclusive?: boolean,
		options?: KvListOptions,
	): Promise<KvEntry[]> {
		return this.#parts.kv.listRange(actorId, start, end, exclusive, options);
	}

	/** Entries whose key starts with `prefix`. */
	kvListPrefix(actorId: string, prefix: Uint8Array, options?: KvListOptions): Promise<KvEntry[]> {
		return this.#parts.kv.listPrefix(actorId, prefix, options);
	}

	/** Writes entries atomically (≤ 128 entries, keys ≤ 2046 bytes, values ≤ 128 KiB, ≤ 976 KiB in all). */
	kvPut(actorId: string, entries: KvEntry[], options?: KvCallOptions): Promise<void> {
		return this.#parts.kv.put(actorId, entries, options);
	}

	/** Deletes keys. */
	kvDelete(actorId: string, keys: Uint8Array[], options?: KvCallOptions): Promise<void> {
		return this.#parts.kv.delete(actorId, keys, options);
	}

	/** Deletes keys with `start ≤ key < end`. */
	kvDeleteRange(actorId: string, start: Uint8Array, end: Uint8Array, options?: KvCallOptions): Promise<void> {
		return this.#parts.kv.deleteRange(actorId, start, end, options);
	}

	/** Deletes the actor's whole store. */
	kvDrop(actorId: string, options?: KvCallOptions): Promise<void> {
		return this.#parts.kv.drop(actorId, options);
	}

	/**
	 * Acknowledges incoming message `index` of a hibernatable socket (hex ids as in the message event). Only needed
	 * when acknowledging by hand; the runner acknowledges automatically unless hibernation `commit` is "manual".
	 * Returns false when the socket is not open here.
	 */
	ackWebSocketMessage(gatewayId: string, requestId: string, index: number): boolean {
		if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
			throw new InvalidArgumentError("index", `must be an integer from 0 to 65535, got ${String(index)}`);
		}
		if (!/^[0-9a-f]{8}$/.test(gatewayId))
			throw new InvalidArgumentError("gatewayId", "must be 8 lowercase hex characters");
		if (!/^[0-9a-f]{8}$/.test(requestId))
			throw new InvalidArgumentError("requestId", "must be 8 lowercase hex characters");
		return this.#parts.tunnel.ackWebSocketMessage(gatewayId, requestId, index);
	}

	/**
	 * The packet a serverless endpoint streams to the engine: base64 of a u16 little-endian protocol version followed
	 * by `ToServerlessServerInit`. Undefined before the first handshake.
	 */
	getServerlessInitPacket(): string | undefined {
		if (!this.#session.runnerId) return undefined;
		const body = encodeToServerlessServer({
			tag: "ToServerlessServerInit",
			val: { runnerId: this.#session.runnerId, runnerProtocolVersion: PROTOCOL_VERSION },
		});
		const packet = new Uint8Array(body.length + 2);
		packet[0] = PROTOCOL_VERSION & 0xff;
		packet[1] = PROTOCOL_VERSION >> 8;
		packet.set(body, 2);
		return toBase64(packet);
	}

	/** A description without secrets. */
	toString(): string {
		return `Runner(${this.#config.runnerName}, ${this.#config.endpoint.origin}, ${this.#session.runnerId ?? "not connected"})`;
	}

	/** JSON form without secrets. */
	toJSON(): Record<string, unknown> {
		return {
			runnerName: this.#config.runnerName,
			endpoint: this.#config.endpoint.origin,
			runnerId: this.#session.runnerId,
			actors: this.#parts.actors.size,
		};
	}

	#requireActor(actorId: string, generation?: number): ActorRecord {
		if (typeof actorId !== "string" || actorId.length === 0)
			throw new InvalidArgumentError("actorId", "must be a non-empty string");
		if (generation !== undefined && (!Number.isInteger(generation) || generation < 0)) {
			throw new InvalidArgumentError(
				"generation",
				`must be a non-negative integer, got ${String(generation)}`,
			);
		}
		const actor = this.#parts.actors.get(actorId, generation);
		if (!actor) throw new ActorNotFoundError(actorId);
		return actor;
	}

	async #runShutdown(options: ShutdownOptions): Promise<void> {
		this.#session.stop();
		const { actors, kv, tunnel } = this.#parts;
		const connection = this.#session.connection;
		await runShutdown(
			{
				actors,
				log: this.#log,
				defaultDeadlineMs: this.#config.drainDeadlineMs,
				connected: () => connection.ready,
				announceStopping: () => {
					this.#draining = true;
					return connection.send({ tag: "ToServerStopping", val: null });
				},
				progress: (remaining, elapsedMs) => this.#progress(remaining, elapsedMs),
				escalated: new Promise<void>((resolve) => {
					this.#escalate = resolve;
				}),
				now: () => this.#config.platform.clock.now(),
				closeTransport: async () => {
					tunnel.shutdown();
					kv.close();
					await connection.close(1000, "pegboard.runner_shutdown");
				},
				finished: async () => {
					try {
						await this.#config.options.onShutdown?.();
					} catch (error) {
						this.#report(
							new RunnerError("HANDLER_ERROR", `onShutdown failed: ${describeError(error)}`, {
								cause: error,
							}),
							{ stage: "shutdown" },
						);
					}
				},
			},
			options,
		);
	}

	#progress(remaining: number, elapsedMs: number): void {
		this.#log.info({ remaining, elapsedMs }, "draining");
		this.#callback("onDrainProgress", () => this.#config.options.onDrainProgress?.({ remaining, elapsedMs }));
	}

	#callback(name: string, fn: () => void): void {
		try {
			fn();
		} catch (error) {
			this.#report(
				new RunnerError("HANDLER_ERROR", `${name} threw: ${describeError(error)}`, { cause: error }),
				{ stage: "callback" },
			);
		}
	}

	#report(error: RunnerError, context: ErrorContext): void {
		const { onError } = this.#config.options;
		this.#log.error(
			{ code: error.code, stage: context.stage, actorId: context.actorId, error: error.message },
			"runner error",
		);
		if (!onError) return;
		try {
			onError(isRunnerError(error) ? error : new RunnerError("HANDLER_ERROR", String(error)), context);
		} catch (thrown) {
			this.#log.error({ error: describeError(thrown) }, "onError threw");
		}
	}
}
