import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createConsoleLogger, Runner, type TunnelWebSocket, utf8Decode, utf8Encode } from "../src/index.ts";
import { CutProxy } from "./cut-proxy.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
	const end = Date.now() + timeoutMs;
	while (!check()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(50);
	}
}

let engine: EngineHandle;
let proxy: CutProxy;
let port: number;
beforeAll(async () => {
	engine = await startEngine();
	proxy = new CutProxy({ host: "127.0.0.1", port: Number(new URL(engine.endpoint).port) });
	port = await proxy.listen();
});
afterAll(async () => {
	await proxy?.close();
	await engine?.stop();
});

describe("network cut between runner and engine (no process dies)", () => {
	it("notices through liveness, reconnects, and loses nothing: replies made during the cut arrive after it", async () => {
		const pool = "cut";
		await engine.api.upsertRunnerConfig(pool);
		const counter = utf8Encode("applied");
		const seen: number[] = [];
		let connects = 0;
		const runner = new Runner({
			endpoint: `http://127.0.0.1:${port}`,
			runnerName: pool,
			totalSlots: 4,
			signals: false,
			logger: createConsoleLogger({ level: "error" }),
			livenessTimeoutMs: 4_000,
			handshakeTimeoutMs: 2_000,
			reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
			onConnected: () => void connects++,
			onActorStart: () => {},
			canHibernate: () => true,
			hibernation: { commit: "manual" },
			websocket: (socket, { actorId, runner }) => {
				socket.addEventListener("message", async (event) => {
					const n = Number(event.data);
					const [stored] = await runner.kvGet(actorId, [counter]);
					const applied = Number(stored ? utf8Decode(stored) : "0") + 1;
					await event.commit([[counter, utf8Encode(String(applied))]]);
					seen.push(n);
					socket.send(`ack:${n}`);
				});
			},
		});
		await runner.start();
		const actor = await engine.api.createActor({
			name: "cut",
			key: "k",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		const client = new WebSocket(engine.api.gatewayWebSocketUrl(actor.actorId, "/ws"), ["rivet"]);
		const replies: string[] = [];
		let closed = false;
		client.on("message", (data) => replies.push(String(data)));
		let closeInfo = "";
		client.on("close", (code, reason) => {
			closed = true;
			closeInfo = `${code} ${String(reason)} after ${sent} sent`;
		});
		await new Promise((resolve, reject) => {
			client.once("open", resolve);
			client.once("error", reject);
		});
		let sent = 0;
		const send = (count: number): void => {
			for (let i = 0; i < count; i++) client.send(String(++sent));
		};
		try {
			send(5);
			await until(() => replies.length === 5, 10_000, "replies before the cut");
			proxy.drop();
			send(5);
			await sleep(1_500);
			proxy.restore();
			await until(() => connects >= 2, 20_000, "reconnect after the drop");
			await until(() => replies.length === 10, 20_000, "replies to what was sent during the drop");
			proxy.stall();
			send(5);
			await sleep(6_000);
			proxy.restore();
			await until(() => connects >= 3, 20_000, "reconnect after the stall");
			send(5);
			await until(() => replies.length >= sent, 45_000, `replies for all ${sent} messages`).catch(
				(error: unknown) => {
					console.log("state at timeout", {
						sent,
						seen,
						replies,
						closeInfo,
						connects,
						metrics: runner.webSocketMetrics,
					});
					throw error;
				},
			);
			console.log(
				`network cut: sent ${sent}, applied ${seen.length}, replies ${replies.length}, connects ${connects}`,
			);
			expect(closed).toBe(false);
			expect(seen).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
			expect(replies).toEqual(Array.from({ length: sent }, (_, i) => `ack:${i + 1}`));
			const stored = await runner.kvGet(actor.actorId, [counter]);
			expect(utf8Decode(stored[0]!)).toBe(String(sent));
		} finally {
			client.close();
			await runner.shutdown({ mode: "immediate" });
		}
	}, 120_000);

	it("messages the actor sends right after a reconnect reach the client", async () => {
		proxy.restore();
		await engine.api.upsertRunnerConfig("cut-out");
		const sockets: TunnelWebSocket[] = [];
		let connects = 0;
		const runner = new Runner({
			endpoint: `http://127.0.0.1:${port}`,
			runnerName: "cut-out",
			totalSlots: 2,
			signals: false,
			logger: createConsoleLogger({ level: "error" }),
			reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
			onConnected: () => {
				if (++connects < 2) return;
				for (const delay of [0, 50, 150, 400, 1000]) {
					setTimeout(() => {
						for (const socket of sockets) socket.send(`t+${delay}`);
					}, delay);
				}
			},
			onActorStart: () => {},
			canHibernate: () => true,
			websocket: (socket) => {
				sockets.push(socket);
				socket.addEventListener("message", (event) => socket.send(`echo:${String(event.data)}`));
			},
		});
		await runner.start();
		const actor = await engine.api.createActor({
			name: "out",
			key: "k",
			runnerNameSelector: "cut-out",
			crashPolicy: "restart",
		});
		const client = new WebSocket(engine.api.gatewayWebSocketUrl(actor.actorId, "/"), ["rivet"]);
		const got: string[] = [];
		client.on("message", (data) => got.push(String(data)));
		await new Promise((resolve, reject) => {
			client.once("open", resolve);
			client.once("error", reject);
		});
		try {
			client.send("a");
			await until(() => got.length === 1, 10_000, "the first echo");
			proxy.drop();
			await until(() => !runner.connected, 10_000, "the runner to notice the drop");
			for (const socket of sockets) socket.send("during-cut");
			expect(sockets[0]!.bufferedAmount).toBeGreaterThan(0);
			await sleep(300);
			proxy.restore();
			await until(() => got.length === 7, 20_000, "the messages sent during and after the cut");
			client.send("b");
			await until(() => got.length === 8, 10_000, "the echo after the reconnect");
			expect(got).toEqual(["echo:a", "during-cut", "t+0", "t+50", "t+150", "t+400", "t+1000", "echo:b"]);
			expect(sockets[0]!.bufferedAmount).toBe(0);
		} finally {
			client.close();
			await runner.shutdown({ mode: "immediate" });
		}
	}, 60_000);
});
