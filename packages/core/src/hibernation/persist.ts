/**
 * The store entry of each hibernatable socket, over its whole life: saved when the socket opens, its processed index
 * persisted (and only then acknowledged to the engine), removed when the socket closes.
 *
 * Three rules make hibernating sockets lose nothing:
 *   1. a socket is stored before the client is told it is open;
 *   2. a message is acknowledged only after its index is persisted (the gateway replays what is unacknowledged);
 *   3. on restore, messages at or below the persisted index are dropped, so a replay is never applied twice.
 * `commit()` adds exactly-once: the handler's own KV writes and the new index go in one atomic put.
 *
 * @module
 */
import { describeError, isRunnerError, RunnerError } from "../errors.ts";
import type { KvEntry } from "../kv.ts";
import type { Clock } from "../platform.ts";
import { indexAfter } from "../tunnel/ids.ts";
import type { WsChannel } from "../tunnel/ws-channel.ts";
import type { HibernationStore } from "./store.ts";

/** What persistence needs. */
export interface PersistHost {
	readonly clock: Clock;
	readonly debounceMs: number;
	/** The store, or undefined when persistence is off. */
	store(): HibernationStore | undefined;
	/** Writes KV entries for an actor (used when a custom store has no atomic commit). */
	kvPut(actorId: string, entries: KvEntry[]): Promise<void>;
	/** Sends `ToServerWebSocketMessageAck`. */
	ack(channel: WsChannel, index: number): void;
	onError(error: RunnerError, actorId: string): void;
}

/** Index persistence and acknowledgement for hibernatable sockets. */
export class Persistence {
	readonly #host: PersistHost;

	/** Creates the helper. */
	constructor(host: PersistHost) {
		this.#host = host;
	}

	/**
	 * Stores a newly opened hibernatable socket (rule 1: before the client is told it is open). False, after
	 * reporting the failure, when the store refused it; true also when persistence is off.
	 */
	async save(channel: WsChannel, path: string, headers: ReadonlyMap<string, string>): Promise<boolean> {
		try {
			await this.#host.store()?.save(channel.actorId, {
				gatewayId: channel.gatewayHex,
				requestId: channel.requestHex,
				path,
				headers: Object.fromEntries(headers),
				index: channel.lastIndex,
			});
			return true;
		} catch (error) {
			this.#host.onError(
				new RunnerError(
					"HIBERNATION_ERROR",
					`storing a hibernatable socket failed: ${describeError(error)}`,
					{
						cause: error,
					},
				),
				channel.actorId,
			);
			return false;
		}
	}

	/** Removes a closed hibernatable socket's entry. */
	forget(channel: WsChannel): void {
		this.#host
			.store()
			?.remove(channel.actorId, channel.gatewayHex, channel.requestHex)
			.catch((error: unknown) => {
				// At shutdown the KV client is closed: the stale entry is removed at the actor's next start instead.
				if (isRunnerError(error) && error.code === "SHUT_DOWN") return;
				this.#host.onError(
					new RunnerError("HIBERNATION_ERROR", `removing a closed socket failed: ${describeError(error)}`, {
						cause: error,
					}),
					channel.actorId,
				);
			});
	}

	/** Schedules a debounced persist of the channel's last processed index, then an ack. */
	schedule(channel: WsChannel): void {
		if (channel.persistTimer) return;
		channel.persistTimer = this.#host.clock.setTimeout(() => {
			channel.persistTimer = undefined;
			void this.flush(channel);
		}, this.#host.debounceMs);
	}

	/** Persists the last processed index now (after any persist in flight), then acknowledges it. */
	flush(channel: WsChannel): Promise<void> {
		channel.persistTimer?.();
		channel.persistTimer = undefined;
		const run = async (): Promise<void> => {
			const index = channel.processedIndex;
			if (!indexAfter(index, channel.persistedIndex)) return;
			const store = this.#host.store();
			try {
				await store?.updateIndex(channel.actorId, channel.gatewayHex, channel.requestHex, index);
			} catch (error) {
				this.#host.onError(
					new RunnerError(
						"HIBERNATION_ERROR",
						`persisting message index ${index} failed: ${describeError(error)}`,
						{ cause: error },
					),
					channel.actorId,
				);
				return;
			}
			this.#advance(channel, index);
		};
		channel.persisting = (channel.persisting ?? Promise.resolve()).then(run);
		return channel.persisting;
	}

	/** Exactly-once: the handler's entries and `index` in one atomic put, then the ack. */
	commit(channel: WsChannel, index: number, entries: KvEntry[]): Promise<void> {
		const running = this.#commit(channel, index, entries);
		const tracked = running.then(
			() => {},
			() => {},
		);
		channel.commits.add(tracked);
		void tracked.then(() => channel.commits.delete(tracked));
		return running;
	}

	async #commit(channel: WsChannel, index: number, entries: KvEntry[]): Promise<void> {
		const store = this.#host.store();
		const target = indexAfter(index, channel.persistedIndex) ? index : channel.persistedIndex;
		if (!channel.hibernatable || !store) {
			if (entries.length > 0) await this.#host.kvPut(channel.actorId, entries);
			if (channel.hibernatable) this.#advance(channel, target);
			return;
		}
		if (store.commit) {
			await store.commit(channel.actorId, channel.gatewayHex, channel.requestHex, target, entries);
		} else {
			if (entries.length > 0) await this.#host.kvPut(channel.actorId, entries);
			await store.updateIndex(channel.actorId, channel.gatewayHex, channel.requestHex, target);
		}
		this.#advance(channel, target);
	}

	#advance(channel: WsChannel, index: number): void {
		if (!indexAfter(index, channel.persistedIndex)) return;
		channel.persistedIndex = index;
		this.#host.ack(channel, index);
	}
}
