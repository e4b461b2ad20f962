import { describe, expect, it } from "vitest";
import type { ConnectedInfo, DisconnectedInfo } from "../src/index.ts";
import { FakeEngine, initMessage } from "../src/testing/index.ts";
import { connected, harness, ping, tappedFactory, track } from "./helpers.ts";

/** Makes every connection attempt fail at once and returns the gaps between attempts. */
async function failingGaps(random: () => number, attempts: number): Promise<number[]> {
	const h = harness({ platform: { random } }, new FakeEngine(null));
	track(h.runner.start());
	await h.clock.advance(0);
	for (let i = 1; i < attempts; i++) {
		h.engine.last.fail();
		for (let step = 0; step < 400 && h.engine.connections.length === i; step++) await h.clock.advance(250);
		expect(h.engine.connections).toHaveLength(i + 1);
	}
	return h.opened.slice(1).map((t, i) => t - h.opened[i]!);
}

describe("backoff", () => {
	it("doubles from 1 s and caps at 30 s without jitter", async () => {
		const h = harness({}, new FakeEngine(null));
		track(h.runner.start());
		await h.clock.advance(0);
		const expected = [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
		for (const [i, delay] of expected.entries()) {
			h.engine.last.fail();
			await h.clock.advance(delay - 1);
			expect(h.engine.connections).toHaveLength(i + 1);
			await h.clock.advance(1);
			expect(h.engine.connections).toHaveLength(i + 2);
		}
	});

	it("adds up to 25 % jitter (random 1 → ×1.25, also on the cap)", async () => {
		expect(await failingGaps(() => 1, 8)).toEqual([1250, 2500, 5000, 10_000, 20_000, 37_500, 37_500]);
	});

	it("honours a custom policy", async () => {
		const h = harness(
			{ reconnect: { initialDelayMs: 100, multiplier: 3, maxDelayMs: 1000, jitter: 0 } },
			new FakeEngine(null),
		);
		track(h.runner.start());
		await h.clock.advance(0);
		for (let i = 0; i < 4; i++) {
			h.engine.last.fail();
			for (let s = 0; s < 50 && h.engine.connections.length === i + 1; s++) await h.clock.advance(50);
		}
		expect(h.opened.slice(1).map((t, i) => t - h.opened[i]!)).toEqual([100, 300, 900, 1000]);
	});

	it("resets only after ToClientInit, not when a socket merely opens", async () => {
		const engine = new FakeEngine(null);
		const h = harness({}, engine);
		const started = h.runner.start();
		await h.clock.advance(0);
		engine.last.accept();
		engine.last.push(initMessage("r"));
		await started;

		const gaps: number[] = [];
		const dropAndMeasure = async (handshake: boolean): Promise<void> => {
			const count = engine.connections.length;
			const from = h.clock.now();
			engine.last.drop(1011, "ws.going_away");
			for (let s = 0; s < 200 && engine.connections.length === count; s++) await h.clock.advance(100);
			gaps.push(h.clock.now() - from);
			engine.last.accept();
			if (handshake) engine.last.push(initMessage("r"));
		};
		await dropAndMeasure(false); // opened, no init
		await dropAndMeasure(false);
		await dropAndMeasure(false);
		await dropAndMeasure(true); // this one completes the handshake
		await dropAndMeasure(false);
		expect(gaps).toEqual([1000, 2000, 4000, 8000, 1000]);
	});
});

describe("handshake timeout", () => {
	it("closes and reconnects when ToClientInit does not come in time", async () => {
		const engine = new FakeEngine(null);
		const disconnects: DisconnectedInfo[] = [];
		const h = harness({ handshakeTimeoutMs: 5000, onDisconnected: (i) => void disconnects.push(i) }, engine);
		track(h.runner.start());
		await h.clock.advance(0);
		engine.last.accept();
		expect(engine.last.sent("ToServerInit")).toHaveLength(1);
		await h.clock.advance(4999);
		expect(engine.last.readyState).toBe(1);
		await h.clock.advance(1);
		expect(engine.connections[0]!.readyState).toBe(3);
		expect(engine.connections[0]!.closeCode).toBe(4000);
		expect(disconnects).toEqual([{ code: 4000, reason: "runner.handshake_timeout", willReconnect: true }]);
		await h.clock.advance(1000);
		expect(engine.connections).toHaveLength(2);
	});
});

describe("superseded sockets", () => {
	it("ignores late events of an old socket after a reconnect", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const connects: ConnectedInfo[] = [];
		const disconnects: DisconnectedInfo[] = [];
		const h = await connected(
			{
				livenessTimeoutMs: 10_000,
				platform: { webSocket: tap.webSocket },
				onConnected: (i) => void connects.push(i),
				onDisconnected: (i) => void disconnects.push(i),
			},
			engine,
		);
		// The runner gives up on the silent socket and opens a new one.
		await h.clock.advance(10_000);
		await h.clock.advance(1000);
		expect(engine.connections).toHaveLength(2);
		expect(h.runner.connected).toBe(true);
		expect(disconnects).toHaveLength(1);

		const old = tap.sockets[0]!;
		const pongsBefore = engine.connections[0]!.sent("ToServerPong").length;
		old.emitMessage(ping(7n));
		old.emitMessage({ tag: "ToClientCommands", val: [] });
		old.emit("error", { message: "late error" });
		old.emit("close", { code: 1006, reason: "late close" });
		// Well past a first backoff delay, still within the new socket's liveness window.
		await h.clock.advance(9000);

		expect(engine.connections[0]!.sent("ToServerPong")).toHaveLength(pongsBefore);
		expect(disconnects).toHaveLength(1);
		expect(connects.map((c) => c.reconnected)).toEqual([false, true]);
		expect(h.errors).toEqual([]);
		expect(h.runner.connected).toBe(true);
	});

	it("does not let an old socket's close start another reconnect", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const h = await connected({ platform: { webSocket: tap.webSocket } }, engine);
		engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		expect(engine.connections).toHaveLength(2);
		tap.sockets[0]!.emit("close", { code: 1011, reason: "ws.going_away" });
		await h.clock.advance(20_000);
		expect(engine.connections).toHaveLength(2);
		expect(engine.last.readyState).toBe(1);
	});
});

describe("liveness", () => {
	it("closes and reconnects when the engine is silent for livenessTimeoutMs", async () => {
		const h = await connected({ livenessTimeoutMs: 10_000 });
		const first = h.engine.last;
		await h.clock.advance(9999);
		expect(first.readyState).toBe(1);
		await h.clock.advance(1);
		expect(first.readyState).toBe(3);
		expect(first.closeCode).toBe(4001);
		await h.clock.advance(1000);
		expect(h.engine.connections).toHaveLength(2);
		expect(h.runner.connected).toBe(true);
	});

	it("stays connected while pings keep arriving", async () => {
		const h = await connected({ livenessTimeoutMs: 10_000 });
		const conn = h.engine.last;
		for (let i = 0; i < 20; i++) {
			await h.clock.advance(3000);
			conn.push(ping(BigInt(i)));
		}
		expect(conn.readyState).toBe(1);
		expect(h.engine.connections).toHaveLength(1);
		expect(conn.sent("ToServerPong")).toHaveLength(20);
		expect(conn.sent("ToServerPong").at(-1)).toEqual({ ts: 19n });
	});

	it("counts any frame from the engine, not only pings", async () => {
		const h = await connected({ livenessTimeoutMs: 10_000 });
		await h.clock.advance(9000);
		h.engine.last.push({ tag: "ToClientAckEvents", val: { lastEventCheckpoints: [] } });
		await h.clock.advance(9000);
		expect(h.engine.connections).toHaveLength(1);
		await h.clock.advance(1000);
		expect(h.engine.connections[0]!.readyState).toBe(3);
	});
});

describe("liveness timer", () => {
	it("keeps one liveness timer however many frames arrive", async () => {
		const h = await connected({ livenessTimeoutMs: 10_000 });
		const conn = h.engine.last;
		const before = h.clock.pending;
		for (let i = 0; i < 500; i++) conn.push(ping(BigInt(i)));
		await h.clock.advance(0);
		expect(conn.sent("ToServerPong")).toHaveLength(500);
		expect(h.clock.pending).toBe(before);
	});
});

describe("callbacks", () => {
	it("calls onConnected with reconnected false, then true", async () => {
		const connects: ConnectedInfo[] = [];
		const h = await connected({ onConnected: (i) => void connects.push(i) });
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		h.engine.last.drop(1011, "ws.going_away");
		await h.clock.advance(1000);
		expect(connects.map((c) => c.reconnected)).toEqual([false, true, true]);
		expect(connects[0]).toMatchObject({
			runnerId: "runner-1",
			metadata: {
				runnerLostThreshold: 15_000,
				actorStopThreshold: 1_800_000,
				serverlessDrainGracePeriod: null,
			},
		});
	});

	it("calls onDisconnected with the engine's code and reason and willReconnect", async () => {
		const disconnects: DisconnectedInfo[] = [];
		const h = await connected({ onDisconnected: (i) => void disconnects.push(i) });
		h.engine.last.drop(1011, "ws.going_away#ray1");
		expect(disconnects).toEqual([{ code: 1011, reason: "ws.going_away#ray1", willReconnect: true }]);
		expect(h.runner.connected).toBe(false);
		await h.clock.advance(1000);
		h.engine.last.fail();
		expect(disconnects[1]).toMatchObject({ code: 1006, willReconnect: true });
		await h.runner.shutdown({ mode: "immediate" });
		expect(disconnects.every((d) => d.willReconnect)).toBe(true);
	});

	it("reports a throwing onConnected through onError and keeps going", async () => {
		const h = await connected({
			onConnected: () => {
				throw new Error("boom");
			},
		});
		expect(h.runner.connected).toBe(true);
		expect(h.errors).toEqual([expect.objectContaining({ code: "HANDLER_ERROR", stage: "callback" })]);
	});
});
