/**
 * Regression tests for bugs found while writing the unit tests. Each describe block names the bug; they failed
 * before the fix and pass since.
 */
import { StopCode } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import {
	InvalidArgumentError,
	KvLimitError,
	Runner,
	type RunnerOptions,
	type StopReason,
} from "../src/index.ts";
import { FakeEngine, ManualClock } from "../src/testing/index.ts";
import {
	commands,
	connected,
	harness,
	ping,
	reconnect,
	rejection,
	startActors,
	startCmd,
	stopCmd,
	stoppedEvents,
	tappedFactory,
	track,
} from "./helpers.ts";

describe("BUG 1: eviction with onEviction 'reconnect' restarts event indices, so the engine drops the Stopped event", () => {
	it("the Stopped event of an actor stopped on eviction continues its (actor, generation) index sequence", async () => {
		const h = await connected({ onEviction: "reconnect" });
		await startActors(h, "a1"); // Running = index 0, delivered
		h.engine.last.drop(1000, "ws.eviction#x");
		await h.clock.advance(1000);
		expect(h.runner.connected).toBe(true);
		const stopped = h.engine.connections.flatMap((c) => stoppedEvents(c, "a1"));
		expect(stopped).toHaveLength(1);
		// The engine keeps an event only if index > last index seen for that (actor, generation): 0 here.
		expect(stopped[0]!.index).toBe(1n);
	});

	it("unconfirmed history of an actor that stopped before the eviction is resent after the reconnect", async () => {
		const h = await connected({ onEviction: "reconnect" });
		await startActors(h, "a1", "a2");
		await h.runner.forceStopActor("a1"); // Stopped (index 1) written; its delivery barrier is not answered yet
		expect(stoppedEvents(h.engine.last, "a1")).toHaveLength(1);
		h.engine.last.drop(1000, "ws.eviction#y");
		await h.clock.advance(1000);
		expect(h.runner.connected).toBe(true);
		// As after any other disconnect, history not confirmed by the engine is sent again.
		expect(stoppedEvents(h.engine.last, "a1").map((s) => s.index)).toEqual([1n]);
	});
});

describe("BUG 2: after a reconnect a pending KV request is written twice on the same connection", () => {
	it("sends each waiting request id once per connection", async () => {
		const h = await connected({ kvTimeoutMs: 60_000 });
		await startActors(h, "a1", "a2");
		h.engine.last.push(commands(stopCmd("a1"))); // a1's history now waits on a delivery barrier
		await h.engine.until(() => stoppedEvents(h.engine.last, "a1").length === 1);
		track(h.runner.kvGet("a2", [new Uint8Array([1])]));
		const conn = await reconnect(h);
		const ids = conn.sent("ToServerKvRequest").map((r) => r.requestId);
		expect(ids.length).toBeGreaterThan(0);
		expect(new Set(ids).size).toBe(ids.length);
	});
});

describe("BUG 3: frames on a socket the runner already gave up on are still processed", () => {
	it("ignores messages arriving on the old socket after a bad frame made the runner close it", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const h = await connected({ platform: { webSocket: tap.webSocket } }, engine);
		engine.last.pushRaw("bad"); // runner closes socket 0 with 1011; reconnect is 1 s away
		expect(h.errors).toHaveLength(1);
		const pendingBefore = h.clock.pendingDelays();
		// A `ws` socket can still deliver frames it had received before the close handshake finished.
		tap.sockets[0]!.emitMessage(ping(1n));
		tap.sockets[0]!.emitMessage(commands(startCmd("a1")));
		expect(h.errors).toHaveLength(1);
		expect(h.clock.pendingDelays()).toEqual(pendingBefore);
		expect(h.runner.hasActor("a1")).toBe(false);
	});

	it("ignores messages on a socket closed for liveness before the next one opens", async () => {
		const engine = new FakeEngine();
		const tap = tappedFactory(engine);
		const h = await connected({ livenessTimeoutMs: 5000, platform: { webSocket: tap.webSocket } }, engine);
		await h.clock.advance(5000);
		expect(engine.connections[0]!.closeCode).toBe(4001);
		tap.sockets[0]!.emitMessage(ping(2n));
		expect(h.errors).toEqual([]);
	});
});

describe("BUG 4: some promise-returning methods throw synchronously instead of rejecting", () => {
	async function callRejects(call: () => Promise<unknown>): Promise<unknown> {
		let promise: Promise<unknown>;
		try {
			promise = call();
		} catch (error) {
			throw new Error(`threw synchronously: ${String(error)}`);
		}
		const tracked = track(promise);
		await Promise.resolve();
		await Promise.resolve();
		return rejection(tracked);
	}

	it("kvListPrefix with an oversized prefix rejects with KvLimitError", async () => {
		const h = await connected();
		await startActors(h, "a1");
		const error = await callRejects(() => h.runner.kvListPrefix("a1", new Uint8Array(2047)));
		expect(error).toBeInstanceOf(KvLimitError);
	});

	it("kvListRange with a bad start key rejects with InvalidArgumentError", async () => {
		const h = await connected();
		await startActors(h, "a1");
		const error = await callRejects(() =>
			h.runner.kvListRange("a1", "a" as unknown as Uint8Array, new Uint8Array([1])),
		);
		expect(error).toBeInstanceOf(InvalidArgumentError);
	});

	it("forceStopActor for an unknown actor rejects", async () => {
		const h = await connected();
		await callRejects(() => h.runner.forceStopActor("nope"));
	});
});

describe("BUG 5: a failed start is reported as a graceful stop when a stop was requested during the start", () => {
	it("reports Stopped{Error, failure message} and reason start-failed even after a sleep intent and stop command", async () => {
		const stops: StopReason[] = [];
		const h = await connected({
			onActorStart: async (c) => {
				c.runner.sleepActor(c.actorId);
				await Promise.resolve();
				throw new Error("boom in start");
			},
			onActorStop: (c) => void stops.push(c.reason),
		});
		h.engine.last.push(commands(startCmd("a1"), stopCmd("a1", 0, 1n)));
		await h.clock.advance(0);
		const stopped = stoppedEvents(h.engine.last, "a1");
		expect(stopped).toHaveLength(1);
		expect(stopped[0]!.code).toBe(StopCode.Error);
		expect(stopped[0]!.message).toMatch(/boom in start/);
		expect(stops).toEqual(["start-failed"]);
	});

	it("reports the start timeout, not a graceful drain stop, when the engine stops a starting actor during a drain", async () => {
		const h = await connected({ actorStartTimeoutMs: 1000, onActorStart: () => new Promise<void>(() => {}) });
		h.engine.last.push(commands(startCmd("a1")));
		void h.runner.shutdown();
		await h.clock.advance(0);
		h.engine.last.push(commands(stopCmd("a1", 0, 1n)));
		await h.clock.advance(1000);
		const stopped = stoppedEvents(h.engine.last, "a1");
		expect(stopped).toHaveLength(1);
		expect(stopped[0]!.code).toBe(StopCode.Error);
		expect(stopped[0]!.message).toMatch(/1000 ms/);
	});
});

describe("BUG 6: a socket that never opens is never abandoned", () => {
	it("gives up on a socket still connecting after handshakeTimeoutMs and retries", async () => {
		const engine = new FakeEngine(null); // upgrade never completes, no error, no close
		const h = harness({ handshakeTimeoutMs: 5000 }, engine);
		const started = track(h.runner.start());
		await h.clock.advance(0);
		expect(engine.connections).toHaveLength(1);
		await h.clock.advance(5000 + 1000);
		expect(engine.connections.length).toBeGreaterThan(1);
		expect(engine.connections[0]!.readyState).toBeGreaterThanOrEqual(2);
		expect(started.state.status).toBe("pending");
	});

	it("gives up on a token function that never settles", async () => {
		let calls = 0;
		const h = harness({
			handshakeTimeoutMs: 5000,
			token: () => (++calls === 1 ? new Promise<string>(() => {}) : "ok"),
		});
		const started = track(h.runner.start());
		await h.clock.advance(5000 + 1000);
		expect(calls).toBeGreaterThan(1);
		await h.clock.advance(0);
		expect(started.state.status).toBe("fulfilled");
	});
});

describe("BUG 7: a token that cannot be a WebSocket subprotocol is accepted and retried forever", () => {
	const base: RunnerOptions = {
		endpoint: "http://engine.test",
		runnerName: "pool",
		totalSlots: 1,
		onActorStart: () => {},
		platform: { webSocket: new FakeEngine().webSocket, clock: new ManualClock() },
	};

	it.each(["has space", "a,b", "x=y/z", "naïve"])("rejects %j with InvalidArgumentError(token)", (token) => {
		let thrown: unknown;
		try {
			new Runner({ ...base, token });
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(InvalidArgumentError);
		expect((thrown as InvalidArgumentError).argument).toBe("token");
		expect(String((thrown as Error).message)).not.toContain(token);
	});

	it("reports INVALID_CONFIG when a token function returns one, without opening a socket", async () => {
		const h = harness({ token: () => "bad token" });
		track(h.runner.start());
		await h.clock.advance(0);
		expect(h.engine.connections).toHaveLength(0);
		expect(h.errors.map((e) => e.code)).toContain("INVALID_CONFIG");
	});

	it("still accepts ordinary tokens", () => {
		expect(() => new Runner({ ...base, token: "dev_ABC-123.x~y_z" })).not.toThrow();
	});
});
