/**
 * Restoring hibernatable sockets when their actor starts again (after sleep, a crash, or on another runner).
 *
 * The engine lists the requests it kept open in the start command; the store holds what the runner persisted.
 *   listed and stored   → restored: already open, no `open` event, replays at or below the stored index dropped
 *   listed, not stored  → closed at the gateway (1000 `ws.meta_not_found_during_restore`)
 *   stored, not listed  → waits for `hibernation.unlistedGraceMs` (see unlisted.ts): a message for it restores it
 *                         then; a client close, or the end of the grace (1000 `ws.stale_metadata`, also sent to the
 *                         gateway), gives the app the socket and then a `close` event, and the entry is removed, so
 *                         app state is cleaned
 *
 * @module
 */
import type { ActorRecord } from "../actor.ts";
import { fromHex } from "../bytes.ts";
import { describeError, RunnerError } from "../errors.ts";
import { requestKey } from "../tunnel/ids.ts";
import { tunnelSocketControl } from "../tunnel/socket.ts";
import type { TunnelCore } from "../tunnel/tunnel.ts";
import { newChannel, type WebSocketMetrics, type WsChannel } from "../tunnel/ws-channel.ts";
import type { HibernationStore, StoredSocket } from "./store.ts";
import { type Unlisted, UnlistedSockets } from "./unlisted.ts";

/** What restoring needs from the WebSocket router. */
export interface RestoreHost {
	readonly core: TunnelCore;
	readonly metrics: WebSocketMetrics;
	store(): HibernationStore | undefined;
	register(channel: WsChannel): void;
	attach(channel: WsChannel, request: Request, restored: boolean): Promise<boolean>;
	refuse(channel: WsChannel, code: number, reason: string): void;
	opened(channel: WsChannel, dispatchOpen: boolean): void;
	/** Holds the socket's outgoing messages until the gateway resumes the connection. */
	hold(channel: WsChannel): void;
}

type Listed = { gatewayId: ArrayBuffer; requestId: ArrayBuffer };

/** Restores sockets for starting actors. */
export class Restorer {
	readonly #host: RestoreHost;
	readonly #expected = new WeakMap<ActorRecord, readonly Listed[]>();
	readonly #unlisted: UnlistedSockets;

	/** Creates the restorer. */
	constructor(host: RestoreHost) {
		this.#host = host;
		const { config } = host.core.host;
		this.#unlisted = new UnlistedSockets(
			config.platform.clock,
			config.options.hibernation?.unlistedGraceMs ?? 30_000,
			(unlisted) => void this.#clean(unlisted, 1000, "ws.stale_metadata", true),
		);
	}

	/** Remembers the gateway's list for a starting actor. */
	expect(actor: ActorRecord, requests: readonly Listed[]): void {
		if (requests.length > 0) this.#expected.set(actor, requests);
	}

	/** Restores, refuses and cleans up as described above. Never throws. */
	async restore(actor: ActorRecord): Promise<void> {
		const { core } = this.#host;
		const listed = this.#expected.get(actor) ?? [];
		this.#expected.delete(actor);
		const options = core.host.config.options;
		const store = options.websocket && options.canHibernate ? this.#host.store() : undefined;
		let stored: StoredSocket[] = [];
		if (store) {
			try {
				stored = await store.load(actor.actorId);
			} catch (error) {
				core.host.onError(
					new RunnerError(
						"HIBERNATION_ERROR",
						`loading stored sockets of actor ${actor.actorId} failed: ${describeError(error)}`,
						{ cause: error },
					),
					"hibernation",
					actor.actorId,
				);
			}
		}
		const byKey = new Map(stored.map((s) => [s.gatewayId + s.requestId, s]));
		const work: Promise<void>[] = [];
		for (const { gatewayId, requestId } of listed) {
			const key = requestKey(gatewayId, requestId);
			const entry = byKey.get(key);
			byKey.delete(key);
			if (entry) work.push(this.#restoreOne(actor, entry, true).done);
			else
				this.#host.refuse(
					newChannel(key, actor, actor.actorId, gatewayId, requestId, 0),
					1000,
					"ws.meta_not_found_during_restore",
				);
		}
		for (const entry of byKey.values()) this.#unlisted.add(actor, entry, store!);
		await Promise.all(work);
	}

	/**
	 * A message arrived for a request with no registered socket: if it is a stored socket that was not listed at its
	 * actor's start, restores it now and returns its channel (still opening: the message waits in `early`).
	 */
	resume(key: string): WsChannel | undefined {
		const unlisted = this.#unlisted.take(key);
		if (!unlisted) return undefined;
		this.#host.core.host.log.info(
			{ actorId: unlisted.actor.actorId, key },
			"restoring a hibernatable WebSocket the gateway did not list at the actor's start",
		);
		// The gateway is already forwarding this socket, so nothing the handler sends is held.
		return this.#restoreOne(unlisted.actor, unlisted.entry, false).channel;
	}

	/** The client closed a request with no registered socket: if it is an unlisted stored socket, it is cleaned up. */
	closed(key: string, code: number, reason: string): void {
		const unlisted = this.#unlisted.take(key);
		if (unlisted) void this.#clean(unlisted, code, reason, false);
	}

	/** The actor is stopping: its unlisted entries stay stored for its next start to judge. */
	forgetUnlisted(actor: ActorRecord): void {
		this.#unlisted.dropActor(actor);
	}

	/** The runner is shutting down. */
	shutdown(): void {
		this.#unlisted.clear();
	}

	/**
	 * Registers the stored socket at once and hands it to the app (already open, no `open` event); `done` settles when
	 * the app has it. With `hold`, what the handler sends waits until the gateway resumes the connection.
	 */
	#restoreOne(
		actor: ActorRecord,
		entry: StoredSocket,
		hold: boolean,
	): { channel: WsChannel; done: Promise<void> } {
		const channel = channelOf(actor, entry);
		this.#host.register(channel);
		if (hold) this.#host.hold(channel);
		const done = this.#host.attach(channel, storedRequest(entry), true).then((attached) => {
			if (!attached) return;
			this.#host.metrics.restored++;
			this.#host.opened(channel, false);
		});
		return { channel, done };
	}

	/** Gives the app the socket and then a `close` event, and removes the entry. */
	async #clean(unlisted: Unlisted, code: number, reason: string, tellGateway: boolean): Promise<void> {
		const { core } = this.#host;
		const { actor, entry, store } = unlisted;
		const channel = channelOf(actor, entry);
		try {
			if (await this.#host.attach(channel, storedRequest(entry), true)) {
				// Harmless for a stale request (the gateway drops what it does not know); a live one that stayed quiet
				// all through the grace is closed cleanly instead of being dropped later as unacknowledged.
				if (tellGateway)
					core.reply(channel, { tag: "ToServerWebSocketClose", val: { code, reason, hibernate: false } }, 64);
				tunnelSocketControl().closed(channel.socket!, code, reason, !tellGateway);
			}
			await store.remove(actor.actorId, entry.gatewayId, entry.requestId);
		} catch (error) {
			core.host.onError(
				new RunnerError("HIBERNATION_ERROR", `cleaning a stale socket failed: ${describeError(error)}`, {
					cause: error,
				}),
				"hibernation",
				actor.actorId,
			);
		}
	}
}

/** The channel of a stored socket, marked hibernatable and restored. */
function channelOf(actor: ActorRecord, entry: StoredSocket): WsChannel {
	const channel = newChannel(
		entry.gatewayId + entry.requestId,
		actor,
		actor.actorId,
		fromHex(entry.gatewayId).buffer as ArrayBuffer,
		fromHex(entry.requestId).buffer as ArrayBuffer,
		entry.index,
	);
	channel.hibernatable = true;
	channel.restored = true;
	return channel;
}

function storedRequest(entry: StoredSocket): Request {
	const path = entry.path.startsWith("/") ? entry.path : `/${entry.path}`;
	const headers = new Headers();
	for (const [name, value] of Object.entries(entry.headers)) {
		try {
			headers.append(name, value);
		} catch {
			// A header the Fetch API refuses is left out of the rebuilt request.
		}
	}
	return new Request(`http://actor${path}`, { headers });
}
