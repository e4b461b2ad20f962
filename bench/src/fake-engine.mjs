/**
 * A protocol fake of the Rivet Engine, for the bench's "memory at full scale" phase (`scale.mjs`): the real engine
 * creates only a few actors and opens a few dozen client WebSockets per second on a 2-core machine, far too slow to
 * reach 1,000 actors and 10,000 hibernatable sockets. This fake speaks runner protocol v7 (through
 * `@rivetkit/engine-runner-protocol`, never hand-written BARE) on `/runners/connect` of a loopback `ws` server:
 *
 * - answers `ToServerInit` with `ToClientInit` (the real engine's thresholds), pings every 2 s, answers KV requests
 *   from an in-memory store (`fake-kv.mjs`) and acknowledges events right away;
 * - starts actors (`CommandStartActor`, generation 0, checkpoint index 0, as the real engine does) and waits for each
 *   to be reported running; a sleep or stop intent gets a `CommandStopActor`;
 * - opens hibernatable WebSockets on an actor and waits for each `ToServerWebSocketOpen`, closes them, and echoes a
 *   message on one (`fake-sockets.mjs`);
 * - sends tunnelled HTTP requests and waits for each `ToServerResponseStart` (`fake-http.mjs`), with a gateway id of
 *   their own.
 *
 * There is no HTTP API: everything is driven over the runner's socket. Any other HTTP request gets a 404 and is
 * recorded in `unexpectedHttp`.
 *
 * @module
 */
import { createServer } from "node:http";
import { decodeToServer, encodeToClient } from "@rivetkit/engine-runner-protocol";
import { WebSocketServer } from "ws";
import { startRunner } from "./child.mjs";
import { FakeRequests } from "./fake-http.mjs";
import { FakeKv } from "./fake-kv.mjs";
import { deferred, engineId, FakeSockets, within } from "./fake-sockets.mjs";

const PING_MS = 2000;

/**
 * Starts the fake on 127.0.0.1 (a free port).
 * @returns {Promise<{ endpoint: string, unexpectedHttp: string[], kv: FakeKv,
 *   runner(timeoutMs?: number): Promise<FakeRunner>, stop(): Promise<void> }>}
 */
export async function startFakeEngine() {
	const kv = new FakeKv();
	const unexpectedHttp = [];
	const connections = new Set();
	const firstRunner = deferred();
	firstRunner.promise.catch(() => {});
	const server = createServer((request, response) => {
		unexpectedHttp.push(`${request.method} ${request.url}`);
		response.writeHead(404, { "content-type": "application/json" });
		response.end('{"group":"bench","code":"fake_engine_has_no_http_api"}');
	});
	const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
	server.on("upgrade", (request, socket, head) => {
		const url = new URL(request.url ?? "/", "http://fake");
		if (url.pathname !== "/runners/connect" || url.searchParams.get("protocol_version") !== "7") {
			unexpectedHttp.push(`upgrade ${request.url}`);
			socket.destroy();
			return;
		}
		wss.handleUpgrade(request, socket, head, (ws) => {
			const runner = new FakeRunner(ws, kv, request.headers.host ?? "127.0.0.1");
			connections.add(runner);
			ws.on("close", () => connections.delete(runner));
			runner.ready.then(
				() => firstRunner.resolve(runner),
				() => {},
			);
		});
	});
	await new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", resolve);
	});
	const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
	return {
		endpoint: `http://127.0.0.1:${port}`,
		unexpectedHttp,
		kv,
		/** The first runner that completed the handshake. */
		runner: (timeoutMs = 30_000) => within(firstRunner.promise, timeoutMs, "a runner to connect"),
		async stop() {
			firstRunner.reject(new Error("fake engine stopped"));
			for (const runner of connections) runner.terminate();
			wss.close();
			server.closeAllConnections?.();
			await new Promise((resolve) => server.close(() => resolve(undefined)));
		},
	};
}

/**
 * Runs `fn(child, engine, fake)` with a new fake engine and a new runner process (`spec`, see `child.mjs`) on it;
 * always stops both.
 */
export async function withFakeEngine(spec, runnerName, fn) {
	const fake = await startFakeEngine();
	let child;
	try {
		child = await startRunner(spec, { endpoint: fake.endpoint, runnerName, totalSlots: 100_000 });
		return await fn(child, await fake.runner(), fake);
	} finally {
		await child?.stop();
		await fake.stop();
	}
}

/** The engine's end of one runner connection. */
export class FakeRunner {
	/** Resolves once the runner's init has been answered. */
	ready;
	/** Name the runner sent in its init. */
	name = "";
	/** The runner's client WebSockets: `open`, `close`, `echo`. */
	sockets;
	/** The runner's tunnelled HTTP requests: `request`, `load`. */
	requests;
	#ws;
	#kv;
	#init = deferred();
	#ping;
	/** actorId → { generation, running: deferred, commandIndex } */
	#actors = new Map();
	/** actorId → last event checkpoint not yet acknowledged */
	#pendingAcks = new Map();
	#ackScheduled = false;

	constructor(ws, kv, host) {
		this.#ws = ws;
		this.#kv = kv;
		this.ready = this.#init.promise;
		this.sockets = new FakeSockets((message) => this.#send(message), host);
		this.requests = new FakeRequests((message) => this.#send(message), host);
		ws.binaryType = "arraybuffer";
		ws.on("message", (data, isBinary) => {
			if (!isBinary) return;
			try {
				this.#receive(decodeToServer(new Uint8Array(data)));
			} catch (error) {
				process.stderr.write(`fake engine: bad frame from the runner: ${error}\n`);
			}
		});
		ws.on("close", () => {
			clearInterval(this.#ping);
			const gone = new Error("runner disconnected");
			this.#init.reject(gone);
			for (const actor of this.#actors.values()) actor.running.reject(gone);
			this.sockets.failAll(gone);
			this.requests.failAll(gone);
		});
		this.#init.promise.catch(() => {});
	}

	/** Closes the connection at once. */
	terminate() {
		clearInterval(this.#ping);
		this.#ws.terminate();
	}

	#send(message) {
		if (this.#ws.readyState === 1) this.#ws.send(encodeToClient(message));
	}

	/**
	 * Starts `count` actors, `batch` commands at a time, each batch awaited until every actor in it is running.
	 * @returns {Promise<string[]>} the actor ids
	 */
	async startActors(count, { batch = 100, timeoutMs = 60_000 } = {}) {
		const ids = [];
		while (ids.length < count) {
			const wave = [];
			for (let i = 0; i < batch && ids.length < count; i++) {
				const actorId = engineId();
				const actor = { generation: 0, running: deferred(), commandIndex: 0n };
				this.#actors.set(actorId, actor);
				ids.push(actorId);
				wave.push(actor.running.promise);
				const config = {
					name: "bench",
					key: `scale-${ids.length}`,
					createTs: BigInt(Date.now()),
					input: null,
				};
				const start = { tag: "CommandStartActor", val: { config, hibernatingRequests: [] } };
				this.#command(actorId, 0, 0n, start);
			}
			await within(Promise.all(wave), timeoutMs, `${wave.length} actors to report running`);
		}
		return ids;
	}

	#command(actorId, generation, index, inner) {
		this.#send({ tag: "ToClientCommands", val: [{ checkpoint: { actorId, generation, index }, inner }] });
	}

	#receive(message) {
		switch (message.tag) {
			case "ToServerInit": {
				this.name = message.val.name;
				const metadata = {
					runnerLostThreshold: 15_000n,
					actorStopThreshold: 1_800_000n,
					serverlessDrainGracePeriod: null,
				};
				this.#send({ tag: "ToClientInit", val: { runnerId: engineId(), metadata } });
				clearInterval(this.#ping);
				const ping = () => this.#send({ tag: "ToClientPing", val: { ts: BigInt(Date.now()) } });
				this.#ping = setInterval(ping, PING_MS);
				this.#init.resolve(this);
				break;
			}
			case "ToServerEvents":
				for (const event of message.val) this.#event(event);
				break;
			case "ToServerKvRequest": {
				const { actorId, requestId, data } = message.val;
				this.#send({ tag: "ToClientKvResponse", val: { requestId, data: this.#kv.handle(actorId, data) } });
				break;
			}
			case "ToServerTunnelMessage":
				if (this.requests.owns(message.val.messageId)) this.requests.handle(message.val);
				else this.sockets.handle(message.val);
				break;
			// ToServerPong, ToServerAckCommands, ToServerStopping: nothing to do.
		}
	}

	/** Records an event, acknowledges it (batched per turn), and acts on it. */
	#event({ checkpoint, inner }) {
		this.#pendingAcks.set(checkpoint.actorId, checkpoint);
		if (!this.#ackScheduled) {
			this.#ackScheduled = true;
			setImmediate(() => {
				this.#ackScheduled = false;
				const lastEventCheckpoints = [...this.#pendingAcks.values()];
				this.#pendingAcks.clear();
				this.#send({ tag: "ToClientAckEvents", val: { lastEventCheckpoints } });
			});
		}
		const { actorId, generation } = checkpoint;
		const actor = this.#actors.get(actorId);
		if (!actor || actor.generation !== generation) return;
		if (inner.tag === "EventActorStateUpdate") {
			const { state } = inner.val;
			if (state.tag === "ActorStateRunning") actor.running.resolve();
			else {
				actor.running.reject(new Error(`actor ${actorId} stopped: ${state.val.message}`));
				this.#actors.delete(actorId);
			}
		} else if (inner.tag === "EventActorIntent") {
			this.#command(actorId, generation, ++actor.commandIndex, { tag: "CommandStopActor", val: null });
		}
	}
}
