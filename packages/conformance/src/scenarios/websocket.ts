/**
 * WebSockets through the gateway: text and binary echo in order, and closes started by either side.
 *
 * @module
 */
import type { TunnelWebSocket } from "@x/runner-core";
import { assert, assertEquals } from "../assert.ts";
import type { ScenarioContext } from "../context.ts";
import { pseudoRandomBytes, Recorder, waitFor } from "../support.ts";
import type { ClientMessage } from "../ws-client.ts";
import type { Scenario } from "./types.ts";

interface ServerClose {
	readonly path: string;
	readonly code: number;
	readonly reason: string;
}

/** A runner whose `websocket` handler echoes text and binary; "close:<code>:<reason>" makes it close the socket. */
async function echoActor(
	ctx: ScenarioContext,
	prefix: string,
): Promise<{ actorId: string; serverCloses: ServerClose[]; opens: string[]; rec: Recorder }> {
	const pool = await ctx.pool(prefix);
	const rec = new Recorder();
	const serverCloses: ServerClose[] = [];
	const opens: string[] = [];
	const runner = await ctx.runner(pool, {
		...rec.callbacks(),
		websocket: (socket: TunnelWebSocket, { request }) => {
			const path = new URL(request.url).pathname;
			socket.addEventListener("open", () => opens.push(path));
			socket.addEventListener("message", (event) => {
				const { data } = event;
				if (typeof data === "string") {
					const close = /^close:(\d+):(.*)$/.exec(data);
					if (close) socket.close(Number(close[1]), close[2]);
					else socket.send(`echo:${data}`);
				} else if (data instanceof ArrayBuffer) {
					socket.send(new Uint8Array(data));
				} else {
					socket.send(`unexpected data type ${Object.prototype.toString.call(data)}`);
				}
			});
			socket.addEventListener("close", (event) =>
				serverCloses.push({ path, code: event.code, reason: event.reason }),
			);
		},
	});
	await runner.start();
	const { actorId } = await ctx.createActor({
		name: "ws",
		runnerNameSelector: pool,
		crashPolicy: "restart",
	});
	await waitFor(() => runner.getActor(actorId)?.state === "running", "actor running");
	return { actorId, serverCloses, opens, rec };
}

function describe(message: ClientMessage | undefined): string {
	if (!message) return "nothing";
	return message.kind === "text" ? `text ${message.text}` : `binary ${message.bytes.length}`;
}

export const webSocketEcho: Scenario = {
	name: "WebSocket: text and binary messages echo in order",
	timeoutMs: 45_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const { actorId, opens, rec } = await echoActor(ctx, "ws-echo");
		const client = await ctx.connect(engine, actorId, "/echo");
		assertEquals(client.socket.protocol, "rivet", "negotiated subprotocol");
		await waitFor(() => opens.includes("/echo"), "server-side open event");

		const sent: Array<string | Uint8Array> = [
			"hello",
			"",
			"ünïcödé ✓ 🚀",
			new Uint8Array([0, 1, 2, 255]),
			new Uint8Array(0),
			"x".repeat(70_000),
			pseudoRandomBytes(300_000, 5),
		];
		for (let round = 0; round < 3; round++) sent.push(`round ${round}`, pseudoRandomBytes(17, round + 1));
		for (const data of sent) client.send(data);
		const received = await client.waitForCount(sent.length, 30_000);
		sent.forEach((data, i) => {
			const got = received[i];
			const label = `message ${i}`;
			if (typeof data === "string") {
				assert(got?.kind === "text", `${label}: expected text, got ${describe(got)}`);
				assertEquals(got.text, `echo:${data}`, label);
			} else {
				assert(got?.kind === "binary", `${label}: expected binary, got ${describe(got)}`);
				assertEquals(got.bytes, data, label);
			}
		});
		assertEquals(client.open, true, "client still open");
		assertEquals(rec.errors, [], "onError reports");
	},
};

export const webSocketClose: Scenario = {
	name: "WebSocket: a close from the client and a close from the actor reach the other side",
	timeoutMs: 45_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const { actorId, serverCloses, rec } = await echoActor(ctx, "ws-close");

		const byClient = await ctx.connect(engine, actorId, "/client-closes");
		byClient.send("ping");
		await byClient.waitForCount(1);
		byClient.socket.close(4001, "client bye");
		const clientSide = await byClient.waitClosed();
		assertEquals(clientSide.code, 4001, "client-side close code (echoed close frame)");
		const seen = await waitFor(
			() => serverCloses.find((c) => c.path === "/client-closes"),
			"actor sees the client's close",
		);
		assertEquals([seen.code, seen.reason], [4001, "client bye"], "close as the actor saw it");

		const byActor = await ctx.connect(engine, actorId, "/actor-closes");
		byActor.send("ping");
		await byActor.waitForCount(1);
		byActor.send("close:4002:actor bye");
		const closed = await byActor.waitClosed();
		assertEquals([closed.code, closed.reason], [4002, "actor bye"], "close as the client saw it");
		const actorSide = await waitFor(
			() => serverCloses.find((c) => c.path === "/actor-closes"),
			"actor's own close event",
		);
		assertEquals(actorSide.code, 4002, "actor-side close code");

		// The actor still accepts new sockets afterwards.
		const again = await ctx.connect(engine, actorId, "/again");
		again.send("still here");
		const [reply] = await again.waitForCount(1);
		assertEquals(reply, { kind: "text", text: "echo:still here" }, "echo on a new socket");
		assertEquals(rec.errors, [], "onError reports");
	},
};
