/**
 * Slow consumers. (a) The engine connection is down (CutProxy.drop) while actors keep producing replies: the reply
 * buffer stays within `maxBufferedReplyBytes`, the overflow policy applies (the WebSocket is closed 1013
 * `runner.buffer_full`, an HTTP reply becomes a 503, onError gets BUFFER_FULL), the runner stays healthy, and events
 * recorded during the cut (sleep intent, alarm) are delivered after the reconnect. (b) A client stops reading while
 * its actor sends 2,000 × 64 KiB: the runner's memory stays bounded and another actor keeps answering quickly.
 */
import type { Socket } from "node:net";
import { type EngineHandle, startEngine } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runner, type RunnerError, type TunnelWebSocket } from "../src/index.ts";
import { CutProxy } from "./cut-proxy.ts";
import {
	EngineTracker,
	GatewayClient,
	memory,
	processRssMiB,
	sleep,
	timedFetch,
	uniquePool,
	waitFor,
} from "./fault-support.ts";
import { makeRunner, quietLogger, Recorder, shutdownAllRunners } from "./support.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const engines = new EngineTracker();
let engine: EngineHandle;
let proxy: CutProxy;
beforeAll(async () => {
	engine = engines.add(await startEngine());
	proxy = new CutProxy({ host: "127.0.0.1", port: Number(new URL(engine.endpoint).port) });
});
afterAll(async () => {
	await shutdownAllRunners();
	await proxy?.close();
	expect(await engines.stopAll()).toEqual([]);
});

/** Server-side sockets by actor, with the close each one saw. */
class SocketLog {
	readonly byActor = new Map<string, TunnelWebSocket[]>();
	readonly closes = new Map<TunnelWebSocket, { code: number; reason: string }>();
	handler(): (socket: TunnelWebSocket, context: { actorId: string }) => void {
		return (socket, { actorId }) => {
			this.byActor.set(actorId, [...(this.byActor.get(actorId) ?? []), socket]);
			socket.addEventListener("message", (event) => socket.send(`echo:${String(event.data)}`));
			socket.addEventListener("close", (event) =>
				this.closes.set(socket, { code: event.code, reason: event.reason }),
			);
		};
	}
}

async function createActors(pool: string, runner: Runner, count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++) {
		const actor = await engine.api.createActor({
			name: "slow",
			key: `${pool}-${i}`,
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		ids.push(actor.actorId);
	}
	await waitFor(() => ids.every((id) => runner.getActor(id)?.state === "running"), "actors running");
	return ids;
}

describe("slow consumers", () => {
	it("(a) engine connection down: bounded reply buffer, overflow closes 1013 / answers 503, events delivered after the reconnect", async () => {
		const port = await proxy.listen();
		const pool = uniquePool("fault-cut-overflow");
		await engine.api.upsertRunnerConfig(pool);
		const limit = 256 * KiB;
		const rec = new Recorder();
		const log = new SocketLog();
		const errors: RunnerError[] = [];
		let openGate: () => void = () => {};
		const gate = new Promise<void>((resolve) => {
			openGate = resolve;
		});
		const runner = new Runner({
			endpoint: `http://127.0.0.1:${port}`,
			runnerName: pool,
			totalSlots: 10,
			signals: false,
			logger: quietLogger(),
			...rec.callbacks(),
			onError: (error) => void errors.push(error),
			livenessTimeoutMs: 3_000,
			handshakeTimeoutMs: 2_000,
			reconnect: { initialDelayMs: 200, maxDelayMs: 1_000 },
			maxBufferedReplyBytes: limit,
			websocket: log.handler(),
			fetch: async (request) => {
				if (new URL(request.url).pathname !== "/slow") return new Response("pong");
				await gate;
				return new Response(new Uint8Array(300 * KiB));
			},
		});
		const client = { current: undefined as GatewayClient | undefined };
		try {
			await runner.start();
			const [producer, sleeper, slowHttp] = await createActors(pool, runner, 3);
			client.current = await GatewayClient.open(engine, producer!);
			client.current.send("a");
			await waitFor(() => client.current!.replies.includes("echo:a"), "echo before the cut");
			const slowReply = timedFetch(engine, slowHttp!, "/slow", 60_000);
			await sleep(300); // the request reaches the runner
			const heapBefore = memory().heapMiB;

			proxy.drop();
			await waitFor(() => !runner.connected, "the runner notices the cut", 10_000);
			const server = log.byActor.get(producer!)![0]!;
			const chunk = new Uint8Array(16 * KiB);
			let sent = 0;
			let maxBuffered = 0;
			for (let i = 0; i < 200 && server.readyState === 1; i++) {
				server.send(chunk);
				sent++;
				maxBuffered = Math.max(maxBuffered, server.bufferedAmount);
			}
			await sleep(50);
			openGate();
			const wakeAt = Date.now() + 8_000;
			runner.setAlarm(sleeper!, wakeAt);
			runner.sleepActor(sleeper!);
			await sleep(500);
			const heapDuring = memory().heapMiB;
			const localClose = log.closes.get(server);
			proxy.restore();
			await waitFor(() => runner.connected, "reconnected", 20_000);

			const clientClose = await waitFor(
				() => client.current!.closed,
				"the client sees the overflow close",
				15_000,
			);
			const reply = await slowReply;
			await waitFor(
				async () => (await engine.api.getActor(sleeper!))?.sleepTs != null,
				"the sleep intent reached the engine",
				20_000,
			);
			// The engine records the sleep before its stop command reaches the runner: wait for the runner's side too.
			const asleep = await waitFor(
				() => !runner.hasActor(sleeper!),
				"the runner to stop the sleeper",
				20_000,
			).then(
				() => true,
				() => false,
			);
			const woke = await waitFor(
				() => rec.starts.find((s) => s.actorId === sleeper && s.generation > 0),
				"the alarm set during the cut wakes the actor",
				40_000,
			);
			const again = await GatewayClient.open(engine, producer!);
			again.send("b");
			await waitFor(() => again.replies.includes("echo:b"), "a new socket on the same actor works");
			again.close();
			const codes = errors.map((e) => e.code);
			console.log(
				`cut overflow: sent ${sent} × 16 KiB while disconnected, max buffered ${maxBuffered} of ${limit}, ` +
					`local close ${localClose?.code} ${localClose?.reason}, client close ${clientClose.code} ${clientClose.reason}, ` +
					`slow HTTP reply ${reply.status} ${reply.text.slice(0, 80)}, errors [${codes}], heap ${heapBefore}→${heapDuring} MiB, ` +
					`sleeper asleep ${asleep}, woken by the alarm ${woke.at - wakeAt} ms after it was due (generation ${woke.generation})`,
			);
			expect(maxBuffered).toBeLessThanOrEqual(limit);
			expect(sent).toBeLessThan(200);
			expect(localClose).toEqual({ code: 1013, reason: "runner.buffer_full" });
			expect(clientClose.code).toBe(1013);
			expect(clientClose.reason).toBe("runner.buffer_full");
			expect(reply.status).toBe(503);
			expect(reply.text).toContain("buffer_full");
			expect(codes.filter((c) => c === "BUFFER_FULL").length).toBeGreaterThanOrEqual(2);
			expect(asleep).toBe(true);
			expect(woke.at).toBeGreaterThanOrEqual(wakeAt - 1_000);
			expect(heapDuring - heapBefore).toBeLessThan(32);
		} finally {
			openGate();
			proxy.restore();
			client.current?.close();
			await runner.shutdown({ mode: "immediate" });
		}
	}, 150_000);

	it("(b) a client that stops reading: the runner's memory stays bounded and other actors answer quickly", async () => {
		const pool = uniquePool("fault-slow-reader");
		await engine.api.upsertRunnerConfig(pool);
		const log = new SocketLog();
		const errors: RunnerError[] = [];
		const runner = makeRunner(engine, pool, {
			onActorStart: () => {},
			onError: (error) => void errors.push(error),
			maxBufferedReplyBytes: 16 * MiB,
			limits: { maxSocketBufferBytes: 8 * MiB },
			websocket: log.handler(),
			fetch: () => new Response("pong"),
		});
		await runner.start();
		const [producer, other] = await createActors(pool, runner, 2);
		const client = await GatewayClient.open(engine, producer!);
		try {
			client.send("hello");
			await waitFor(() => client.replies.length === 1, "echo");
			const tcp = (client.ws as unknown as { _socket: Socket })._socket;
			tcp.pause();
			const before = memory();
			const engineBefore = processRssMiB(engine.pid);
			const server = log.byActor.get(producer!)![0]!;
			const payload = new Uint8Array(64 * KiB);
			const latencies: number[] = [];
			let sent = 0;
			let maxBuffered = 0;
			let peakHeap = before.heapMiB;
			const total = 2_000;
			for (let i = 0; i < total && server.readyState === 1; i++) {
				new DataView(payload.buffer).setUint32(0, i);
				server.send(payload);
				sent++;
				maxBuffered = Math.max(maxBuffered, server.bufferedAmount);
				if (i % 100 === 99) {
					latencies.push((await timedFetch(engine, other!, "/")).ms);
					peakHeap = Math.max(peakHeap, memory().heapMiB);
				}
			}
			await sleep(2_000);
			latencies.push((await timedFetch(engine, other!, "/")).ms);
			const after = memory();
			const engineAfter = processRssMiB(engine.pid);
			peakHeap = Math.max(peakHeap, after.heapMiB);
			const receivedBeforeResume = client.replies.length - 1;
			tcp.resume();
			const quiet = async (): Promise<void> => {
				let last = -1;
				while (client.replies.length !== last && !client.closed) {
					last = client.replies.length;
					await sleep(2_000);
				}
			};
			await quiet();
			const received = client.replies.length - 1;
			console.log(
				`slow reader: sent ${sent} × 64 KiB, received ${receivedBeforeResume} before resuming and ${received} in all, ` +
					`client close ${client.closed ? `${client.closed.code} ${client.closed.reason}` : "none"}, ` +
					`max buffered in the runner ${Math.round(maxBuffered / MiB)} MiB, heap ${before.heapMiB}→${after.heapMiB} MiB ` +
					`(peak ${peakHeap}), RSS ${before.rssMiB}→${after.rssMiB} MiB, other actor HTTP max ${Math.max(...latencies)} ms ` +
					`(${latencies.length} probes), engine RSS ${engineBefore}→${engineAfter} MiB (it held what the client did not read), errors [${errors.map((e) => e.code)}], runner connected ${runner.connected}`,
			);
			expect(peakHeap - before.heapMiB).toBeLessThan(64);
			expect(maxBuffered).toBeLessThanOrEqual(16 * MiB);
			expect(Math.max(...latencies)).toBeLessThan(3_000); // a shared 2-core machine; typically < 400 ms
			expect(runner.connected).toBe(true);
			// Either everything arrives after the resume, or the socket is closed with a clear code.
			if (client.closed) expect([1011, 1013]).toContain(client.closed.code);
			else expect(received).toBe(sent);
		} finally {
			client.terminate();
			await runner.shutdown({ mode: "immediate" });
		}
	}, 180_000);
});
