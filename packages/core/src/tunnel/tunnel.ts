/**
 * Routes tunnel messages from the engine's gateway to actors, and their replies back.
 *
 * Each (gateway id, request id) pair is a channel with its own outgoing u16 message counter. Channels are kept in a
 * map by key and indexed per actor, so no message ever scans a list. Replies go through the {@link Outbox}, which
 * holds them, in order, while the engine connection is down.
 *
 * @module
 */
import type {
	ToClientTunnelMessage,
	ToServer,
	ToServerTunnelMessageKind,
} from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "../actor.ts";
import type { ActorLifecycleHooks } from "../actors.ts";
import { toHex } from "../bytes.ts";
import type { ResolvedConfig } from "../config.ts";
import type { RunnerError } from "../errors.ts";
import type { Logger } from "../platform.ts";
import type { Runner } from "../runner.ts";
import type { ErrorStage } from "../types.ts";
import { HttpRequests } from "./http-requests.ts";
import { requestKey } from "./ids.ts";
import { Outbox } from "./outbox.ts";
import { WebSockets } from "./websockets.ts";

/** What the tunnel needs from the runner. */
export interface TunnelHost {
	readonly config: ResolvedConfig;
	readonly runner: Runner;
	readonly log: Logger;
	send(message: ToServer): boolean;
	/** Whether the engine connection is up. */
	ready(): boolean;
	/** Whether the engine socket's buffer is over its bound (tunnel replies then wait in the outbox). */
	backpressured(): boolean;
	getActor(actorId: string): ActorRecord | undefined;
	onError(error: RunnerError, stage: ErrorStage, actorId?: string): void;
}

/** One tunnelled request or socket. */
export interface Channel {
	readonly key: string;
	readonly actorId: string;
	readonly gatewayId: ArrayBuffer;
	readonly requestId: ArrayBuffer;
	/** Next outgoing message index (u16, wraps). */
	nextIndex: number;
	/** Called when replies for this channel had to be dropped (buffer full or too old). */
	onOverflow?(error: RunnerError): void;
}

/** The services the HTTP and WebSocket halves share. */
export interface TunnelCore {
	readonly host: TunnelHost;
	/** Sends (or queues) a message on a channel. */
	reply(channel: Channel, kind: ToServerTunnelMessageKind, size: number): void;
	/** Bytes queued for a channel while disconnected. */
	buffered(channel: Channel): number;
	/** Remembers a channel under its actor. */
	track(channel: Channel): void;
	/** Forgets a channel. */
	untrack(channel: Channel): void;
	/** Hex ids of a channel. */
	ids(channel: Channel): { gatewayId: string; requestId: string };
}

/** The tunnel of one runner. */
export class Tunnel {
	readonly #outbox: Outbox;
	readonly #byActor = new Map<string, Set<string>>();
	readonly #channels = new Map<string, Channel>();
	readonly #http: HttpRequests;
	readonly #ws: WebSockets;

	/** Creates the tunnel. */
	constructor(host: TunnelHost) {
		const options = host.config.options;
		this.#outbox = new Outbox({
			send: (message) => !host.backpressured() && host.send(message),
			ready: () => host.ready(),
			clock: host.config.platform.clock,
			maxBytes: options.maxBufferedReplyBytes ?? 64 * 1024 * 1024,
			maxAgeMs: options.maxReplyAgeMs ?? 60_000,
			onDrop: (error, key) => {
				const channel = this.#channels.get(key);
				host.onError(error, "tunnel", channel?.actorId);
				channel?.onOverflow?.(error);
			},
		});
		const core: TunnelCore = {
			host,
			reply: (channel, kind, size) => this.#reply(channel, kind, size),
			buffered: (channel) => this.#outbox.bytesFor(channel.key),
			track: (channel) => {
				this.#channels.set(channel.key, channel);
				const keys = this.#byActor.get(channel.actorId) ?? new Set<string>();
				this.#byActor.set(channel.actorId, keys);
				keys.add(channel.key);
			},
			untrack: (channel) => {
				if (this.#channels.get(channel.key) === channel) this.#channels.delete(channel.key);
				const keys = this.#byActor.get(channel.actorId);
				keys?.delete(channel.key);
				if (keys?.size === 0) this.#byActor.delete(channel.actorId);
			},
			ids: (channel) => ({ gatewayId: toHex(channel.gatewayId), requestId: toHex(channel.requestId) }),
		};
		this.#http = new HttpRequests(core);
		this.#ws = new WebSockets(core);
	}

	/** WebSocket counters. */
	get metrics(): WebSockets["metrics"] {
		return this.#ws.metrics;
	}

	/** Hooks into the actor lifecycle: restore sockets before running, close requests after stop. */
	lifecycleHooks(): ActorLifecycleHooks {
		return {
			beforeRunning: (actor) => this.#ws.restore(actor),
			afterStop: async (actor) => {
				this.#ws.forgetUnlisted(actor);
				const keys = this.#byActor.get(actor.actorId);
				if (!keys) return;
				const pending: Promise<void>[] = [];
				for (const key of [...keys]) {
					this.#http.actorStopped(key, actor);
					pending.push(this.#ws.actorStopped(key, actor));
				}
				await Promise.all(pending);
			},
		};
	}

	/** Records the gateway's hibernating requests of a newly started actor. */
	registerActor(
		actor: ActorRecord,
		hibernating: readonly { gatewayId: ArrayBuffer; requestId: ArrayBuffer }[],
	): void {
		this.#ws.expect(actor, hibernating);
	}

	/** Handles one tunnel message from the engine. */
	handle(message: ToClientTunnelMessage): void {
		const { gatewayId, requestId, messageIndex } = message.messageId;
		const key = requestKey(gatewayId, requestId);
		const kind = message.messageKind;
		switch (kind.tag) {
			case "ToClientRequestStart":
				this.#http.start(key, gatewayId, requestId, kind.val);
				break;
			case "ToClientRequestChunk":
				this.#http.chunk(key, kind.val);
				break;
			case "ToClientRequestAbort":
				this.#http.abort(key);
				break;
			case "ToClientWebSocketOpen":
				this.#ws.open(key, gatewayId, requestId, messageIndex, kind.val);
				break;
			case "ToClientWebSocketMessage":
				this.#ws.message(key, gatewayId, requestId, messageIndex, kind.val);
				break;
			case "ToClientWebSocketClose":
				this.#ws.closedByClient(key, kind.val);
				break;
		}
	}

	/** Acknowledges a hibernatable socket's message; false when the socket is unknown. */
	ackWebSocketMessage(gatewayId: string, requestId: string, index: number): boolean {
		return this.#ws.ack(gatewayId + requestId, index);
	}

	/** Sends what was queued while disconnected. */
	flush(): void {
		this.#outbox.flush();
	}

	/** After a reconnect with the same runner id: flush, then ask for replays of unacknowledged socket messages. */
	reconnected(): void {
		this.#outbox.flush();
		this.#ws.reconnected();
	}

	/** Aborts every request; sockets are left to the gateway (hibernatable ones survive). */
	shutdown(): void {
		this.#http.shutdown();
		this.#ws.shutdown();
		this.#outbox.close();
	}

	#reply(channel: Channel, kind: ToServerTunnelMessageKind, size: number): void {
		const messageIndex = channel.nextIndex;
		channel.nextIndex = (channel.nextIndex + 1) & 0xffff;
		this.#outbox.push(
			channel.key,
			{
				messageId: { gatewayId: channel.gatewayId, requestId: channel.requestId, messageIndex },
				messageKind: kind,
			},
			size,
		);
	}
}
