import type { CommandWrapper, ToClient, ToServerTunnelMessageKind } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import type { HibernationStore, StoredSocket, TunnelWebSocket, WebSocketContext } from "../src/index.ts";
import {
	commands,
	connected,
	type Harness,
	sentRunning,
	startCmd,
	stopCmd,
	stoppedEvents,
} from "./helpers.ts";

// The engine can start an actor before the gateway has recorded a socket it is about to resume (a drain or crash that
// reschedules the actor at once), so the start command does not list it although its messages follow. The runner keeps
// such stored sockets as candidates for `hibernation.unlistedGraceMs` instead of dropping them as stale at once.

const GATEWAY = "0a0b0c0d";
const REQUEST = "01020304";
const GRACE = 5_000;

/** An in-memory store that records what happened to its entries. */
function memoryStore(): HibernationStore & { entries: Map<string, StoredSocket>; removed: string[] } {
	const entries = new Map<string, StoredSocket>();
	const removed: string[] = [];
	return {
		entries,
		removed,
		load: async (actorId) => [...entries.values()].filter(() => actorId === "a1"),
		save: async (_actorId, socket) => void entries.set(socket.gatewayId + socket.requestId, socket),
		updateIndex: async (_actorId, gatewayId, requestId, index) => {
			const entry = entries.get(gatewayId + requestId);
			if (entry) entries.set(gatewayId + requestId, { ...entry, index });
		},
		remove: async (_actorId, gatewayId, requestId) => {
			removed.push(gatewayId + requestId);
			entries.delete(gatewayId + requestId);
		},
	};
}

interface Seen {
	ctx: WebSocketContext;
	socket: TunnelWebSocket;
	events: string[];
}

async function setup(): Promise<{ h: Harness; store: ReturnType<typeof memoryStore>; seen: Seen[] }> {
	const store = memoryStore();
	store.entries.set(GATEWAY + REQUEST, {
		gatewayId: GATEWAY,
		requestId: REQUEST,
		path: "/room?x=1",
		headers: { "x-user": "ada" },
		index: 5,
	});
	const seen: Seen[] = [];
	const h = await connected({
		canHibernate: () => true,
		hibernation: { store, unlistedGraceMs: GRACE, persistDebounceMs: 0 },
		websocket: (socket, ctx) => {
			const entry: Seen = { ctx, socket, events: [] };
			seen.push(entry);
			socket.addEventListener("open", () => void entry.events.push("open"));
			socket.addEventListener("message", (event) => {
				entry.events.push(`message ${event.messageIndex} ${String(event.data)}`);
				socket.send(`echo ${String(event.data)}`);
			});
			socket.addEventListener(
				"close",
				(event) => void entry.events.push(`close ${event.code} ${event.reason}`),
			);
		},
	});
	h.engine.last.push(commands(startCmd("a1")));
	await h.engine.until(() => sentRunning(h.engine.last, "a1"));
	return { h, store, seen };
}

function tunnel(
	index: number,
	kind: Extract<ToClient, { tag: "ToClientTunnelMessage" }>["val"]["messageKind"],
): ToClient {
	const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (b) => Number.parseInt(b, 16)).buffer;
	return {
		tag: "ToClientTunnelMessage",
		val: {
			messageId: { gatewayId: bytes(GATEWAY), requestId: bytes(REQUEST), messageIndex: index },
			messageKind: kind,
		},
	};
}

function message(index: number, text: string): ToClient {
	return tunnel(index, {
		tag: "ToClientWebSocketMessage",
		val: { data: new TextEncoder().encode(text).buffer, binary: false },
	});
}

function sentKinds(h: Harness): ToServerTunnelMessageKind[] {
	return h.engine.last.sent("ToServerTunnelMessage").map((m) => m.messageKind);
}

describe("a stored socket the start command did not list", () => {
	it("is restored when a message for it arrives within the grace period, replays dropped", async () => {
		const { h, store, seen } = await setup();
		expect(seen).toHaveLength(0);
		h.engine.last.push(message(5, "replayed"));
		h.engine.last.push(message(6, "hello"));
		await h.engine.until(() => sentKinds(h).some((k) => k.tag === "ToServerWebSocketMessage"));
		// The duplicate is acknowledged again at once; the new index after its (debounced) persist.
		expect(sentKinds(h)).toContainEqual({ tag: "ToServerWebSocketMessageAck", val: { index: 5 } });
		await h.clock.advance(1);
		await h.engine.until(() =>
			sentKinds(h).some((k) => k.tag === "ToServerWebSocketMessageAck" && k.val.index === 6),
		);
		expect(seen).toHaveLength(1);
		expect(seen[0]!.ctx.restored).toBe(true);
		expect(seen[0]!.ctx.request.url).toBe("http://actor/room?x=1");
		expect(seen[0]!.ctx.request.headers.get("x-user")).toBe("ada");
		expect(seen[0]!.events).toEqual(["message 6 hello"]);
		expect(sentKinds(h)).toContainEqual({
			tag: "ToServerWebSocketMessage",
			val: { data: new TextEncoder().encode("echo hello").buffer, binary: false },
		});
		expect(store.entries.get(GATEWAY + REQUEST)?.index).toBe(6);
		expect(h.runner.webSocketMetrics).toMatchObject({
			open: 1,
			hibernatable: 1,
			restored: 1,
			droppedDuplicates: 1,
		});
		// Past the grace period nothing more happens to it: it is an ordinary open socket now.
		await h.clock.advance(GRACE * 2);
		expect(seen[0]!.events).toEqual(["message 6 hello"]);
		expect(store.removed).toEqual([]);
		await h.runner.shutdown({ mode: "immediate" });
	});

	it("is closed as stale, at the gateway too, and removed when the grace period ends in silence", async () => {
		const { h, store, seen } = await setup();
		await h.clock.advance(GRACE - 1);
		expect(seen).toHaveLength(0);
		expect(store.entries.size).toBe(1);
		await h.clock.advance(1);
		await h.engine.until(() => store.entries.size === 0);
		expect(seen).toHaveLength(1);
		expect(seen[0]!.ctx.restored).toBe(true);
		expect(seen[0]!.events).toEqual(["close 1000 ws.stale_metadata"]);
		expect(sentKinds(h)).toContainEqual({
			tag: "ToServerWebSocketClose",
			val: { code: 1000, reason: "ws.stale_metadata", hibernate: false },
		});
		// A message after that is for an unknown socket: dropped, and the app does not see it.
		h.engine.last.push(message(6, "late"));
		await h.clock.advance(10);
		expect(seen).toHaveLength(1);
		expect(h.runner.webSocketMetrics.restored).toBe(0);
		await h.runner.shutdown({ mode: "immediate" });
	});

	it("gets the client's close code when the client closed while the actor was moving", async () => {
		const { h, store, seen } = await setup();
		h.engine.last.push(tunnel(0, { tag: "ToClientWebSocketClose", val: { code: 4006, reason: "bye" } }));
		await h.engine.until(() => store.entries.size === 0);
		expect(seen[0]!.events).toEqual(["close 4006 bye"]);
		expect(sentKinds(h).filter((k) => k.tag === "ToServerWebSocketClose")).toEqual([]);
		await h.clock.advance(GRACE * 2);
		expect(seen).toHaveLength(1);
		await h.runner.shutdown({ mode: "immediate" });
	});

	it("stays stored when its actor stops first, for the next start to judge", async () => {
		const { h, store, seen } = await setup();
		h.engine.last.push(commands(stopCmd("a1", 0, 1n)));
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		await h.clock.advance(GRACE * 2);
		expect(seen).toHaveLength(0);
		expect(store.removed).toEqual([]);
		// The next generation is started with the socket listed: restored before the actor runs.
		const listed: CommandWrapper = {
			checkpoint: { actorId: "a1", generation: 1, index: 2n },
			inner: {
				tag: "CommandStartActor",
				val: {
					config: { name: "counter", key: null, createTs: 1n, input: null },
					hibernatingRequests: [
						{
							gatewayId: Uint8Array.from([10, 11, 12, 13]).buffer,
							requestId: Uint8Array.from([1, 2, 3, 4]).buffer,
						},
					],
				},
			},
		};
		h.engine.last.push(commands(listed));
		await h.engine.until(() => sentRunning(h.engine.last, "a1", 1));
		expect(seen).toHaveLength(1);
		expect(seen[0]!.ctx.generation).toBe(1);
		expect(seen[0]!.ctx.restored).toBe(true);
		expect(h.runner.webSocketMetrics.restored).toBe(1);
		await h.runner.shutdown({ mode: "immediate" });
	});

	it("is forgotten at shutdown without a timer left behind", async () => {
		const { h, store } = await setup();
		await h.runner.shutdown({ mode: "immediate" });
		expect(h.clock.pending).toBe(0);
		expect(store.entries.size).toBe(1);
	});
});
