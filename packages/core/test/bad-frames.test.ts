import { encodeToClient } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import { FakeEngine, initMessage } from "../src/testing/index.ts";
import {
	commands,
	connected,
	harness,
	ping,
	startActors,
	startCmd,
	tappedFactory,
	track,
} from "./helpers.ts";

const validFrame = encodeToClient(commands(startCmd("a1")));

const badFrames: Array<[string, Uint8Array | string]> = [
	["a text frame", "hello engine"],
	["random bytes", new Uint8Array([0xff, 0x13, 0x37, 0x00, 0xfe, 0x99, 0x42])],
	["an empty frame", new Uint8Array(0)],
	["a truncated valid frame", validFrame.slice(0, Math.floor(validFrame.length / 2))],
	["a valid frame with trailing bytes", new Uint8Array([...encodeToClient(ping(1n)), 0x00, 0x01])],
];

describe.each(badFrames)("%s after the handshake", (_name, frame) => {
	it("reports a ProtocolError, closes with 1011 and reconnects; the new connection works", async () => {
		const h = await connected();
		const conn = h.engine.last;
		expect(() => conn.pushRaw(frame)).not.toThrow();
		expect(h.errors).toHaveLength(1);
		expect(h.errors[0]).toMatchObject({ code: "PROTOCOL_ERROR", stage: "connection" });
		await h.clock.advance(0);
		expect(conn.readyState).toBe(3);
		expect(conn.closeCode).toBe(1011);
		expect(conn.sent("ToServerPong")).toEqual([]);

		await h.clock.advance(1000);
		expect(h.engine.connections).toHaveLength(2);
		const next = h.engine.last;
		expect(next.received[0]?.tag).toBe("ToServerInit");
		expect(h.runner.connected).toBe(true);
		next.push(ping(99n));
		expect(next.sent("ToServerPong")).toEqual([{ ts: 99n }]);
	});

	it("does not act on anything in it", async () => {
		const starts: string[] = [];
		const h = await connected({ onActorStart: (c) => void starts.push(c.actorId) });
		h.engine.last.pushRaw(frame);
		await h.clock.advance(1000);
		expect(starts).toEqual([]);
		expect(h.runner.hasActor("a1")).toBe(false);
	});
});

describe("protocol violations during the handshake", () => {
	it("treats a message before ToClientInit as a protocol error and reconnects", async () => {
		const engine = new FakeEngine(null);
		const h = harness({}, engine);
		const started = track(h.runner.start());
		await h.clock.advance(0);
		const first = engine.last;
		first.accept();
		first.push(commands(startCmd("a1")));
		expect(h.errors).toEqual([expect.objectContaining({ code: "PROTOCOL_ERROR" })]);
		expect(h.runner.hasActor("a1")).toBe(false);
		await h.clock.advance(0);
		expect(first.closeCode).toBe(1011);
		expect(started.state.status).toBe("pending");

		await h.clock.advance(1000);
		const second = engine.last;
		expect(second).not.toBe(first);
		second.accept();
		expect(second.sent("ToServerInit")).toHaveLength(1);
		second.push(initMessage("r"));
		await h.clock.advance(0);
		expect(started.state.status).toBe("fulfilled");
		second.push(ping(5n));
		expect(second.sent("ToServerPong")).toEqual([{ ts: 5n }]);
	});

	it("answers a ping that comes before ToClientInit", async () => {
		const engine = new FakeEngine(null);
		const h = harness({}, engine);
		track(h.runner.start());
		await h.clock.advance(0);
		engine.last.accept();
		engine.last.push(ping(3n));
		expect(engine.last.sent("ToServerPong")).toEqual([{ ts: 3n }]);
		expect(h.errors).toEqual([]);
	});

	it("ignores a second ToClientInit on the same connection", async () => {
		const connects: boolean[] = [];
		const h = await connected({ onConnected: (i) => void connects.push(i.reconnected) });
		await startActors(h, "a1");
		h.engine.last.push(initMessage("runner-2"));
		await h.clock.advance(0);
		expect(connects).toEqual([false]);
		expect(h.runner.runnerId).toBe("runner-1");
		expect(h.runner.hasActor("a1")).toBe(true);
	});

	it("keeps its state across a bad-frame reconnect: hosted actors stay", async () => {
		const h = await connected();
		await startActors(h, "a1");
		h.engine.last.pushRaw("garbage");
		await h.clock.advance(1000);
		expect(h.runner.connected).toBe(true);
		expect(h.runner.getActor("a1")?.state).toBe("running");
	});
});

describe("frames as Blob", () => {
	it("decodes a Blob frame and answers in order", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const h = await connected({ platform: { webSocket: tap.webSocket } }, engine);
		const socket = tap.sockets[0]!;
		socket.emit("message", { data: new Blob([encodeToClient(ping(1n)).slice()]) });
		socket.emit("message", { data: encodeToClient(ping(2n)).slice().buffer });
		await h.engine.until(() => engine.last.sent("ToServerPong").length === 2);
		expect(engine.last.sent("ToServerPong")).toEqual([{ ts: 1n }, { ts: 2n }]);
	});

	it("treats an unknown data type as a bad frame", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const h = await connected({ platform: { webSocket: tap.webSocket } }, engine);
		tap.sockets[0]!.emit("message", { data: 12345 });
		expect(h.errors).toEqual([expect.objectContaining({ code: "PROTOCOL_ERROR" })]);
		await h.clock.advance(1000);
		expect(engine.connections).toHaveLength(2);
	});
});
