/**
 * WebSockets through the real engine's gateway: text and binary echo (with the data types the actor sees), Blob
 * mode, closes from either side (a client close is not echoed back), close-argument validation, many sockets on one
 * actor, a refusing handler, and the open-socket metric.
 */
import type { EngineHandle } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	InvalidArgumentError,
	Runner,
	type RunnerError,
	type TunnelWebSocket,
	type WebSocketContext,
} from "../src/index.ts";
import {
	connect,
	createRunningActor,
	firstDifference,
	patientApi,
	pseudoRandomBytes,
	quietLogger,
	startTestEngine,
	TestClient,
	uniquePool,
	waitFor,
} from "./fixtures/tunnel-shared/helpers.ts";
import { FrameSpy } from "./fixtures/tunnel-shared/spy.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startTestEngine();
});
afterAll(async () => {
	await engine?.stop();
});

/** What the actor side saw of one socket. */
interface ActorSide {
	socket: TunnelWebSocket;
	ctx: WebSocketContext;
	path: string;
	/** `string`, `arraybuffer` (a real ArrayBuffer, not a Node Buffer), `blob` or `other:<type>` per message. */
	kinds: string[];
	closes: Array<{ code: number; reason: string; wasClean: boolean }>;
	opens: number;
}

function kindOf(data: unknown): string {
	if (typeof data === "string") return "string";
	if (data instanceof Blob) return "blob";
	if (data instanceof ArrayBuffer && !Buffer.isBuffer(data)) return "arraybuffer";
	return `other:${Object.prototype.toString.call(data)}`;
}

/** Tries a close that must be refused; returns the error's description. */
function refusedClose(socket: TunnelWebSocket, code: number, reason?: string): string {
	try {
		socket.close(code, reason);
		return `accepted ${code}`;
	} catch (error) {
		const ok = error instanceof InvalidArgumentError && error.code === "INVALID_ARGUMENT";
		return ok ? `refused:${error.argument}` : `wrong error: ${String(error)}`;
	}
}

const accented = (n: number): string => "é".repeat(n); // 2 UTF-8 bytes each

interface Harness {
	runner: Runner;
	spy: FrameSpy;
	sides: ActorSide[];
	errors: Array<{ error: RunnerError; stage: string }>;
	actorId: string;
}

async function withActor(body: (h: Harness) => Promise<void>): Promise<void> {
	const pool = uniquePool("tunnel-ws");
	await patientApi(engine).upsertRunnerConfig(pool);
	const sides: ActorSide[] = [];
	const spy = new FrameSpy();
	const errors: Harness["errors"] = [];
	const runner = new Runner({
		endpoint: engine.endpoint,
		runnerName: pool,
		totalSlots: 5,
		signals: false,
		logger: quietLogger(),
		platform: { webSocket: spy.factory },
		onActorStart: () => {},
		onError: (error, { stage }) => errors.push({ error, stage }),
		websocket: (socket, ctx) => {
			const url = new URL(ctx.request.url);
			if (url.pathname === "/throw") throw new Error("socket refused by the handler");
			const side: ActorSide = { socket, ctx, path: url.pathname, kinds: [], closes: [], opens: 0 };
			sides.push(side);
			if (url.pathname === "/blob") socket.binaryType = "blob";
			socket.addEventListener("open", () => side.opens++);
			socket.addEventListener("close", ({ code, reason, wasClean }) =>
				side.closes.push({ code, reason, wasClean }),
			);
			socket.addEventListener("message", ({ data }) => {
				side.kinds.push(kindOf(data));
				if (data === "bye") return socket.close(4002, "bye");
				if (data === "bad-closes") {
					const results = [
						refusedClose(socket, 1005),
						refusedClose(socket, 2999),
						refusedClose(socket, 5000),
						refusedClose(socket, 1001),
						refusedClose(socket, 3000.5),
						refusedClose(socket, 4000, accented(62)),
					];
					return socket.send(JSON.stringify({ results, readyState: socket.readyState }));
				}
				if (data === "long-reason") return socket.close(4003, `${accented(61)}x`);
				socket.send(typeof data === "string" ? `echo:${data}` : data);
			});
		},
	});
	try {
		await runner.start();
		const actorId = await createRunningActor(engine, runner, {
			name: "ws",
			key: pool,
			runnerNameSelector: pool,
		});
		await body({ runner, spy, sides, errors, actorId });
	} finally {
		await runner.shutdown();
	}
}

describe("WebSocket tunnel", () => {
	it("echoes text as string and binary as a real ArrayBuffer; binaryType blob gives Blob", async () => {
		await withActor(async ({ sides, actorId }) => {
			const client = await connect(engine, actorId, "/echo?room=1");
			await client.send("héllo 🌍");
			const bytes = pseudoRandomBytes(64 * 1024, 5);
			await client.send(bytes);
			const [text, binary] = await client.waitFrames(2);
			expect(text).toEqual({ binary: false, text: "echo:héllo 🌍" });
			expect(binary?.binary).toBe(true);
			expect(binary?.binary && firstDifference(binary.bytes, bytes)).toBe(-1);
			const side = sides[0]!;
			expect(side.kinds).toEqual(["string", "arraybuffer"]);
			expect(side.opens).toBe(1);
			expect(side.socket.url).toBe("ws://actor/echo?room=1");
			expect(side.socket.protocol).toBe("rivet");
			expect(side.ctx.hibernatable).toBe(false);
			expect(side.ctx.restored).toBe(false);

			const blobClient = await connect(engine, actorId, "/blob");
			const small = pseudoRandomBytes(1000, 9);
			await blobClient.send(small);
			const [back] = await blobClient.waitFrames(1);
			expect(back?.binary && firstDifference(back.bytes, small)).toBe(-1);
			expect(sides[1]!.kinds).toEqual(["blob"]);
			await client.close();
			await blobClient.close();
		});
	});

	it("a client close (4001) reaches the actor and is not echoed back by the runner", async () => {
		await withActor(async ({ sides, actorId, spy }) => {
			const client = await connect(engine, actorId, "/echo");
			await client.send("ping");
			await client.waitFrames(1);
			client.socket.close(4001, "client leaves");
			const closed = await client.waitClosed();
			const side = sides[0]!;
			await waitFor(() => side.closes.length > 0, "the actor's close event");
			expect(side.closes).toEqual([{ code: 4001, reason: "client leaves", wasClean: true }]);
			expect(side.socket.readyState).toBe(3);
			expect(closed.code).toBe(4001);
			// Give a wrongly sent echo time to show up before checking that none was sent.
			await new Promise((resolve) => setTimeout(resolve, 300));
			expect(client.frames).toHaveLength(1);
			expect(client.errors).toEqual([]);
			const kinds = spy.forRequest(side.ctx.gatewayId, side.ctx.requestId).map((m) => m.kind.tag);
			expect(kinds).toEqual(["ToServerWebSocketOpen", "ToServerWebSocketMessage"]);
		});
	});

	it("an actor close (4002, bye) reaches the client; invalid close arguments throw InvalidArgumentError", async () => {
		await withActor(async ({ sides, actorId, spy }) => {
			const client = await connect(engine, actorId, "/echo");
			await client.send("bye");
			const closed = await client.waitClosed();
			expect(closed).toMatchObject({ code: 4002, reason: "bye" });
			expect(sides[0]!.closes).toEqual([{ code: 4002, reason: "bye", wasClean: true }]);
			const sent = spy.forRequest(sides[0]!.ctx.gatewayId, sides[0]!.ctx.requestId).map((m) => m.kind);
			expect(sent.filter((k) => k.tag === "ToServerWebSocketClose")).toEqual([
				{ tag: "ToServerWebSocketClose", val: { code: 4002, reason: "bye", hibernate: false } },
			]);

			const checker = await connect(engine, actorId, "/echo");
			await checker.send("bad-closes");
			const [report] = await checker.waitFrames(1);
			expect(report?.binary).toBe(false);
			expect(JSON.parse(report?.binary === false ? report.text : "{}")).toEqual({
				results: [
					"refused:code",
					"refused:code",
					"refused:code",
					"refused:code",
					"refused:code",
					"refused:reason",
				],
				readyState: 1,
			});
			// Still open after the refused calls; a 123-byte reason is accepted.
			await checker.send("still there");
			await checker.waitFrames(2);
			expect(checker.texts[1]).toBe("echo:still there");
			await checker.send("long-reason");
			const longClose = await checker.waitClosed();
			expect(longClose.code).toBe(4003);
			expect(Buffer.byteLength(longClose.reason)).toBe(123);
		});
	});

	it("serves 50 sockets on one actor; the open metric counts up and back down", async () => {
		await withActor(async ({ runner, actorId }) => {
			const base = runner.webSocketMetrics.open;
			const clients = await Promise.all(Array.from({ length: 50 }, () => connect(engine, actorId, "/echo")));
			await waitFor(() => runner.webSocketMetrics.open === base + 50, "50 sockets open on the runner");
			await Promise.all(clients.map((c, i) => c.send(`m${i}`)));
			await Promise.all(clients.map((c) => c.waitFrames(1)));
			clients.forEach((c, i) => {
				expect(c.texts).toEqual([`echo:m${i}`]);
			});
			expect(runner.webSocketMetrics.hibernatable).toBe(0);
			await Promise.all(clients.slice(0, 25).map((c) => c.close()));
			await waitFor(() => runner.webSocketMetrics.open === base + 25, "25 sockets left");
			await Promise.all(clients.slice(25).map((c) => c.close()));
			await waitFor(() => runner.webSocketMetrics.open === base, "every socket closed");
		});
	}, 60_000);

	it("a socket whose handler throws is refused: the runner sends close 1011, the client sees 1011", async () => {
		await withActor(async ({ runner, actorId, errors, spy }) => {
			const client = new TestClient(engine.api.gatewayWebSocketUrl(actorId, "/throw"));
			// The gateway retries a socket closed before its open (about 8 attempts over ~20 s) before giving up.
			const closed = await client.waitClosed(60_000);
			console.log(`[tunnel-websocket] refused socket: client saw ${closed.code} ${closed.reason}`);
			// After its retries the engine closes the client with 1011, or (seen under load) drops the TCP connection (1006).
			expect([1011, 1006]).toContain(closed.code);
			expect(client.frames).toEqual([]);
			const sent = spy.tunnel.map((m) => m.kind);
			expect(sent.length).toBeGreaterThan(0);
			expect(sent.every((k) => k.tag === "ToServerWebSocketClose")).toBe(true);
			expect(sent[0]).toEqual({
				tag: "ToServerWebSocketClose",
				val: { code: 1011, reason: "runner.websocket_handler_error", hibernate: false },
			});
			expect(runner.webSocketMetrics.open).toBe(0);
			const reported = errors.find((e) => e.error.code === "HANDLER_ERROR");
			expect(reported?.stage).toBe("websocket");
			expect(reported?.error.message).toContain("socket refused by the handler");
		});
	}, 90_000);
});
