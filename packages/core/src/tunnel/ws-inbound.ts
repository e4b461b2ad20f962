/**
 * The incoming side of tunnelled WebSockets: index checks for hibernatable sockets (duplicates dropped, gaps handled
 * by policy), in-order delivery with an input gate (a promise returned by a `message` listener holds the next
 * message of that socket), and resyncs that make the gateway replay what was not acknowledged.
 *
 * @module
 */
import { utf8Decode } from "../bytes.ts";
import { describeError, RunnerError } from "../errors.ts";
import type { Persistence } from "../hibernation/persist.ts";
import { indexAfter, nextIndex } from "./ids.ts";
import { tunnelSocketControl } from "./socket.ts";
import type { TunnelCore } from "./tunnel.ts";
import type { WebSocketMetrics, WsChannel } from "./ws-channel.ts";

const control = tunnelSocketControl();

/** What the inbound path needs from the socket router. */
export interface InboundHost {
	readonly core: TunnelCore;
	readonly persist: Persistence;
	readonly metrics: WebSocketMetrics;
	/** Whether the channel is still the registered one for its key. */
	current(channel: WsChannel): boolean;
	/** Closes the socket at the gateway and locally with `code`. */
	close(channel: WsChannel, code: number, reason: string): void;
}

/** Incoming messages of tunnelled WebSockets. */
export class Inbound {
	readonly #host: InboundHost;

	/** Creates the inbound path. */
	constructor(host: InboundHost) {
		this.#host = host;
	}

	/** Sends a message to the client now, or holds it while a resync is settling. */
	send(channel: WsChannel, data: ArrayBuffer, binary: boolean): void {
		if (channel.held) channel.held.push({ data, binary });
		else
			this.#host.core.reply(
				channel,
				{ tag: "ToServerWebSocketMessage", val: { data, binary } },
				data.byteLength + 64,
			);
	}

	/**
	 * Acknowledges `index` by hand: the index is recorded as processed in the store first (so a restore after sleep
	 * continues from it), then acknowledged. Failures go to `onError`.
	 */
	acknowledge(channel: WsChannel, index: number): void {
		this.#host.persist
			.commit(channel, index, [])
			.catch((error: unknown) =>
				this.#host.core.host.onError(
					new RunnerError(
						"HIBERNATION_ERROR",
						`acknowledging message ${index} failed: ${describeError(error)}`,
						{ cause: error },
					),
					"hibernation",
					channel.actorId,
				),
			);
	}

	/** Bytes held during a resync. */
	held(channel: WsChannel): number {
		let n = 0;
		for (const message of channel.held ?? []) n += message.data.byteLength;
		return n;
	}

	/**
	 * Asks the gateway to replay every message of a hibernatable socket that is not acknowledged yet: a
	 * `ToServerWebSocketClose{hibernate: true}`, after which the gateway resumes the same connection and re-sends its
	 * unacknowledged messages with their original indices (duplicates are dropped here).
	 */
	resync(channel: WsChannel): void {
		if (!channel.hibernatable || channel.state !== "open" || channel.resyncing) return;
		channel.resyncing = true;
		this.#host.core.reply(
			channel,
			{ tag: "ToServerWebSocketClose", val: { code: null, reason: null, hibernate: true } },
			32,
		);
		this.hold(channel);
	}

	/**
	 * Holds the socket's outgoing messages until the gateway is forwarding again: after a resync, and after a restore
	 * (the gateway resumes each restored connection on its own, a little after the actor is reported running, and
	 * drops what arrives before). The first in-order incoming message, or `resyncHoldMs`, releases them.
	 */
	hold(channel: WsChannel): void {
		channel.held ??= [];
		channel.holdTimer?.();
		channel.holdTimer = this.#host.core.host.config.platform.clock.setTimeout(
			() => this.#release(channel),
			this.#host.core.host.config.options.hibernation?.resyncHoldMs ?? 1000,
		);
	}

	/** Sends the messages held during a resync, in order. */
	#release(channel: WsChannel): void {
		channel.holdTimer?.();
		channel.holdTimer = undefined;
		const held = channel.held;
		channel.held = undefined;
		if (!held || !this.#host.current(channel)) return;
		for (const { data, binary } of held) {
			this.#host.core.reply(
				channel,
				{ tag: "ToServerWebSocketMessage", val: { data, binary } },
				data.byteLength + 64,
			);
		}
	}

	/** Checks, queues and dispatches one incoming message. */
	deliver(channel: WsChannel, index: number, data: ArrayBuffer, binary: boolean): void {
		if (channel.hibernatable) {
			if (!indexAfter(index, channel.lastIndex)) {
				this.#host.metrics.droppedDuplicates++;
				if (!indexAfter(index, channel.persistedIndex))
					this.#host.core.reply(
						channel,
						{ tag: "ToServerWebSocketMessageAck", val: { index: channel.persistedIndex } },
						32,
					);
				return;
			}
			if (index === nextIndex(channel.lastIndex)) {
				channel.resyncing = false;
				if (channel.held) this.#release(channel);
			} else if (channel.resyncing) {
				return;
			} else {
				this.#host.metrics.gaps++;
				const policy = this.#host.core.host.config.options.hibernation?.gapPolicy ?? "close";
				if (policy === "resync") {
					this.#host.core.host.log.warn(
						{ expected: nextIndex(channel.lastIndex), got: index },
						"WebSocket message index gap; resyncing",
					);
					this.resync(channel);
					return;
				}
				if (policy === "close") {
					this.#host.core.host.log.warn(
						{ expected: nextIndex(channel.lastIndex), got: index },
						"WebSocket message index gap; closing",
					);
					this.#host.close(channel, 1008, "ws.message_index_skip");
					return;
				}
			}
		}
		channel.lastIndex = index;
		channel.queue.push({ index, data, binary });
		this.#pump(channel);
	}

	/**
	 * Dispatches queued messages in order, one at a time: when a listener returns a promise, the next message of the
	 * same socket waits for it (like an input gate), so async handlers never interleave.
	 */
	#pump(channel: WsChannel): void {
		while (!channel.busy && channel.state === "open" && channel.queue.length > 0) {
			const { index, data, binary } = channel.queue.shift()!;
			const pending = this.#dispatchMessage(channel, index, data, binary);
			if (!pending) {
				this.#processed(channel, index);
				continue;
			}
			channel.busy = true;
			channel.inflight = pending;
			void pending.then(() => {
				channel.busy = false;
				channel.inflight = undefined;
				this.#processed(channel, index);
				this.#pump(channel);
			});
		}
	}

	#processed(channel: WsChannel, index: number): void {
		channel.processedIndex = index;
		if (channel.hibernatable && commitMode(this.#host.core) === "auto" && channel.state === "open")
			this.#host.persist.schedule(channel);
	}

	#dispatchMessage(
		channel: WsChannel,
		index: number,
		data: ArrayBuffer,
		binary: boolean,
	): Promise<void> | undefined {
		if (channel.restored) this.#host.metrics.replayed++;
		const socket = channel.socket!;
		return control.dispatch(socket, {
			type: "message",
			target: socket,
			data: binary ? control.binaryData(socket, data) : utf8Decode(data),
			gatewayId: channel.gatewayHex,
			requestId: channel.requestHex,
			messageIndex: index,
			hibernatable: channel.hibernatable,
			rivetGatewayId: channel.gatewayId,
			rivetRequestId: channel.requestId,
			rivetMessageIndex: index,
			ack: () => this.acknowledge(channel, index),
			commit: (entries = []) => this.#host.persist.commit(channel, index, entries),
		});
	}
}

/** The hibernation commit mode in force. */
export function commitMode(core: TunnelCore): "auto" | "manual" {
	return core.host.config.options.hibernation?.commit ?? "auto";
}
