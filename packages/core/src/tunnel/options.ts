/**
 * Options of the HTTP and WebSocket tunnel, part of `RunnerOptions`.
 *
 * @module
 */
import type { HibernationStore } from "../hibernation/store.ts";
import type { Runner } from "../runner.ts";
import type { TunnelWebSocket } from "./socket.ts";

/** Passed with every tunnelled HTTP request and WebSocket. */
export interface RequestContext {
	/** Actor the request is for. */
	readonly actorId: string;
	/** Generation of that actor. */
	readonly generation: number;
	/** Gateway id, lowercase hex (8 characters). */
	readonly gatewayId: string;
	/** Request id, lowercase hex (8 characters). */
	readonly requestId: string;
	/** Aborted when the engine aborts the request, the actor stops, or the runner shuts down. */
	readonly signal: AbortSignal;
	/** The runner hosting the actor. */
	readonly runner: Runner;
}

/** Passed to the `websocket` handler. */
export interface WebSocketContext extends RequestContext {
	/** The upgrade request (method GET, the client's path, query and headers). */
	readonly request: Request;
	/** Whether this socket survives actor sleep. */
	readonly hibernatable: boolean;
	/** True when the socket is being restored after a wake: it is already open and no `open` event follows. */
	readonly restored: boolean;
}

/**
 * What to do when a hibernatable socket's incoming message index skips ahead: `"close"` it (1008
 * `ws.message_index_skip`), `"accept"` the message anyway, or `"resync"`: drop it and ask the gateway to replay
 * everything not yet acknowledged (it re-sends from the oldest unacknowledged message, in order).
 */
export type GapPolicy = "close" | "accept" | "resync";

/** Hibernating WebSocket behaviour. */
export interface HibernationOptions {
	/**
	 * Where sockets are remembered while the actor sleeps: `"kv"` (the actor's engine KV, under a reserved prefix), a
	 * custom {@link HibernationStore}, or `false` to persist nothing (the app restores nothing). @default "kv"
	 */
	store?: "kv" | HibernationStore | false;
	/**
	 * `"auto"`: a message counts as processed once its listeners have run; its index is persisted (debounced) and then
	 * acknowledged. `"manual"`: nothing is acknowledged until the handler calls `event.commit()` (exactly-once).
	 * @default "auto"
	 */
	commit?: "auto" | "manual";
	/** Debounce of index persistence in `"auto"` mode, in ms. @default 100 */
	persistDebounceMs?: number;
	/** Incoming index gap on a hibernatable socket. @default "close" */
	gapPolicy?: GapPolicy;
	/**
	 * After a reconnect, ask the gateway to replay what each hibernatable socket has not acknowledged, so messages
	 * sent by clients while the engine connection was down are not lost. @default true
	 */
	resyncOnReconnect?: boolean;
	/**
	 * After a resync or a restore, how long outgoing messages of that socket are held (the gateway drops messages that
	 * arrive while it resumes the connection); the first in-order incoming message releases them earlier.
	 * @default 1000
	 */
	resyncHoldMs?: number;
	/**
	 * How long a stored socket that the gateway did not list at its actor's start waits for a message before it is
	 * cleaned up as stale. The engine can start an actor before it has recorded a socket it is about to resume (a drain
	 * or crash that reschedules the actor at once); the first message or close for such a socket restores it within
	 * this time. When it ends, the app gets the socket and a `close` event (1000 `ws.stale_metadata`) and the entry is
	 * removed. @default 30000
	 */
	unlistedGraceMs?: number;
}

/** Tunnel part of the runner options. */
export interface TunnelOptions {
	/**
	 * Serves an HTTP request sent to an actor through the engine's gateway. Without it every request gets a 501.
	 * A thrown error becomes a 500 with no stack trace, and is reported to `onError`.
	 */
	fetch?(request: Request, context: RequestContext): Response | Promise<Response>;
	/**
	 * Accepts a WebSocket: attach listeners (synchronously or before the returned promise settles). `open` is
	 * dispatched after it returns. A throw closes the socket with 1011. Without it, sockets are refused. Messages are
	 * dispatched in order; when a `message` listener returns a promise, the next message of that socket waits for it.
	 */
	websocket?(socket: TunnelWebSocket, context: WebSocketContext): void | Promise<void>;
	/** Decides per connection whether a socket survives actor sleep. @default () => false */
	canHibernate?(request: Request, context: RequestContext): boolean;
	/** Hibernating WebSocket behaviour. */
	hibernation?: HibernationOptions;
	/** Largest response body sent back through the engine, in bytes. @default 20971520 (the engine's limit) */
	maxResponseBodyBytes?: number;
	/**
	 * Stream response bodies (`ToServerResponseStart{stream: true}` and chunks) instead of buffering them. Only for
	 * engines whose gateway forwards chunks: engine 2.3.x drops them, so the default buffers. @default false
	 */
	streamResponses?: boolean;
	/** Bytes of replies kept while the engine connection is down. @default 67108864 */
	maxBufferedReplyBytes?: number;
	/** Longest a reply waits for the engine connection, in ms. @default 60000 */
	maxReplyAgeMs?: number;
}
