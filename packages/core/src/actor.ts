/**
 * One actor hosted by the runner, and its lifecycle state machine.
 *
 *   starting ──start resolved──► running ──stop──► stopping ──onActorStop done──► stopped
 *       └──────────start failed / stop while starting (after start settles)──────────┘
 *
 * Transitions happen only through {@link ActorRecord.markRunning}, {@link ActorRecord.markStopping} and
 * {@link ActorRecord.markStopped}, which refuse to go backwards.
 *
 * @module
 */
import type { Event } from "@rivetkit/engine-runner-protocol";
import { type EventHistory, NO_EVENTS } from "./events.ts";
import type { ActorConfig, ActorInfo, ActorState, StopReason } from "./types.ts";

/** The intent an actor sent to the engine, which decides how its stop is reported. */
export type ActorIntent = "sleep" | "destroy" | null;

const RANK: Record<ActorState, number> = { starting: 0, running: 1, stopping: 2, stopped: 3 };

/** Internal record of an actor; exposed read-only as {@link ActorInfo}. */
export class ActorRecord implements ActorInfo, EventHistory {
	/** Actor id. */
	readonly actorId: string;
	/** Allocation generation. */
	readonly generation: number;
	/** Start configuration. */
	readonly config: ActorConfig;
	/** Events recorded for this generation (kept by the event log, which owns these two fields). */
	eventCount = 0;
	/** Events of this generation the engine has not confirmed (kept by the event log). */
	unconfirmed: Event[] = NO_EVENTS;
	/** Intent last sent for this actor. */
	intent: ActorIntent = null;
	/** Why the actor is stopping, once it is. */
	stopReason: StopReason | undefined;
	/** Set once a stop has begun; every later stop request returns it. */
	stopping: Promise<void> | undefined;
	#state: ActorState = "starting";
	/**
	 * Made when {@link signal} is first read: most actors stop without anyone listening. Kept here rather than in a
	 * `LazyAbort`, whose reason and flag this record already holds (`stopReason`), to save an object per idle actor.
	 */
	#controller: AbortController | undefined;
	/** How the start settled: undefined while starting, then null (succeeded) or the failure. */
	#startOutcome: { error: unknown } | null | undefined;
	#started: { promise: Promise<void>; resolve(): void; reject(error: unknown): void } | undefined;

	/** Creates a record in the `starting` state. */
	constructor(actorId: string, generation: number, config: ActorConfig) {
		this.actorId = actorId;
		this.generation = generation;
		this.config = config;
	}

	/**
	 * Settles when the start finished (resolves) or failed (rejects; the rejection is always observed). Made on first
	 * read: most actors start without anyone waiting for them.
	 */
	get started(): Promise<void> {
		if (!this.#started) {
			let resolve!: () => void;
			let reject!: (error: unknown) => void;
			const promise = new Promise<void>((res, rej) => {
				resolve = res;
				reject = rej;
			});
			promise.catch(() => {});
			this.#started = { promise, resolve, reject };
			const outcome = this.#startOutcome;
			if (outcome === null) resolve();
			else if (outcome) reject(outcome.error);
		}
		return this.#started.promise;
	}

	#settleStart(error?: { error: unknown }): void {
		if (this.#startOutcome !== undefined) return;
		this.#startOutcome = error ?? null;
		if (error) this.#started?.reject(error.error);
		else this.#started?.resolve();
	}

	/** Current state. */
	get state(): ActorState {
		return this.#state;
	}

	/** Aborted when the actor begins to stop. */
	get signal(): AbortSignal {
		if (!this.#controller) {
			this.#controller = new AbortController();
			if (this.stopReason !== undefined) this.#controller.abort(this.stopReason);
		}
		return this.#controller.signal;
	}

	/** starting → running. Returns false if the actor has already moved on. */
	markRunning(): boolean {
		if (this.#state !== "starting") return false;
		this.#state = "running";
		this.#settleStart();
		return true;
	}

	/** Why the start failed, once it has. */
	startFailure: Error | undefined;

	/** Records that the start failed (the state moves on through {@link markStopping}). */
	failStart(error: Error): void {
		this.startFailure = error;
		this.#settleStart({ error });
	}

	/** → stopping, aborting {@link signal}. Returns false if already stopping or stopped. */
	markStopping(reason: StopReason): boolean {
		if (RANK[this.#state] >= RANK.stopping) return false;
		this.#state = "stopping";
		this.stopReason = reason;
		this.#settleStart({ error: new Error(`actor ${this.actorId} stopped before it started (${reason})`) });
		this.#controller?.abort(reason);
		return true;
	}

	/** stopping → stopped. */
	markStopped(): void {
		this.#state = "stopped";
	}
}
