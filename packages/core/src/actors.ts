/**
 * The actors hosted by this runner: registration, start with a timeout, and the single stop path that every way of
 * stopping goes through (engine command, failed start, shutdown, lost connection, forced stop).
 *
 * @module
 */
import { type Event, StopCode } from "@rivetkit/engine-runner-protocol";
import { ActorRecord } from "./actor.ts";
import { describeError, RunnerError, TimeoutError } from "./errors.ts";
import type { Clock, Logger } from "./platform.ts";
import type { ActorConfig, ActorStartContext, ActorStopContext, ErrorStage, StopReason } from "./types.ts";

/** The running event, shared by every actor: it stays in the history until the engine acknowledges it. */
const RUNNING: Event = Object.freeze({
	tag: "EventActorStateUpdate",
	val: Object.freeze({ state: Object.freeze({ tag: "ActorStateRunning", val: null }) }),
});

/** Hooks a tunnel (HTTP/WebSocket) layer attaches to actor lifecycle. */
export interface ActorLifecycleHooks {
	/** After `onActorStart` resolved, before the actor is reported running. */
	beforeRunning?(actor: ActorRecord): Promise<void>;
	/** After `onActorStop`, before the stop is reported: close the actor's requests and sockets. */
	afterStop?(actor: ActorRecord): void | Promise<void>;
}

/** What the registry needs from the runner. */
export interface ActorsHost {
	readonly clock: Clock;
	readonly log: Logger;
	readonly startTimeoutMs: number;
	readonly stopTimeoutMs: number;
	/** Builds the context object for `onActorStart`. */
	startContext(actor: ActorRecord): ActorStartContext;
	/** Builds the context object for `onActorStop`. */
	stopContext(actor: ActorRecord, reason: StopReason): ActorStopContext;
	onActorStart(context: ActorStartContext): void | Promise<void>;
	onActorStop?(context: ActorStopContext): void | Promise<void>;
	/** Records and sends an event for the actor. */
	recordEvent(actor: ActorRecord, event: Event): void;
	/** The actor will send no more events. */
	closeEvents(actor: ActorRecord): void;
	/** The actor has left the registry (no newer generation took its place first). */
	onRemoved(actor: ActorRecord): void;
	/** Whether the runner is draining (stops then report `Ok`). */
	isDraining(): boolean;
	onError(error: RunnerError, stage: ErrorStage, actorId: string): void;
	readonly hooks: ActorLifecycleHooks;
}

/** Registry and lifecycle of the hosted actors. */
export class Actors {
	readonly #host: ActorsHost;
	readonly #actors = new Map<string, ActorRecord>();
	readonly #stopping = new Set<ActorRecord>();
	#emptyWaiters: Array<() => void> = [];

	/** Creates an empty registry. */
	constructor(host: ActorsHost) {
		this.#host = host;
	}

	/** Number of actors hosted (starting, running or stopping). */
	get size(): number {
		return this.#actors.size;
	}

	/** The live map, read-only. */
	get map(): ReadonlyMap<string, ActorRecord> {
		return this.#actors;
	}

	/** The actor with this id, optionally only if it has this generation. */
	get(actorId: string, generation?: number): ActorRecord | undefined {
		const actor = this.#actors.get(actorId);
		if (!actor || (generation !== undefined && actor.generation !== generation)) return undefined;
		return actor;
	}

	/** The actor with this id and generation, also one that a newer generation replaced and that is still stopping. */
	find(actorId: string, generation: number): ActorRecord | undefined {
		const actor = this.#actors.get(actorId);
		if (actor?.generation === generation) return actor;
		for (const stopping of this.#stopping)
			if (stopping.actorId === actorId && stopping.generation === generation) return stopping;
		return undefined;
	}

	/** Every actor: replaced generations still stopping first, then the registry. */
	*all(): IterableIterator<ActorRecord> {
		for (const stopping of this.#stopping)
			if (this.#actors.get(stopping.actorId) !== stopping) yield stopping;
		yield* this.#actors.values();
	}

	/** Registers the actor synchronously, then runs `onActorStart` in the background. */
	start(actorId: string, generation: number, config: ActorConfig): ActorRecord {
		const actor = new ActorRecord(actorId, generation, config);
		this.#actors.set(actorId, actor);
		void this.#run(actor);
		return actor;
	}

	/** Stops the actor once; every caller gets the same promise. */
	stop(actor: ActorRecord, reason: StopReason, message: string | null = null): Promise<void> {
		actor.stopping ??= this.#stop(actor, reason, message);
		return actor.stopping;
	}

	/** Stops every actor (in parallel) and waits for all of them. */
	async stopAll(reason: StopReason): Promise<void> {
		const stops = [...this.#actors.values(), ...this.#stopping].map((actor) => this.stop(actor, reason));
		await Promise.all(stops);
	}

	/** Resolves true when no actor is left, or false when `timeoutMs` passes first. */
	waitForEmpty(timeoutMs: number): Promise<boolean> {
		if (this.#actors.size === 0 && this.#stopping.size === 0) return Promise.resolve(true);
		return new Promise<boolean>((resolve) => {
			const cancel = this.#host.clock.setTimeout(() => {
				this.#emptyWaiters = this.#emptyWaiters.filter((w) => w !== done);
				resolve(false);
			}, timeoutMs);
			const done = (): void => {
				cancel();
				resolve(true);
			};
			this.#emptyWaiters.push(done);
		});
	}

	async #run(actor: ActorRecord): Promise<void> {
		const host = this.#host;
		try {
			await withTimeout(
				() => host.onActorStart(host.startContext(actor)),
				host.clock,
				host.startTimeoutMs,
				`onActorStart of actor ${actor.actorId} did not finish within ${host.startTimeoutMs} ms`,
			);
			if (actor.state !== "starting") return;
			await host.hooks.beforeRunning?.(actor);
			if (!actor.markRunning()) return;
			host.recordEvent(actor, RUNNING);
			host.log.debug({ actorId: actor.actorId, generation: actor.generation }, "actor running");
		} catch (error) {
			const failure =
				error instanceof RunnerError
					? error
					: new RunnerError(
							"ACTOR_START_FAILED",
							`onActorStart of actor ${actor.actorId} failed: ${describeError(error)}`,
							{ cause: error },
						);
			actor.failStart(failure);
			host.onError(failure, "actor-start", actor.actorId);
			await this.stop(actor, "start-failed", failure.message);
		}
	}

	async #stop(actor: ActorRecord, requested: StopReason, requestedMessage: string | null): Promise<void> {
		const host = this.#host;
		this.#stopping.add(actor);
		if (actor.state === "starting" && requested !== "start-failed") {
			// The start is bounded by its own timeout, so this wait is too.
			await actor.started.catch(() => {});
		}
		// However the stop was asked for, a start that failed is reported as the failure it is.
		const failure = actor.startFailure;
		const reason: StopReason = failure ? "start-failed" : requested;
		const message = failure ? failure.message : requestedMessage;
		actor.markStopping(reason);
		host.log.debug({ actorId: actor.actorId, generation: actor.generation, reason }, "stopping actor");
		try {
			if (host.onActorStop) {
				const onActorStop = host.onActorStop;
				await withTimeout(
					() => onActorStop(host.stopContext(actor, reason)),
					host.clock,
					host.stopTimeoutMs,
					`onActorStop of actor ${actor.actorId} did not finish within ${host.stopTimeoutMs} ms`,
				);
			}
		} catch (error) {
			host.onError(
				error instanceof RunnerError
					? error
					: new RunnerError(
							"ACTOR_STOP_FAILED",
							`onActorStop of actor ${actor.actorId} failed: ${describeError(error)}`,
							{ cause: error },
						),
				"actor-stop",
				actor.actorId,
			);
		}
		try {
			await host.hooks.afterStop?.(actor);
		} catch (error) {
			host.onError(
				new RunnerError(
					"ACTOR_STOP_FAILED",
					`closing the requests of actor ${actor.actorId} failed: ${describeError(error)}`,
					{ cause: error },
				),
				"actor-stop",
				actor.actorId,
			);
		}
		const code = stopCode(reason, actor, host.isDraining());
		host.recordEvent(actor, {
			tag: "EventActorStateUpdate",
			val: {
				state: {
					tag: "ActorStateStopped",
					val: { code, message: code === StopCode.Error ? (message ?? reason) : null },
				},
			},
		});
		actor.markStopped();
		host.closeEvents(actor);
		if (this.#actors.get(actor.actorId) === actor) {
			this.#actors.delete(actor.actorId);
			host.onRemoved(actor);
		}
		this.#stopping.delete(actor);
		host.log.debug({ actorId: actor.actorId, generation: actor.generation, reason }, "actor stopped");
		if (this.#actors.size === 0 && this.#stopping.size === 0) {
			const waiters = this.#emptyWaiters;
			this.#emptyWaiters = [];
			for (const resolve of waiters) resolve();
		}
	}
}

/**
 * `Ok` when the stop was asked for (sleep or destroy intent) or the runner is draining: the engine then keeps a
 * sleeping actor asleep and resets its restart backoff, so waking stays fast. `Error` for anything unplanned, so the
 * actor's crash policy applies.
 */
function stopCode(reason: StopReason, actor: ActorRecord, draining: boolean): StopCode {
	if (reason === "start-failed") return StopCode.Error;
	if (reason === "sleep" || reason === "destroy") return StopCode.Ok;
	if (reason === "engine" && (draining || actor.intent !== null)) return StopCode.Ok;
	return StopCode.Error;
}

/** Runs `fn` and rejects with a {@link TimeoutError} if it has not settled after `ms`. */
export function withTimeout<T>(
	fn: () => T | Promise<T>,
	clock: Clock,
	ms: number,
	message: string,
): Promise<T> {
	return new Promise<T>((resolve, reject) => {
		const cancel = clock.setTimeout(() => reject(new TimeoutError(message)), ms);
		Promise.resolve()
			.then(fn)
			.then(
				(value) => {
					cancel();
					resolve(value);
				},
				(error: unknown) => {
					cancel();
					reject(error);
				},
			);
	});
}
