import { describe, expect, it } from "vitest";
import { ActorNotFoundError, InvalidArgumentError, KvError, KvLimitError } from "../src/index.ts";
import { type Harness, rejection, track } from "./helpers.ts";
import { answer, buf, bytes, enc, lastRequest, OK_LIST, withActor } from "./kv-helpers.ts";

describe("request encoding and response mapping", () => {
	it("kvGet sends the keys and returns values in request order with null for missing", async () => {
		const h = await withActor();
		const conn = h.engine.last;
		const result = track(h.runner.kvGet("a1", [enc("k1"), enc("k2"), enc("k3")]));
		const request = lastRequest(conn);
		expect(request.actorId).toBe("a1");
		expect(request.data.tag).toBe("KvGetRequest");
		if (request.data.tag !== "KvGetRequest") return;
		expect(request.data.val.keys.map(bytes)).toEqual([[...enc("k1")], [...enc("k2")], [...enc("k3")]]);
		const meta = { version: buf("2.3.10"), updateTs: 1n };
		answer(conn, {
			tag: "KvGetResponse",
			val: { keys: [buf("k3"), buf("k1")], values: [buf("v3"), buf("v1")], metadata: [meta, meta] },
		});
		await h.clock.advance(0);
		expect(result.state).toEqual({ status: "fulfilled", value: [enc("v1"), null, enc("v3")] });
	});

	it.each([
		[
			"listAll",
			(h: Harness) => h.runner.kvListAll("a1"),
			{ query: { tag: "KvListAllQuery", val: null }, reverse: null, limit: null },
		],
		[
			"listAll reverse + limit",
			(h: Harness) => h.runner.kvListAll("a1", { reverse: true, limit: 10 }),
			{ query: { tag: "KvListAllQuery", val: null }, reverse: true, limit: 10n },
		],
		[
			"listRange inclusive",
			(h: Harness) => h.runner.kvListRange("a1", enc("a"), enc("m")),
			{
				query: { tag: "KvListRangeQuery", val: { start: buf("a"), end: buf("m"), exclusive: false } },
				reverse: null,
				limit: null,
			},
		],
		[
			"listRange exclusive + limit 0",
			(h: Harness) => h.runner.kvListRange("a1", enc("a"), enc("m"), true, { limit: 0 }),
			{
				query: { tag: "KvListRangeQuery", val: { start: buf("a"), end: buf("m"), exclusive: true } },
				reverse: null,
				limit: 0n,
			},
		],
		[
			"listPrefix reverse",
			(h: Harness) => h.runner.kvListPrefix("a1", enc("p/"), { reverse: true }),
			{ query: { tag: "KvListPrefixQuery", val: { key: buf("p/") } }, reverse: true, limit: null },
		],
	])("%s encodes a KvListRequest", async (_name, call, expected) => {
		const h = await withActor();
		const result = track(call(h));
		expect(lastRequest(h.engine.last).data).toEqual({ tag: "KvListRequest", val: expected });
		answer(h.engine.last, {
			tag: "KvListResponse",
			val: {
				keys: [buf("a"), buf("b")],
				values: [buf("1"), buf("2")],
				metadata: [
					{ version: buf("v"), updateTs: 1n },
					{ version: buf("v"), updateTs: 2n },
				],
			},
		});
		await h.clock.advance(0);
		expect(result.state).toEqual({
			status: "fulfilled",
			value: [
				[enc("a"), enc("1")],
				[enc("b"), enc("2")],
			],
		});
	});

	it.each([
		[
			"put",
			(h: Harness) => h.runner.kvPut("a1", [[enc("k"), enc("v")]]),
			{ tag: "KvPutRequest", val: { keys: [buf("k")], values: [buf("v")] } },
			{ tag: "KvPutResponse", val: null },
		],
		[
			"delete",
			(h: Harness) => h.runner.kvDelete("a1", [enc("k"), enc("j")]),
			{ tag: "KvDeleteRequest", val: { keys: [buf("k"), buf("j")] } },
			{ tag: "KvDeleteResponse", val: null },
		],
		[
			"deleteRange",
			(h: Harness) => h.runner.kvDeleteRange("a1", enc("a"), enc("z")),
			{ tag: "KvDeleteRangeRequest", val: { start: buf("a"), end: buf("z") } },
			{ tag: "KvDeleteResponse", val: null },
		],
		[
			"drop",
			(h: Harness) => h.runner.kvDrop("a1"),
			{ tag: "KvDropRequest", val: null },
			{ tag: "KvDropResponse", val: null },
		],
	] as const)(
		"%s encodes its request and resolves on its response",
		async (_name, call, request, response) => {
			const h = await withActor();
			const result = track(call(h));
			expect(lastRequest(h.engine.last).data).toEqual(request);
			answer(h.engine.last, response);
			await h.clock.advance(0);
			expect(result.state).toEqual({ status: "fulfilled", value: undefined });
		},
	);

	it("rejects with KvError carrying the engine's message", async () => {
		const h = await withActor();
		const result = track(h.runner.kvPut("a1", [[enc("k"), enc("v")]]));
		answer(h.engine.last, { tag: "KvErrorResponse", val: { message: "transaction failed" } });
		await h.clock.advance(0);
		const error = rejection(result);
		expect(error).toBeInstanceOf(KvError);
		expect((error as KvError).message).toBe("transaction failed");
		expect((error as KvError).code).toBe("KV_ERROR");
	});

	it("rejects a response of the wrong kind with KvError", async () => {
		const h = await withActor();
		const result = track(h.runner.kvGet("a1", [enc("k")]));
		answer(h.engine.last, OK_LIST);
		await h.clock.advance(0);
		expect(rejection(result)).toBeInstanceOf(KvError);
	});
});

describe("limits and arguments, checked before sending", () => {
	const big = (n: number): Uint8Array => new Uint8Array(n);
	const manyKeys = Array.from({ length: 129 }, (_, i) => enc(`k${i}`));
	const overPayload: Array<[Uint8Array, Uint8Array]> = Array.from({ length: 8 }, (_, i) => [
		enc(`${i}`),
		big(131_072),
	]);

	it.each([
		["get key of 2047 bytes", (h: Harness) => h.runner.kvGet("a1", [big(2047)]), "keySize", "keys[0]"],
		[
			"put value of 131073 bytes",
			(h: Harness) => h.runner.kvPut("a1", [[enc("k"), big(131_073)]]),
			"valueSize",
			"entries[0][1]",
		],
		["get of 129 keys", (h: Harness) => h.runner.kvGet("a1", manyKeys), "keyCount", "keys"],
		["delete of 129 keys", (h: Harness) => h.runner.kvDelete("a1", manyKeys), "keyCount", "keys"],
		[
			"put of 129 entries",
			(h: Harness) =>
				h.runner.kvPut(
					"a1",
					manyKeys.map((k) => [k, k]),
				),
			"keyCount",
			"entries",
		],
		["put payload over 999424", (h: Harness) => h.runner.kvPut("a1", overPayload), "payloadSize", "entries"],
		[
			"deleteRange end of 2047 bytes",
			(h: Harness) => h.runner.kvDeleteRange("a1", enc("a"), big(2047)),
			"keySize",
			"end",
		],
	] as const)("%s → KvLimitError", async (_name, call, limit, argument) => {
		const h = await withActor();
		const before = h.engine.last.sent("ToServerKvRequest").length;
		const result = track<unknown>(call(h));
		await h.clock.advance(0);
		const error = rejection(result);
		expect(error).toBeInstanceOf(KvLimitError);
		expect((error as KvLimitError).limit).toBe(limit);
		expect((error as KvLimitError).message.startsWith(`${argument}:`)).toBe(true);
		expect(h.engine.last.sent("ToServerKvRequest")).toHaveLength(before);
	});

	it("accepts the largest legal key, value and payload", async () => {
		const h = await withActor();
		track(h.runner.kvGet("a1", [big(2046)]));
		track(h.runner.kvPut("a1", [[big(2046), big(131_072)]]));
		expect(h.engine.last.sent("ToServerKvRequest")).toHaveLength(2);
	});

	it.each([
		["keys not an array", (h: Harness) => h.runner.kvGet("a1", "k" as unknown as Uint8Array[]), "keys"],
		[
			"a key that is a string",
			(h: Harness) => h.runner.kvGet("a1", ["k" as unknown as Uint8Array]),
			"keys[0]",
		],
		[
			"an entry that is not a pair",
			(h: Harness) => h.runner.kvPut("a1", [[enc("k")] as unknown as [Uint8Array, Uint8Array]]),
			"entries[0]",
		],
		[
			"a value that is null",
			(h: Harness) => h.runner.kvPut("a1", [[enc("k"), null as unknown as Uint8Array]]),
			"entries[0][1]",
		],
		["a negative limit", (h: Harness) => h.runner.kvListAll("a1", { limit: -1 }), "limit"],
		["a fractional limit", (h: Harness) => h.runner.kvListAll("a1", { limit: 1.5 }), "limit"],
	] as const)("%s → InvalidArgumentError", async (_name, call, argument) => {
		const h = await withActor();
		const before = h.engine.last.sent("ToServerKvRequest").length;
		const result = track<unknown>(call(h));
		await h.clock.advance(0);
		const error = rejection(result);
		expect(error).toBeInstanceOf(InvalidArgumentError);
		expect((error as InvalidArgumentError).argument).toBe(argument);
		expect(h.engine.last.sent("ToServerKvRequest")).toHaveLength(before);
	});

	it("a call for an actor not hosted here rejects with ActorNotFoundError without sending", async () => {
		const h = await withActor();
		const before = h.engine.last.sent("ToServerKvRequest").length;
		const result = track(h.runner.kvGet("nope", [enc("k")]));
		await h.clock.advance(0);
		expect(rejection(result)).toBeInstanceOf(ActorNotFoundError);
		expect(h.engine.last.sent("ToServerKvRequest")).toHaveLength(before);
	});
});
