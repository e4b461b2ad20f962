/**
 * Tunnelled WebSockets: open, incoming messages (with index checks for hibernatable sockets), closes from either
 * side, and what happens to sockets when their actor stops.
 *
 * It is longer than most modules because every step of a socket's lifecycle (open, restore hooks, closes from either
 * side, actor stop, shutdown) must update one registration and the metrics together, and so stays here; what has a
 * concern of its own is split out: the incoming message path (ws-inbound.ts), the channel state and handler context
 * (ws-channel.ts), the store entry's life (hibernation/persist.ts) and restoring (hibernation/restore.ts).
 *
 * @module
 */
import type {
	ToClientWebSocketClose,
	ToClientWebSocketMessage,
	ToClientWebSocketOpen,
} from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "../actor.ts";
import { withTimeout } from "../actors.ts";
import { describeError, RunnerError } from "../errors.ts";
import { Persistence } from "../hibernation/persist.ts";
import { Restorer } from "../hibernation/restore.ts";
import { chooseHibernationStore, type HibernationStore } from "../hibernation/store.ts";
import { TunnelWebSocket, tunnelSocketControl } from "./socket.ts";
import type { TunnelCore } from "./tunnel.ts";
import {
	newChannel,
	newMetrics,
	socketContext,
	type WebSocketMetrics,
	type WsChannel,
} from "./ws-channel.ts";
import { commitMode, Inbound } from "./ws-inbound.ts";

const control = tunnelSocketControl();

/** The WebSocket half of the tunnel. */
export class WebSockets {
	/** Counters. */
	readonly metrics: WebSocketMetrics = newMetrics();
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

	/** The persistence store in use (chosen on first use), or undefined when persistence is off. */
	store(): HibernationStore | undefined {
		if (this.#store === null)
			this.#store = chooseHibernationStore(
				this.#core.host.config.options.hibernation?.store,
				this.#core.host.runner,
			);
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
		if (pending.length > 0) {
			const { config } = this.#core.host;
			await withTimeout(
				() => Promise.all(pending),
				config.platform.clock,
				config.actorStopTimeoutMs,
				"",
			).catch(() => {});
		}
		this.#unregister(channel);
		if (!channel.hibernatable) {
			if (channel.socket) control.closed(channel.socket, 1001, "actor.stopped", false);
		} else if (commitMode(this.#core) === "auto") {
			await this.#persist.flush(channel);
		}
	}

	/** The actor has stopped: stop waiting for its stored sockets that were not listed at its start. */
	forgetUnlisted(actor: ActorRecord): void {
		this.#restorer.forgetUnlisted(actor);
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
		const context = socketContext(channel, request, false, this.#core.host.runner);
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
		if (channel.hibernatable && !(await this.#persist.save(channel, open.path, open.headers)))
			return this.#refuse(channel, 1011, "runner.hibernation_store_failed");
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
			await handler(socket, socketContext(channel, request, restored, host.runner));
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
		if (channel.hibernatable) this.#persist.forget(channel);
	}
}
