/**
 * The FLOOR runner: the least work a runner can do, written directly on the protocol codec
 * (`@rivetkit/engine-runner-protocol@2.3.10`) and `ws`. Node only:
 * `node --expose-gc bench/runners/floor.mjs` (settings come from BENCH_* variables).
 *
 * It performs the handshake (init, pong), reports started actors as running (and stopped ones as stopped), acks
 * commands, answers every HTTP request with a fixed response, and echoes WebSocket messages (acking hibernatable
 * ones at once). No Request/Response objects, no persistence, no buffering while disconnected.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { decodeToClient, encodeToServer, StopCode } from "@rivetkit/engine-runner-protocol";
import WebSocket from "ws";
import { app, emit, serveControl, settings } from "./control.mjs";

const { endpoint, runnerName, totalSlots } = settings();
const url = `${endpoint.replace(/^http/, "ws")}/runners/connect?protocol_version=7&namespace=default&runner_key=${randomUUID()}`;
const OK = new TextEncoder().encode("ok").buffer;
const RESPONSE = {
	tag: "ToServerResponseStart",
	val: { status: 200, headers: new Map([["content-length", "2"]]), body: OK, stream: false },
};
/** actorId → { generation, nextEvent } */
const actors = new Map();
/** request key → { hibernatable, nextIndex } of open sockets */
const sockets = new Map();
let connected;
const ready = new Promise((resolve) => {
	connected = resolve;
});

const ws = new WebSocket(url, ["rivet"], { perMessageDeflate: false });
// ArrayBuffer frames: the codec's fixed-size ids must not be Node Buffer views into a shared pool.
ws.binaryType = "arraybuffer";
const send = (message) => ws.send(encodeToServer(message));
/** The 8 id bytes as a string: exact (a number cannot hold 64 bits) and cheap to hash. */
const keyOf = (id) => {
	const g = new Uint8Array(id.gatewayId);
	const r = new Uint8Array(id.requestId);
	return String.fromCharCode(g[0], g[1], g[2], g[3], r[0], r[1], r[2], r[3]);
};

function event(actorId, inner) {
	const actor = actors.get(actorId);
	if (!actor) return;
	const checkpoint = { actorId, generation: actor.generation, index: actor.nextEvent++ };
	send({ tag: "ToServerEvents", val: [{ checkpoint, inner }] });
}

function reply(messageId, index, kind) {
	send({
		tag: "ToServerTunnelMessage",
		val: {
			messageId: { gatewayId: messageId.gatewayId, requestId: messageId.requestId, messageIndex: index },
			messageKind: kind,
		},
	});
}

function onCommands(commands) {
	for (const { checkpoint, inner } of commands) {
		const { actorId, generation } = checkpoint;
		if (inner.tag === "CommandStartActor") {
			actors.set(actorId, { generation, nextEvent: 0n });
			event(actorId, {
				tag: "EventActorStateUpdate",
				val: { state: { tag: "ActorStateRunning", val: null } },
			});
		} else if (inner.tag === "CommandStopActor" && actors.get(actorId)?.generation === generation) {
			const state = { tag: "ActorStateStopped", val: { code: StopCode.Ok, message: null } };
			event(actorId, { tag: "EventActorStateUpdate", val: { state } });
			actors.delete(actorId);
		}
	}
	send({ tag: "ToServerAckCommands", val: { lastCommandCheckpoints: commands.map((c) => c.checkpoint) } });
}

function onTunnel({ messageId, messageKind }) {
	switch (messageKind.tag) {
		case "ToClientRequestStart": {
			const start = messageKind.val;
			if (app.isSleep(start.path)) {
				event(start.actorId, {
					tag: "EventActorIntent",
					val: { intent: { tag: "ActorIntentSleep", val: null } },
				});
			}
			reply(messageId, 0, RESPONSE);
			break;
		}
		case "ToClientWebSocketOpen": {
			const hibernatable = app.isHibernatable(messageKind.val.path);
			sockets.set(keyOf(messageId), { hibernatable, nextIndex: 1 });
			reply(messageId, 0, { tag: "ToServerWebSocketOpen", val: { canHibernate: hibernatable } });
			break;
		}
		case "ToClientWebSocketMessage": {
			const key = keyOf(messageId);
			let socket = sockets.get(key);
			// A socket restored after a wake: the gateway kept it open, so only hibernatable ones come back.
			if (!socket) {
				socket = { hibernatable: true, nextIndex: 0 };
				sockets.set(key, socket);
			}
			reply(messageId, socket.nextIndex++ & 0xffff, {
				tag: "ToServerWebSocketMessage",
				val: messageKind.val,
			});
			if (socket.hibernatable) {
				const ack = { tag: "ToServerWebSocketMessageAck", val: { index: messageId.messageIndex } };
				reply(messageId, socket.nextIndex++ & 0xffff, ack);
			}
			break;
		}
		case "ToClientWebSocketClose":
			sockets.delete(keyOf(messageId));
			break;
	}
}

ws.on("open", () => {
	send({
		tag: "ToServerInit",
		val: { name: runnerName, version: 1, totalSlots, prepopulateActorNames: null, metadata: null },
	});
});
ws.on("message", (data) => {
	const message = decodeToClient(new Uint8Array(data));
	switch (message.tag) {
		case "ToClientInit":
			connected();
			break;
		case "ToClientPing":
			send({ tag: "ToServerPong", val: { ts: message.val.ts } });
			break;
		case "ToClientCommands":
			onCommands(message.val);
			break;
		case "ToClientTunnelMessage":
			onTunnel(message.val);
			break;
	}
});
ws.on("close", () => process.exit(0));
ws.on("error", (error) => console.error("floor runner socket error", error));

serveControl({
	stats: () => ({ actors: actors.size, sockets: sockets.size }),
	shutdown: async () => ws.close(1000, "pegboard.runner_shutdown"),
});
await ready;
emit({ type: "ready", runtime: "node", runner: "floor" });
