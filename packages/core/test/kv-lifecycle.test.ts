import { describe, expect, it } from "vitest";
import { RunnerError, RunnerShutdownError, TimeoutError } from "../src/index.ts";
import { commands, type Harness, kvResponse, reconnect, rejection, stopCmd, track } from "./helpers.ts";
import { answer, buf, enc, lastRequest, withActor } from "./kv-helpers.ts";

describe("deadlines, reconnects and ids", () => {
	it("rejects with a retryable TimeoutError after kvTimeoutMs and ignores a late response", async () => {
		const h = await withActor();
		const result = track(h.runner.kvGet("a1", [enc("k")]));
		const { requestId } = lastRequest(h.engine.last);
		await h.clock.advance(4999);
		expect(result.state.status).toBe("pending");
		await h.clock.advance(1);
		const error = rejection(result);
		expect(error).toBeInstanceOf(TimeoutError);
		expect((error as TimeoutError).retryable).toBe(true);
		h.engine.last.push(
			kvResponse(requestId, { tag: "KvGetResponse", val: { keys: [], values: [], metadata: [] } }),
		);
		await h.clock.advance(0);
		expect(result.state.status).toBe("rejected");
		expect(h.runner.connected).toBe(true);
		expect(h.errors).toEqual([]);
	});

	it("resends in-flight requests after a reconnect with the same id and resolves from the new socket", async () => {
		const h = await withActor({ kvTimeoutMs: 60_000 });
		const result = track(h.runner.kvPut("a1", [[enc("k"), enc("v")]]));
		const first = lastRequest(h.engine.last);
		const conn = await reconnect(h);
		const resent = conn.sent("ToServerKvRequest").filter((r) => r.requestId === first.requestId);
		expect(resent.length).toBeGreaterThan(0);
		expect(resent[0]).toEqual(first);
		conn.push(kvResponse(first.requestId, { tag: "KvPutResponse", val: null }));
		await h.clock.advance(0);
		expect(result.state).toEqual({ status: "fulfilled", value: undefined });
	});

	it("a request made while disconnected is sent after the reconnect", async () => {
		const h = await withActor({ kvTimeoutMs: 60_000 });
		h.engine.last.drop(1011, "ws.going_away");
		const result = track(h.runner.kvDrop("a1"));
		await h.clock.advance(1000);
		const request = lastRequest(h.engine.last);
		expect(request.data).toEqual({ tag: "KvDropRequest", val: null });
		answer(h.engine.last, { tag: "KvDropResponse", val: null });
		await h.clock.advance(0);
		expect(result.state.status).toBe("fulfilled");
	});

	it("uses unique, increasing request ids", async () => {
		const h = await withActor();
		for (let i = 0; i < 10; i++) track(h.runner.kvGet("a1", [enc(`k${i}`)]));
		const ids = h.engine.last.sent("ToServerKvRequest").map((r) => r.requestId);
		expect(new Set(ids).size).toBe(ids.length);
		for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
	});

	it("cancels the wait through an AbortSignal", async () => {
		const h = await withActor();
		const controller = new AbortController();
		const result = track(h.runner.kvGet("a1", [enc("k")], { signal: controller.signal }));
		const { requestId } = lastRequest(h.engine.last);
		controller.abort(new Error("user gave up"));
		await h.clock.advance(0);
		const error = rejection(result);
		expect(error).toBeInstanceOf(RunnerError);
		h.engine.last.push(
			kvResponse(requestId, { tag: "KvGetResponse", val: { keys: [], values: [], metadata: [] } }),
		);
		await h.clock.advance(0);
		expect(result.state.status).toBe("rejected");
	});

	it("rejects at once, without sending, when the signal is already aborted", async () => {
		const h = await withActor();
		const before = h.engine.last.sent("ToServerKvRequest").length;
		const result = track(h.runner.kvListAll("a1", { signal: AbortSignal.abort() }));
		await h.clock.advance(0);
		expect(rejection(result)).toBeInstanceOf(RunnerError);
		expect(h.engine.last.sent("ToServerKvRequest")).toHaveLength(before);
	});
});

describe("KV and shutdown", () => {
	it("works during a drain while the actor is still hosted, also inside onActorStop", async () => {
		let stopResult: Array<Uint8Array | null> | undefined;
		const h = await withActor({
			onActorStop: async (c: { runner: Harness["runner"]; actorId: string }) => {
				stopResult = await c.runner.kvGet(c.actorId, [enc("s")]);
			},
		});
		const conn = h.engine.last;
		const shut = track(h.runner.shutdown({ mode: "drain" }));
		await h.clock.advance(0);
		expect(conn.sent("ToServerStopping")).toHaveLength(1);
		const during = track(h.runner.kvGet("a1", [enc("k")]));
		answer(conn, {
			tag: "KvGetResponse",
			val: { keys: [buf("k")], values: [buf("v")], metadata: [{ version: buf("x"), updateTs: 0n }] },
		});
		await h.clock.advance(0);
		expect(during.state).toEqual({ status: "fulfilled", value: [enc("v")] });

		conn.push(commands(stopCmd("a1")));
		await h.clock.advance(0);
		answer(conn, { tag: "KvGetResponse", val: { keys: [], values: [], metadata: [] } });
		await h.clock.advance(0);
		expect(stopResult).toEqual([null]);
		await h.clock.advance(0);
		expect(shut.state.status).toBe("fulfilled");
	});

	it("rejects waiting requests and later calls with RunnerShutdownError", async () => {
		const h = await withActor();
		const waiting = track(h.runner.kvGet("a1", [enc("k")]));
		await h.runner.shutdown({ mode: "immediate" });
		expect(rejection(waiting)).toBeInstanceOf(RunnerShutdownError);
		const after = track(h.runner.kvGet("a1", [enc("k")]));
		await h.clock.advance(0);
		expect(rejection(after)).toBeInstanceOf(RunnerShutdownError);
		expect(h.clock.pending).toBe(0);
	});
});
