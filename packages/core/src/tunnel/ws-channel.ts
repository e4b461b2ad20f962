/**
 * State of one tunnelled WebSocket, shared by the socket router and the hibernation helpers.
 *
 * @module
 */
import type { ActorRecord } from "../actor.ts";
import { toHex } from "../bytes.ts";
import type { Cancel } from "../platform.ts";
import type { Runner } from "../runner.ts";
import type { WebSocketContext } from "./options.ts";
import type { TunnelWebSocket } from "./socket.ts";
import type { Channel } from "./tunnel.ts";

/** A tunnelled WebSocket. */
export interface WsChannel extends Channel {
	readonly actor: ActorRecord;
	readonly gatewayHex: string;
	readonly requestHex: string;
	socket: TunnelWebSocket | undefined;
	hibernatable: boolean;
	/** Whether this socket was restored after a wake. */
	restored: boolean;
	/** opening → open → closed. */
	state: "opening" | "open" | "closed";
	/** Last client message index accepted (u16). */
	lastIndex: number;
	/** Last client message index whose listeners have finished. */
	processedIndex: number;
	/** Last index persisted and acknowledged. */
	persistedIndex: number;
	/** Messages that arrived while opening, checked and queued once open. */
	early: Array<{ index: number; data: ArrayBuffer; binary: boolean }>;
	/** Accepted messages waiting for the previous message's async listeners. */
	queue: Array<{ index: number; data: ArrayBuffer; binary: boolean }>;
	/** Whether a message's async listeners are still running. */
	busy: boolean;
	/** Settles when the running message's async listeners have finished. */
	inflight: Promise<void> | undefined;
	/** Commits in flight (also those not awaited by a listener), finished before the actor's stop is reported. */
	commits: Set<Promise<void>>;
	/** Waiting for the gateway to replay from the next expected index; out-of-order messages are dropped meanwhile. */
	resyncing: boolean;
	/**
	 * Outgoing messages held while the gateway resumes the connection after a resync (it drops what arrives while it
	 * switches over); undefined when not holding.
	 */
	held: Array<{ data: ArrayBuffer; binary: boolean }> | undefined;
	/** Cancels the hold timer. */
	holdTimer: Cancel | undefined;
	persistTimer: Cancel | undefined;
	persisting: Promise<void> | undefined;
}

/** WebSocket counters, readable through `runner.webSocketMetrics`. */
export interface WebSocketMetrics {
	/** Sockets open now. */
	open: number;
	/** Of those, hibernatable. */
	hibernatable: number;
	/** Sockets restored after a wake, in total. */
	restored: number;
	/** Messages delivered on restored sockets (sent while the actor slept, or replayed by the gateway). */
	replayed: number;
	/** Incoming messages dropped because their index was already handled. */
	droppedDuplicates: number;
	/** Incoming index gaps seen. */
	gaps: number;
}

/** A fresh channel for an opening socket. */
export function newChannel(
	key: string,
	actor: ActorRecord | undefined,
	actorId: string,
	gatewayId: ArrayBuffer,
	requestId: ArrayBuffer,
	index: number,
): WsChannel {
	return {
		key,
		actor: actor as ActorRecord,
		actorId,
		gatewayId,
		requestId,
		gatewayHex: toHex(gatewayId),
		requestHex: toHex(requestId),
		nextIndex: 0,
		socket: undefined,
		hibernatable: false,
		restored: false,
		state: "opening",
		lastIndex: index,
		processedIndex: index,
		persistedIndex: index,
		early: [],
		queue: [],
		busy: false,
		inflight: undefined,
		commits: new Set(),
		resyncing: false,
		held: undefined,
		holdTimer: undefined,
		persistTimer: undefined,
		persisting: undefined,
	};
}

/** Zeroed counters. */
export function newMetrics(): WebSocketMetrics {
	return { open: 0, hibernatable: 0, restored: 0, replayed: 0, droppedDuplicates: 0, gaps: 0 };
}

/** The context handed to `canHibernate` and the `websocket` handler for a channel. */
export function socketContext(
	channel: WsChannel,
	request: Request,
	restored: boolean,
	runner: Runner,
): WebSocketContext {
	return {
		actorId: channel.actorId,
		generation: channel.actor.generation,
		gatewayId: channel.gatewayHex,
		requestId: channel.requestHex,
		signal: channel.actor.signal,
		runner,
		request,
		hibernatable: channel.hibernatable,
		restored,
	};
}
