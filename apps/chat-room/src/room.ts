/**
 * The chat room actor: one actor per room key, reached only through the engine's gateway.
 *   GET /  the page (page.ts)   ·   GET /history  the history as JSON   ·   /ws  a hibernatable WebSocket
 *
 * Browsers stay connected while the actor sleeps, and nothing is lost, thanks to the three rules of hibernating
 * sockets (each is marked at the line where it applies):
 *   RULE 1  a socket is stored before the client is told it is open, so a wake can restore it;
 *   RULE 2  a message is acknowledged only after it is persisted, so the gateway replays what was not;
 *   RULE 3  on restore, messages at or below the persisted index are dropped, so a replay is never applied twice.
 * EXACTLY-ONCE: `event.commit(entries)` writes the room's entries and the socket's index in ONE atomic KV put.
 */
import {
	type Runner,
	type RunnerOptions,
	type TunnelMessageEvent,
	type TunnelWebSocket,
	utf8Decode,
	utf8Encode,
} from "@x/runner-core";
import { renderPage } from "./page.ts";

/** One line of the room's history, as stored in KV and sent to browsers. */
export type ChatMessage = { seq: number; from: string; text: string; at: number };

/** What the room sends to browsers. */
export type ServerEvent =
	| { type: "hello"; room: string; status: "awake"; history: ChatMessage[] }
	| { type: "message"; message: ChatMessage }
	| { type: "status"; status: "asleep" | "awake"; recent: ChatMessage[] }
	| { type: "error"; error: string };

/** Where the engine is and which runner pool to join. */
export type EngineOptions = Pick<RunnerOptions, "endpoint" | "token" | "namespace" | "runnerName" | "logger">;

/**
 * The adapter's `Runner` class: `Runner` from `@x/runner-node`, `@x/runner-bun` or `@x/runner-deno`. It is the only
 * runtime-specific piece the room needs (the adapter fills in the runtime's WebSocket, logger and signals).
 */
export type RunnerClass = new (options: RunnerOptions) => Runner;

// The room's own KV keys. The runner keeps its socket records under a reserved prefix ("\0runner\0") beside them.
const HISTORY_PREFIX = "chat/history/";
const historyKey = (seq: number): Uint8Array => utf8Encode(HISTORY_PREFIX + String(seq).padStart(10, "0"));
/** Status events carry the latest messages, so a page that missed one can fill the gap (see announceAwake). */
const RECENT = 50;

interface Room {
	actorId: string;
	name: string;
	history: ChatMessage[];
	sockets: Set<TunnelWebSocket>;
	/** Messages are handled one at a time, in arrival order, so sequence numbers and KV writes stay in order. */
	queue: Promise<void>;
	/** Whether this start of the actor has told the browsers it is awake. */
	announcedAwake: boolean;
	sleepRequested: boolean;
	idleTimer?: ReturnType<typeof setTimeout>;
	resyncTimer?: ReturnType<typeof setTimeout>;
}

/**
 * A runner (an instance of the adapter's `Runner`) that hosts chat rooms; each room asks to sleep after `idleMs`
 * without messages. Call `start()` on it.
 */
export function createRoomRunner(Runner: RunnerClass, engine: EngineOptions, idleMs: number): Runner {
	const rooms = new Map<string, Room>();

	const send = (socket: TunnelWebSocket, event: ServerEvent): void => {
		if (socket.readyState === 1) socket.send(JSON.stringify(event));
	};
	const broadcast = (room: Room, event: ServerEvent): void => {
		for (const socket of room.sockets) send(socket, event);
	};
	const status = (room: Room, state: "asleep" | "awake"): ServerEvent => ({
		type: "status",
		status: state,
		recent: room.history.slice(-RECENT),
	});

	// Once per start of the actor (a wake is a start), in response to a message or a new socket's open event.
	const announceAwake = (room: Room): void => {
		if (room.announcedAwake) return;
		room.announcedAwake = true;
		broadcast(room, status(room, "awake"));
		// Engine gap: for a moment after a wake, the gateway drops what the actor sends on a restored socket until that
		// socket's gateway side has re-attached (the socket that woke the actor is not affected). Nothing tells the
		// actor when that is done, so say it again a second later with the recent messages; pages merge them by seq.
		room.resyncTimer = setTimeout(() => {
			if (rooms.get(room.actorId) === room && !room.sleepRequested) broadcast(room, status(room, "awake"));
		}, 1000);
	};

	const armIdleTimer = (room: Room): void => {
		clearTimeout(room.idleTimer);
		room.idleTimer = setTimeout(() => {
			room.queue = room.queue.then(() => {
				if (rooms.get(room.actorId) !== room || room.sleepRequested) return;
				room.sleepRequested = true;
				// Tell the pages first: their sockets stay open while the actor sleeps, so they can show it.
				broadcast(room, status(room, "asleep"));
				runner.sleepActor(room.actorId);
			});
		}, idleMs);
	};

	const handleMessage = async (room: Room, event: TunnelMessageEvent): Promise<void> => {
		const input = parseChat(event.data);
		if (!input) {
			// Not a chat line, but still a message with an index: commit it with no entries so the runner records it
			// as processed and acknowledges it (RULE 2), or the gateway would replay it after every wake.
			await event.commit();
			send(event.target, { type: "error", error: "expected {type:'chat', from, text}" });
			return;
		}
		const message: ChatMessage = { seq: (room.history.at(-1)?.seq ?? 0) + 1, ...input, at: Date.now() };
		// EXACTLY-ONCE: the history entry and this socket's processed message index go into the actor's KV in ONE
		// atomic put. If the process dies before it, neither is written and the gateway replays the message; after
		// it, both are, and RULE 3 drops the replay. Never half.
		// RULE 2: only once this put succeeded does the runner acknowledge the message to the engine (manual commit
		// mode: nothing is acknowledged on its own). Until then the gateway keeps it, across sleep or a crash.
		await event.commit([[historyKey(message.seq), utf8Encode(JSON.stringify(message))]]);
		announceAwake(room); // before the message: its live copy follows right after
		room.history.push(message);
		broadcast(room, { type: "message", message });
		if (!room.sleepRequested) armIdleTimer(room);
	};

	const runner: Runner = new Runner({
		...engine,
		totalSlots: 1000,
		// The app handles SIGINT/SIGTERM itself (main.ts), so it can stop the embedded engine after the drain.
		signals: false,
		// Sockets are remembered in the actor's own KV ("kv"); "manual" means a message is acknowledged only through
		// event.commit() below, never automatically: that is what makes the exactly-once path possible.
		hibernation: { store: "kv", commit: "manual" },
		// Only the chat socket survives sleep; everything else is plain HTTP.
		canHibernate: (request) => new URL(request.url).pathname === "/ws",

		async onActorStart({ actorId, config, runner }) {
			// A wake is a fresh start: the state in memory is gone, the KV is not. Load the history back.
			const entries = await runner.kvListPrefix(actorId, utf8Encode(HISTORY_PREFIX));
			const history = entries.map(([, value]) => JSON.parse(utf8Decode(value)) as ChatMessage);
			const room: Room = {
				actorId,
				name: config.key ?? actorId,
				history,
				sockets: new Set(),
				queue: Promise.resolve(),
				announcedAwake: false,
				sleepRequested: false,
			};
			rooms.set(actorId, room);
			armIdleTimer(room);
		},

		async onActorStop({ actorId }) {
			const room = rooms.get(actorId);
			if (!room) return;
			clearTimeout(room.idleTimer);
			clearTimeout(room.resyncTimer);
			rooms.delete(actorId);
			await room.queue; // let a commit in flight finish; KV still works during onActorStop
		},

		fetch(request, { actorId }) {
			const room = rooms.get(actorId);
			const route = `${request.method} ${new URL(request.url).pathname}`;
			if (room && route === "GET /") {
				const headers = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
				return new Response(renderPage(room.name), { headers });
			}
			if (room && route === "GET /history") return Response.json({ room: room.name, messages: room.history });
			return new Response("not found", { status: 404 });
		},

		websocket(socket, { actorId, restored }) {
			const room = rooms.get(actorId);
			if (!room || new URL(socket.url).pathname !== "/ws") {
				socket.close(4004, "not found");
				return;
			}
			// No socket.send() in here: a new socket is not open yet, and a RESTORED socket (restored === true, after
			// a wake) is already open at the gateway but gets NO open event. It only hears from us in response to a
			// message (or from the room's timers), never during this call.
			room.sockets.add(socket);
			socket.addEventListener("close", () => room.sockets.delete(socket));
			if (!restored) {
				// RULE 1: by the time `open` fires, the runner has stored this socket (path, headers, message index) in the
				// actor's KV, and only then told the client it is open. So a wake can always restore it.
				socket.addEventListener("open", () => {
					send(socket, { type: "hello", room: room.name, status: "awake", history: room.history });
					announceAwake(room); // pages still connected from before a sleep learn that the room is back
				});
			}
			// RULE 3: the runner delivers here only messages above the socket's persisted index. After a wake, the
			// gateway replays every message it holds unacknowledged; the ones already committed are dropped before
			// this listener, so no message is ever applied twice.
			socket.addEventListener("message", (event) => {
				room.queue = room.queue
					.then(() => handleMessage(room, event))
					.catch((error: unknown) => {
						// Not committed, so not acknowledged: the gateway still holds the message and replays it on the next wake.
						engine.logger?.error({ error, actorId }, "a chat message could not be saved");
						send(socket, { type: "error", error: "not saved yet; the room applies it when it next wakes" });
					});
			});
		},
	});
	return runner;
}

/** A chat line from a browser, or undefined if the data is anything else. */
function parseChat(data: unknown): { from: string; text: string } | undefined {
	if (typeof data !== "string") return undefined;
	let value: unknown;
	try {
		value = JSON.parse(data);
	} catch {
		return undefined;
	}
	const { type, from, text } = (value ?? {}) as Record<string, unknown>;
	if (type !== "chat" || typeof text !== "string" || text.trim() === "") return undefined;
	const name = typeof from === "string" && from.trim() !== "" ? from.trim() : "anonymous";
	return { from: name.slice(0, 40), text: text.trim().slice(0, 2000) };
}
