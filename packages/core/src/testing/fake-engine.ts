/**
 * A scriptable stand-in for the engine, for what the real one cannot be made to do on demand: malformed frames,
 * replays, dropped acks, silence. It hands the runner in-memory sockets and decodes what the runner sends.
 *
 * @module
 */
import {
	decodeToServer,
	encodeToClient,
	type ToClient,
	type ToServer,
} from "@rivetkit/engine-runner-protocol";
import type { SocketEventMap, WebSocketFactory, WebSocketLike } from "../platform.ts";
import { flushMicrotasks } from "./manual-clock.ts";

type Listener = (event: never) => void;

/** The payload of a `ToServer` message with tag `T`. */
export type Payload<T extends ToServer["tag"]> =
	Extract<ToServer, { tag: T }> extends { val: infer V } ? V : never;

/** The engine's end of one runner connection. */
export class FakeConnection implements WebSocketLike {
	/** URL the runner connected to. */
	readonly url: string;
	/** Subprotocols the runner offered. */
	readonly protocols: string[];
	/** Everything the runner sent on this connection, decoded, in order. */
	readonly received: ToServer[] = [];
	/** Raw frames the runner sent. */
	readonly frames: Uint8Array[] = [];
	/** `binaryType` as set by the runner. */
	binaryType = "blob";
	#readyState = 0;
	#closeCode: number | undefined;
	#listeners = new Map<string, Set<Listener>>();

	/** Created by {@link FakeEngine}. */
	constructor(url: string, protocols: string[]) {
		this.url = url;
		this.protocols = protocols;
	}

	/** 0 connecting, 1 open, 2 closing, 3 closed. */
	get readyState(): number {
		return this.#readyState;
	}

	/** Code the runner closed with, if it did. */
	get closeCode(): number | undefined {
		return this.#closeCode;
	}

	/** Runner side: send a frame. */
	send(data: Uint8Array | ArrayBuffer | string): void {
		if (this.#readyState !== 1) throw new Error("fake socket is not open");
		if (typeof data === "string") throw new Error("runner sent a text frame");
		const bytes = data instanceof Uint8Array ? data.slice() : new Uint8Array(data.slice(0));
		this.frames.push(bytes);
		this.received.push(decodeToServer(bytes));
	}

	/** Runner side: close. The fake completes the close handshake in a microtask. */
	close(code?: number, reason?: string): void {
		if (this.#readyState >= 2) return;
		this.#closeCode = code;
		this.#readyState = 2;
		queueMicrotask(() => this.#finishClose(code ?? 1005, reason ?? ""));
	}

	/** Adds a listener. */
	addEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void {
		const set = this.#listeners.get(type) ?? new Set();
		set.add(listener as Listener);
		this.#listeners.set(type, set);
	}

	/** Removes a listener. */
	removeEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void {
		this.#listeners.get(type)?.delete(listener as Listener);
	}

	/** Engine side: complete the upgrade. */
	accept(): void {
		this.#readyState = 1;
		this.#emit("open", {});
	}

	/** Engine side: send a message. */
	push(message: ToClient): void {
		this.pushRaw(encodeToClient(message));
	}

	/** Engine side: send raw bytes or a text frame. */
	pushRaw(data: Uint8Array | string): void {
		if (this.#readyState !== 1) return;
		const payload = typeof data === "string" ? data : data.slice().buffer;
		this.#emit("message", { data: payload });
	}

	/** Engine side: close the connection. */
	drop(code = 1011, reason = "core.internal_error"): void {
		if (this.#readyState === 3) return;
		this.#finishClose(code, reason);
	}

	/** Engine side: fail the socket (error then close 1006). */
	fail(): void {
		this.#emit("error", { message: "connection reset" });
		this.#finishClose(1006, "");
	}

	/** Messages of one kind sent by the runner so far. */
	sent<T extends ToServer["tag"]>(tag: T): Payload<T>[] {
		const out: Payload<T>[] = [];
		for (const m of this.received) if (m.tag === tag) out.push(m.val as Payload<T>);
		return out;
	}

	#finishClose(code: number, reason: string): void {
		if (this.#readyState === 3) return;
		this.#readyState = 3;
		this.#emit("close", { code, reason });
	}

	#emit(type: string, event: unknown): void {
		for (const listener of [...(this.#listeners.get(type) ?? [])])
			(listener as (event: unknown) => void)(event);
	}
}

/** Records every connection a runner opens; pass {@link FakeEngine.webSocket} as the platform's factory. */
export class FakeEngine {
	/** Connections in the order the runner opened them. */
	readonly connections: FakeConnection[] = [];
	/** Accept connections automatically and answer `ToServerInit` with this runner id. Null to script by hand. */
	autoInit: string | null;

	/** `autoInit`: runner id to answer inits with, or null. @default "runner-1" */
	constructor(autoInit: string | null = "runner-1") {
		this.autoInit = autoInit;
	}

	/** The factory to inject. */
	readonly webSocket: WebSocketFactory = (url, protocols) => {
		const connection = new FakeConnection(url, protocols);
		this.connections.push(connection);
		if (this.autoInit !== null) {
			const runnerId = this.autoInit;
			queueMicrotask(() => {
				connection.accept();
				if (connection.received[0]?.tag === "ToServerInit") connection.push(initMessage(runnerId));
			});
		}
		return connection;
	};

	/** The newest connection. */
	get last(): FakeConnection {
		const connection = this.connections.at(-1);
		if (!connection) throw new Error("the runner has not connected");
		return connection;
	}

	/** Waits (flushing microtasks) until `predicate` holds; throws after `turns` tries. */
	async until(predicate: () => boolean, turns = 200): Promise<void> {
		for (let i = 0; i < turns; i++) {
			if (predicate()) return;
			await flushMicrotasks(5);
			await new Promise((resolve) => queueMicrotask(() => resolve(undefined)));
		}
		if (!predicate()) throw new Error("condition not met");
	}
}

/** A `ToClientInit` with the engine's default thresholds. */
export function initMessage(runnerId: string, runnerLostThreshold = 15_000n): ToClient {
	return {
		tag: "ToClientInit",
		val: {
			runnerId,
			metadata: { runnerLostThreshold, actorStopThreshold: 1_800_000n, serverlessDrainGracePeriod: null },
		},
	};
}
