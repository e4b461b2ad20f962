/**
 * The bench app on the REFERENCE runner, `@rivetkit/engine-runner@2.2.1` (Node only):
 * `node --expose-gc bench/runners/reference.mjs` (settings come from BENCH_* variables).
 *
 * The reference leaves hibernation bookkeeping to the app, so this app does the least it needs: it keeps each
 * hibernatable socket's metadata in process memory (not durable, unlike ours, which writes it to the actor's KV),
 * acknowledges every hibernatable message at once, and restores the sockets in `onActorStart`.
 *
 * @module
 */
import { Runner } from "@rivetkit/engine-runner";
import { app, emit, serveControl, settings } from "./control.mjs";

const { endpoint, runnerName, totalSlots } = settings();
let actors = 0;
let sockets = 0;
/** actorId → (gateway+request hex → metadata) of its hibernatable sockets. */
const hibernating = new Map();
let connected;
const ready = new Promise((resolve) => {
	connected = resolve;
});

const hex = (buffer) => Buffer.from(buffer).toString("hex");

const runner = new Runner({
	version: 1,
	endpoint,
	namespace: "default",
	runnerName,
	totalSlots,
	prepopulateActorNames: {},
	noAutoShutdown: true,
	onConnected: () => connected(),
	onDisconnected: () => {},
	onShutdown: () => {},
	onActorStart: async (actorId) => {
		actors++;
		const metas = hibernating.get(actorId);
		await runner.restoreHibernatingRequests(actorId, metas ? [...metas.values()] : []);
	},
	onActorStop: async () => {
		actors--;
	},
	fetch: async (_runner, actorId, _gatewayId, _requestId, request) => {
		if (app.isSleep(request.url)) runner.sleepActor(actorId);
		return new Response("ok");
	},
	hibernatableWebSocket: {
		canHibernate: (_actorId, _gatewayId, _requestId, request) => app.isHibernatable(request.url),
	},
	websocket: async (_runner, actorId, ws, gatewayId, requestId, _request, path, headers, isHibernatable) => {
		sockets++;
		let meta;
		if (isHibernatable) {
			const key = hex(gatewayId) + hex(requestId);
			let metas = hibernating.get(actorId);
			if (!metas) {
				metas = new Map();
				hibernating.set(actorId, metas);
			}
			meta = metas.get(key);
			if (!meta) {
				meta = { gatewayId, requestId, clientMessageIndex: 0, serverMessageIndex: 0, path, headers };
				metas.set(key, meta);
			}
			ws.addEventListener("close", () => metas.delete(key));
		}
		ws.addEventListener("message", (event) => {
			ws.send(event.data);
			if (meta) {
				meta.serverMessageIndex = event.rivetMessageIndex;
				runner.sendHibernatableWebSocketMessageAck(gatewayId, requestId, event.rivetMessageIndex);
			}
		});
		ws.addEventListener("close", () => {
			sockets--;
		});
	},
});

serveControl({
	stats: () => ({ actors, sockets }),
	shutdown: () => runner.shutdown(true),
});
await runner.start();
await ready;
emit({ type: "ready", runtime: "node", runner: "reference" });
