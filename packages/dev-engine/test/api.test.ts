import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createEngineApi, EngineApiError } from "../src/index.ts";

let server: Server | undefined;
afterEach(async () => {
	await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
	server = undefined;
});

interface Seen {
	method: string;
	url: string;
	headers: IncomingHttpHeaders;
	body: string;
}

/** A fake engine answering every request with `reply`; records what it receives. */
async function fakeEngine(
	reply: (seen: Seen) => [number, unknown],
): Promise<{ endpoint: string; seen: Seen[] }> {
	const seen: Seen[] = [];
	server = createServer((req, res) => {
		let body = "";
		req.on("data", (chunk: Buffer) => {
			body += chunk.toString();
		});
		req.on("end", () => {
			const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
			seen.push(entry);
			const [status, json] = reply(entry);
			res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
		});
	});
	await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
	const address = server.address() as { port: number };
	return { endpoint: `http://127.0.0.1:${address.port}/`, seen };
}

const rawActor = {
	actor_id: "abc",
	name: "n",
	key: null,
	namespace_id: "ns",
	datacenter: "default",
	runner_name_selector: "pool",
	crash_policy: "destroy",
	create_ts: 1,
	start_ts: null,
	pending_allocation_ts: 2,
	connectable_ts: null,
	sleep_ts: null,
	reschedule_ts: null,
	destroy_ts: null,
	error: "no_capacity",
};

describe("createEngineApi", () => {
	it("sends namespace, bearer token and snake_case bodies; converts actors to camelCase", async () => {
		const fake = await fakeEngine(() => [200, { actor: rawActor }]);
		const api = createEngineApi(fake.endpoint, { namespace: "prod", token: "secret" });
		expect(api.endpoint).toBe(fake.endpoint.slice(0, -1));
		const actor = await api.createActor({
			name: "n",
			input: new Uint8Array([1, 2, 255]),
			runnerNameSelector: "pool",
			crashPolicy: "destroy",
		});
		expect(actor).toEqual({
			actorId: "abc",
			name: "n",
			key: null,
			namespaceId: "ns",
			datacenter: "default",
			runnerNameSelector: "pool",
			crashPolicy: "destroy",
			createTs: 1,
			startTs: null,
			pendingAllocationTs: 2,
			connectableTs: null,
			sleepTs: null,
			rescheduleTs: null,
			destroyTs: null,
			error: "no_capacity",
		});
		const [request] = fake.seen;
		expect(request?.method).toBe("POST");
		expect(request?.url).toBe("/actors?namespace=prod");
		expect(request?.headers.authorization).toBe("Bearer secret");
		expect(JSON.parse(request?.body ?? "")).toEqual({
			name: "n",
			input: "AQL/",
			runner_name_selector: "pool",
			crash_policy: "destroy",
		});
	});

	it("encodes KV keys as base64 and decodes values", async () => {
		const fake = await fakeEngine(() => [200, { value: "aGVsbG8=", update_ts: 1 }]);
		const api = createEngineApi(fake.endpoint);
		const value = await api.getKv("actor/1", "k");
		expect(new TextDecoder().decode(value ?? new Uint8Array())).toBe("hello");
		expect(fake.seen[0]?.url).toBe("/actors/actor%2F1/kv/keys/aw%3D%3D?namespace=default");
	});

	it("builds gateway URLs", () => {
		const api = createEngineApi("https://engine.example.com");
		expect(api.gatewayUrl("a b")).toBe("https://engine.example.com/gateway/a%20b/");
		expect(api.gatewayUrl("id", "x?y=1")).toBe("https://engine.example.com/gateway/id/x?y=1");
		expect(api.gatewayWebSocketUrl("id", "/ws")).toBe("wss://engine.example.com/gateway/id/ws");
	});

	it("throws EngineApiError for non-2xx answers, also without an engine error body", async () => {
		const fake = await fakeEngine((seen) =>
			seen.method === "DELETE"
				? [502, "bad gateway"]
				: [404, { group: "actor", code: "not_found", message: "nope" }],
		);
		const api = createEngineApi(fake.endpoint);
		await expect(api.destroyActor("x")).rejects.toMatchObject({ status: 502, code: "API_ERROR", group: "" });
		const err = await api.listActors({ name: "n" }).catch((e: unknown) => e);
		expect(err).toBeInstanceOf(EngineApiError);
		expect(err).toMatchObject({ status: 404, group: "actor", code: "not_found" });
	});
});
