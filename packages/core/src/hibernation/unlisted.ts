/**
 * Stored sockets that the gateway did not list when their actor started.
 *
 * Usually such an entry is stale: its socket closed while the runner could not remove it. But the engine can also
 * start an actor elsewhere before the gateway has written the hibernating-request record of a socket it is about to
 * resume (a drain or crash whose actor is rescheduled at once). The gateway then forwards that socket's messages to
 * the new runner all the same. So an unlisted entry waits here for a grace period, keyed by its request (a tunnel
 * message names no actor): the first message or close for it restores it; when the grace ends it is cleaned up as
 * stale. When the actor stops first, the entry stays in the store for its next start to judge.
 *
 * @module
 */
import type { ActorRecord } from "../actor.ts";
import type { Cancel, Clock } from "../platform.ts";
import type { HibernationStore, StoredSocket } from "./store.ts";

/** A stored socket waiting to be claimed. */
export interface Unlisted {
	readonly actor: ActorRecord;
	readonly entry: StoredSocket;
	readonly store: HibernationStore;
}

interface Waiting extends Unlisted {
	readonly cancel: Cancel;
}

/** Unlisted stored sockets by request key (gateway id + request id, hex). */
export class UnlistedSockets {
	readonly #clock: Clock;
	readonly #graceMs: number;
	readonly #expired: (unlisted: Unlisted) => void;
	readonly #waiting = new Map<string, Waiting>();

	/** Creates the set; `expired` gets each entry whose grace ran out while its actor was still running. */
	constructor(clock: Clock, graceMs: number, expired: (unlisted: Unlisted) => void) {
		this.#clock = clock;
		this.#graceMs = graceMs;
		this.#expired = expired;
	}

	/** Starts the grace period of an entry. */
	add(actor: ActorRecord, entry: StoredSocket, store: HibernationStore): void {
		const key = entry.gatewayId + entry.requestId;
		this.#waiting.get(key)?.cancel();
		const cancel = this.#clock.setTimeout(() => {
			const waiting = this.take(key);
			if (waiting) this.#expired(waiting);
		}, this.#graceMs);
		this.#waiting.set(key, { actor, entry, store, cancel });
	}

	/** Removes and returns the entry for `key` if its actor is still starting or running. */
	take(key: string): Unlisted | undefined {
		const waiting = this.#waiting.get(key);
		if (!waiting) return undefined;
		this.#waiting.delete(key);
		waiting.cancel();
		const { state } = waiting.actor;
		return state === "starting" || state === "running" ? waiting : undefined;
	}

	/** Stops waiting for the entries of an actor that is stopping. */
	dropActor(actor: ActorRecord): void {
		for (const [key, waiting] of this.#waiting) {
			if (waiting.actor !== actor) continue;
			waiting.cancel();
			this.#waiting.delete(key);
		}
	}

	/** Stops waiting for everything (shutdown). */
	clear(): void {
		for (const waiting of this.#waiting.values()) waiting.cancel();
		this.#waiting.clear();
	}
}
