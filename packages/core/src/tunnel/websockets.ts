/**
 * Tunnelled WebSockets: open, incoming messages (with index checks for hibernatable sockets), closes from either
 * side, and what happens to sockets when their actor stops.
 *
 * It is longer than most modules because a socket's whole lifecycle (open, restore hooks, closes from either side,
 * actor stop, shutdown) must update one registration, the metrics and the store entry together; the incoming message
 * path is split out into ws-inbound.ts and persistence into hibernation/.
 *
 * @module
 */
import type {
	ToClientWebSocketClose,
	ToClientWebSocketMessage,
	ToClientWebSocketOpen,
} from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "../actor.ts";
import { describeError, isRunnerError, RunnerError } from "../errors.ts";
import { Persistence } from "../hibernation/persist.ts";
import { Restorer } from "../hibernation/restore.ts";
import { createKvHibernationStore, type HibernationStore } from "../hibernation/store.ts";
import type { WebSocketContext } from "./options.ts";
import { TunnelWebSocket, tunnelSocketControl } from "./socket.ts";
import type { TunnelCore } from "./tunnel.ts";
import { newChannel, type WebSocketMetrics, type WsChannel } from "./ws-channel.ts";
import { commitMode, Inbound } from "./ws-inbound.ts";

const control = tunnelSocketControl();

/** The WebSocket half of the tunnel. */
export class WebSockets {
	/** Counters. */
	readonly metrics: WebSocketMetrics = {
		open: 0,
		hibernatable: 0,
		restored: 0,
		replayed: 0,
		droppedDuplicates: 0,
		gaps: 0,
	};
	readonly #core: TunnelCore;
	readonly #sockets = new Map<string, WsChannel>();
	readonly #persist: Persistence;
	readonly #restorer: Restorer;
	readonly #inbound: Inbound;
	#store: HibernationStore | undefined | null = null;

	/** Creates the WebSocket half. */
	constructor(core: TunnelCore) {
		this.#core = core;
		const { host } = core;
		const hibernation = host.config.options.hibernation ?? {};
		this.#persist = new Persistence({
			clock: host.config.platform.clock,
			debounceMs: hibernation.persistDebounceMs ?? 100,
			store: () => this.store(),
			kvPut: (actorId, entries) => host.runner.kvPut(actorId, entries),
			ack: (channel, index) =>
				core.reply(channel, { tag: "ToServerWebSocketMessageAck", val: { index } }, 32),
			onError: (error, actorId) => host.onError(error, "hibernation", actorId),
		});
		this.#inbound = new Inbound({
			core,
			persist: this.#persist,
			metrics: this.metrics,
			current: (channel) => this.#sockets.get(channel.key) === channel,
			close: (channel, code, reason) => {
				this.#refuse(channel, code, reason);
				if (channel.socket) control.closed(channel.socket, code, reason, false);
			},
		});
		this.#restorer = new Restorer({
			core,
			store: () => this.store(),
			register: (channel) => this.#register(channel),
			attach: (channel, request, restored) => this.#attach(channel, request, restored),
			refuse: (channel, code, reason) => this.#refuse(channel, code, reason),
			opened: (channel, dispatchOpen) => this.#opened(channel, dispatchOpen),
			hold: (channel) => this.#inbound.hold(channel),
			metrics: this.metrics,
		});
	}

	/** The persistence store in use, or undefined when persistence is off. */
	store(): HibernationStore | undefined {
		if (this.#store !== null) return this.#store;
		const option = this.#core.host.config.options.hibernation?.store ?? "kv";
		this.#store =
			option === false
				? undefined
				: option === "kv"
					? createKvHibernationStore(this.#core.host.runner)
					: option;
		return this.#store;
	}

	/** Remembers the gateway's hibernating requests for an actor that is starting. */
	expect(actor: ActorRecord, requests: readonly { gatewayId: ArrayBuffer; requestId: ArrayBuffer }[]): void {
		this.#restorer.expect(actor, requests);
	}

	/** Restores an actor's hibernating sockets (before it is reported running). */
	restore(actor: ActorRecord): Promise<void> {
		return this.#restorer.restore(actor);
	}

	/** The gateway opens a socket. */
	open(
		key: string,
		gatewayId: ArrayBuffer,
		requestId: ArrayBuffer,
		index: number,
		open: ToClientWebSocketOpen,
	): void {
		const previous = this.#sockets.get(key);
		if (previous) this.#discard(previous, 1000, "ws.duplicate_open");
		const actor = this.#core.host.getActor(open.actorId);
		const channel = newChannel(key, actor, open.actorId, gatewayId, requestId, index);
		if (!actor) {
			this.#refuse(channel, 1011, "runner.actor_not_found");
			return;
		}
		this.#register(channel);
		void this.#accept(channel, open);
	}

	/** A message from the client. */
	message(
		key: string,
		_gatewayId: ArrayBuffer,
		_requestId: ArrayBuffer,
		index: number,
		message: ToClientWebSocketMessage,
	): void {
		const channel = this.#sockets.get(key) ?? this.#restorer.resume(key);
		if (!channel) {
			this.#core.host.log.debug({ key, index }, "message for an unknown WebSocket dropped");
			return;
		}
		if (channel.state === "opening")
			channel.early.push({ index, data: message.data, binary: message.binary });
		else if (channel.state === "open") this.#inbound.deliver(channel, index, message.data, message.binary);
	}

	/** Acknowledges a message index of an open socket; false when there is no such socket. */
	ack(key: string, index: number): boolean {
		const channel = this.#sockets.get(key);
		if (!channel) return false;
		this.#inbound.acknowledge(channel, index);
		return true;
	}

	/** After a reconnect: resync every open hibernatable socket (unless `resyncOnReconnect` is false). */
	reconnected(): void {
		if (this.#core.host.config.options.hibernation?.resyncOnReconnect === false) return;
		for (const channel of this.#sockets.values()) {
			// A resync asked for on the old connection may never have arrived: ask again.
			channel.resyncing = false;
			this.#inbound.resync(channel);
		}
	}

	/** The client closed (or the gateway ended the connection). Not echoed back. */
	closedByClient(key: string, close: ToClientWebSocketClose): void {
		const channel = this.#sockets.get(key);
		if (!channel) {
			this.#restorer.closed(key, close.code ?? 1005, close.reason ?? "");
			return;
		}
		this.#unregister(channel);
		if (channel.socket) control.closed(channel.socket, close.code ?? 1005, close.reason ?? "", true);
		this.#forget(channel);
	}

	/** The actor stopped: hibernatable sockets stay open at the gateway (index persisted first); others close. */
	async actorStopped(key: string, actor: ActorRecord): Promise<void> {
		const channel = this.#sockets.get(key);
		if (!channel || channel.actor !== actor) return;
		// A message being handled finishes first (its commit, ack and reply), within the stop timeout; messages queued
		// behind it are left unacknowledged for the gateway to replay to the actor's next start.
		// Work that the actor's abort signal has just set off gets a few turns to register its commits first.
		for (let turn = 0; turn < 10; turn++) await Promise.resolve();
		const pending = [...channel.commits, ...(channel.inflight ? [channel.inflight] : [])];
		if (pending.length > 0) await this.#settle(Promise.all(pending).then(() => {}));
		this.#unregister(channel);
		if (!channel.hibernatable) {
			if (channel.socket) control.closed(channel.socket, 1001, "actor.stopped", false);
		} else if (commitMode(this.#core) === "auto") {
			await this.#persist.flush(channel);
		}
	}

	#settle(inflight: Promise<void>): Promise<void> {
		const { clock } = this.#core.host.config.platform;
		return new Promise<void>((resolve) => {
			const cancel = clock.setTimeout(resolve, this.#core.host.config.actorStopTimeoutMs);
			void inflight.then(() => {
				cancel();
				resolve();
			});
		});
	}

	/** The actor is stopping: stop waiting for its stored sockets that were not listed at its start. */
	actorStopping(actor: ActorRecord): void {
		this.#restorer.actorStopped(actor);
	}

	/** The runner is shutting down; the actors are already stopped, so this only clears leftovers. */
	shutdown(): void {
		this.#restorer.shutdown();
		for (const channel of [...this.#sockets.values()]) {
			this.#unregister(channel);
			if (channel.socket && !channel.hibernatable)
				control.closed(channel.socket, 1001, "runner.shutdown", false);
		}
	}

	async #accept(channel: WsChannel, open: ToClientWebSocketOpen): Promise<void> {
		const { host } = this.#core;
		try {
			await channel.actor.started;
		} catch {
			return this.#refuse(channel, 1011, "runner.actor_start_failed");
		}
		const request = new Request(`http://actor${open.path.startsWith("/") ? open.path : `/${open.path}`}`, {
			headers: [...open.headers],
		});
		const context = this.#context(channel, request, false);
		try {
			channel.hibernatable = host.config.options.canHibernate?.(request, context) === true;
		} catch (error) {
			host.onError(
				new RunnerError("HANDLER_ERROR", `canHibernate threw: ${describeError(error)}`, { cause: error }),
				"websocket",
				channel.actorId,
			);
		}
		if (!(await this.#attach(channel, request, false))) return;
		const store = channel.hibernatable ? this.store() : undefined;
		if (store) {
			try {
				await store.save(channel.actorId, {
					gatewayId: channel.gatewayHex,
					requestId: channel.requestHex,
					path: open.path,
					headers: Object.fromEntries(open.headers),
					index: channel.lastIndex,
				});
			} catch (error) {
				host.onError(
					new RunnerError(
						"HIBERNATION_ERROR",
						`storing a hibernatable socket failed: ${describeError(error)}`,
						{ cause: error },
					),
					"hibernation",
					channel.actorId,
				);
				return this.#refuse(channel, 1011, "runner.hibernation_store_failed");
			}
		}
		if (this.#sockets.get(channel.key) !== channel) return;
		this.#core.reply(
			channel,
			{ tag: "ToServerWebSocketOpen", val: { canHibernate: channel.hibernatable } },
			32,
		);
		this.#opened(channel, true);
	}

	/** Calls the user's `websocket` handler; false (and the socket refused) if there is none or it throws. */
	async #attach(channel: WsChannel, request: Request, restored: boolean): Promise<boolean> {
		const { host } = this.#core;
		const handler = host.config.options.websocket;
		if (!handler) {
			this.#refuse(channel, 1011, "runner.websocket_not_supported");
			return false;
		}
		const protocol = (request.headers.get("sec-websocket-protocol") ?? "").split(",")[0]?.trim() ?? "";
		const url = new URL(request.url);
		// A restored socket is already open at the gateway, so it is handed over open (its sends wait in the hold).
		const socket = new TunnelWebSocket(
			this.#link(channel),
			`ws://actor${url.pathname}${url.search}`,
			protocol,
			restored ? 1 : 0,
		);
		channel.socket = socket;
		try {
			await handler(socket, this.#context(channel, request, restored));
			return true;
		} catch (error) {
			host.onError(
				new RunnerError("HANDLER_ERROR", `websocket handler threw: ${describeError(error)}`, {
					cause: error,
				}),
				"websocket",
				channel.actorId,
			);
			this.#refuse(channel, 1011, restored ? "ws.restore_error" : "runner.websocket_handler_error");
			control.closed(socket, 1011, "websocket handler failed", false);
			return false;
		}
	}

	#opened(channel: WsChannel, dispatchOpen: boolean): void {
		if (this.#sockets.get(channel.key) !== channel || !channel.socket) return;
		channel.state = "open";
		this.metrics.open++;
		if (channel.hibernatable) this.metrics.hibernatable++;
		control.opened(channel.socket, dispatchOpen);
		const early = channel.early;
		channel.early = [];
		for (const message of early)
			if (channel.state === "open")
				this.#inbound.deliver(channel, message.index, message.data, message.binary);
	}

	#link(channel: WsChannel): ConstructorParameters<typeof TunnelWebSocket>[0] {
		return {
			send: (data, binary) => this.#inbound.send(channel, data, binary),
			close: (code, reason) => {
				if (this.#sockets.get(channel.key) !== channel) return;
				this.#unregister(channel);
				this.#core.reply(
					channel,
					{
						tag: "ToServerWebSocketClose",
						val: { code: code ?? null, reason: reason ?? null, hibernate: false },
					},
					64,
				);
				this.#forget(channel);
			},
			buffered: () => this.#core.buffered(channel) + this.#inbound.held(channel),
			listenerError: (error) =>
				this.#core.host.onError(
					new RunnerError("HANDLER_ERROR", `WebSocket listener threw: ${describeError(error)}`, {
						cause: error,
					}),
					"websocket",
					channel.actorId,
				),
		};
	}

	#context(channel: WsChannel, request: Request, restored: boolean): WebSocketContext {
		const { host } = this.#core;
		return {
			actorId: channel.actorId,
			generation: channel.actor.generation,
			gatewayId: channel.gatewayHex,
			requestId: channel.requestHex,
			signal: channel.actor.signal,
			runner: host.runner,
			request,
			hibernatable: channel.hibernatable,
			restored,
		};
	}

	#register(channel: WsChannel): void {
		channel.onOverflow = () => {
			if (this.#sockets.get(channel.key) !== channel) return;
			this.#refuse(channel, 1013, "runner.buffer_full");
			if (channel.socket) control.closed(channel.socket, 1013, "runner.buffer_full", false);
		};
		this.#sockets.set(channel.key, channel);
		this.#core.track(channel);
	}

	#unregister(channel: WsChannel): void {
		if (this.#sockets.get(channel.key) === channel) this.#sockets.delete(channel.key);
		this.#core.untrack(channel);
		channel.persistTimer?.();
		channel.persistTimer = undefined;
		channel.holdTimer?.();
		channel.holdTimer = undefined;
		if (channel.state === "open") {
			this.metrics.open--;
			if (channel.hibernatable) this.metrics.hibernatable--;
		}
		channel.state = "closed";
	}

	/** Tells the gateway the socket is refused or closed, and cleans up. */
	#refuse(channel: WsChannel, code: number, reason: string): void {
		this.#unregister(channel);
		this.#core.reply(channel, { tag: "ToServerWebSocketClose", val: { code, reason, hibernate: false } }, 64);
		this.#forget(channel);
	}

	/** Replaced by a duplicate open: closed locally only. */
	#discard(channel: WsChannel, code: number, reason: string): void {
		this.#unregister(channel);
		if (channel.socket) control.closed(channel.socket, code, reason, false);
	}

	/** Removes a closed hibernatable socket from the store. */
	#forget(channel: WsChannel): void {
		if (!channel.hibernatable) return;
		this.store()
			?.remove(channel.actorId, channel.gatewayHex, channel.requestHex)
			.catch((error: unknown) => {
				// At shutdown the KV client is closed: the stale entry is removed at the actor's next start instead.
				if (isRunnerError(error) && error.code === "SHUT_DOWN") return;
				this.#core.host.onError(
					new RunnerError("HIBERNATION_ERROR", `removing a closed socket failed: ${describeError(error)}`, {
						cause: error,
					}),
					"hibernation",
					channel.actorId,
				);
			});
	}
}
