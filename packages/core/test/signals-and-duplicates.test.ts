import { describe, expect, it } from "vitest";
import { bindSignals, type SignalSource, type TunnelWebSocket } from "../src/index.ts";
import { connected, startActors } from "./helpers.ts";

/** A signal source driven by the test. */
function fakeSignals(): SignalSource & { fire(signal: string): void; exits: number[]; listeners: number } {
	const listeners = new Map<string, Set<() => void>>();
	const source = {
		exits: [] as number[],
		get listeners() {
			let n = 0;
			for (const set of listeners.values()) n += set.size;
			return n;
		},
		subscribe(signal: string, listener: () => void) {
			if (signal === "SIGNOPE") throw new Error("no such signal here");
			const set = listeners.get(signal) ?? new Set();
			set.add(listener);
			listeners.set(signal, set);
			return () => set.delete(listener);
		},
		exit: (code: number) => void source.exits.push(code),
		notice: () => {},
		defaultSignals: ["SIGTERM", "SIGINT"],
		fire(signal: string) {
			for (const listener of [...(listeners.get(signal) ?? [])]) listener();
		},
	};
	return source;
}

describe("signals", () => {
	it("first signal drains, a second stops immediately; listeners removed afterwards; exit only when asked", async () => {
		const calls: string[] = [];
		let finish!: () => void;
		const done = new Promise<void>((resolve) => {
			finish = resolve;
		});
		const runner = {
			shutdown: (options: { mode: "drain" | "immediate" }) => {
				calls.push(options.mode);
				return done;
			},
		};
		const source = fakeSignals();
		bindSignals(runner, source, { exit: 3, signals: ["SIGTERM", "SIGINT", "SIGNOPE"] });
		expect(source.listeners).toBe(2);
		source.fire("SIGTERM");
		source.fire("SIGINT");
		expect(calls).toEqual(["drain", "immediate"]);
		finish();
		await done;
		await Promise.resolve();
		expect(source.listeners).toBe(0);
		expect(source.exits).toEqual([3]);
	});

	it("does not exit unless asked", async () => {
		const source = fakeSignals();
		bindSignals({ shutdown: () => Promise.resolve() }, source);
		source.fire("SIGINT");
		await Promise.resolve();
		await Promise.resolve();
		expect(source.exits).toEqual([]);
		expect(source.listeners).toBe(0);
	});
});

describe("duplicate WebSocket open for the same request", () => {
	it("closes the old socket locally and serves the new one", async () => {
		const sockets: TunnelWebSocket[] = [];
		const closes: Array<[number, string]> = [];
		const h = await connected({
			websocket: (socket) => {
				sockets.push(socket);
				socket.addEventListener("close", (event) => void closes.push([event.code, event.reason]));
				socket.addEventListener("message", (event) => socket.send(`echo:${String(event.data)}`));
			},
		});
		await startActors(h, "a1");
		const messageId = (messageIndex: number) => ({
			gatewayId: new Uint8Array([9, 9, 9, 9]).buffer,
			requestId: new Uint8Array([1, 1, 1, 1]).buffer,
			messageIndex,
		});
		const open = {
			tag: "ToClientTunnelMessage" as const,
			val: {
				messageId: messageId(0),
				messageKind: {
					tag: "ToClientWebSocketOpen" as const,
					val: { actorId: "a1", path: "/ws", headers: new Map<string, string>() },
				},
			},
		};
		h.engine.last.push(open);
		await h.engine.until(() => sockets[0]?.readyState === 1);
		h.engine.last.push(open);
		await h.engine.until(() => sockets[1]?.readyState === 1);
		expect(sockets[0]!.readyState).toBe(3);
		expect(closes).toEqual([[1000, "ws.duplicate_open"]]);
		h.engine.last.push({
			tag: "ToClientTunnelMessage",
			val: {
				messageId: messageId(1),
				messageKind: {
					tag: "ToClientWebSocketMessage",
					val: { data: new TextEncoder().encode("hi").buffer, binary: false },
				},
			},
		});
		await h.engine.until(() =>
			h.engine.last
				.sent("ToServerTunnelMessage")
				.some((m) => m.messageKind.tag === "ToServerWebSocketMessage"),
		);
		const echoes = h.engine.last
			.sent("ToServerTunnelMessage")
			.filter((m) => m.messageKind.tag === "ToServerWebSocketMessage");
		expect(echoes).toHaveLength(1);
		const opens = h.engine.last
			.sent("ToServerTunnelMessage")
			.filter((m) => m.messageKind.tag === "ToServerWebSocketOpen");
		expect(opens).toHaveLength(2);
	});
});
