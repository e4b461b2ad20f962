// End to end on Node against a real engine: two clients chat, the room actor sleeps while both stay connected, a
// message wakes it, and the history holds every message exactly once, in order.
import { createConsoleLogger } from "@x/runner-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type App, startApp } from "../src/app.ts";
import type { ChatMessage, ServerEvent } from "../src/room.ts";

const IDLE_MS = 1500;

/** A chat client that keeps its view of the room the way the page does: merged by seq, gaps fetched. */
class Client {
	readonly events: ServerEvent[] = [];
	readonly messages = new Map<number, ChatMessage>();
	readonly #waiters = new Set<() => void>();

	private constructor(
		readonly name: string,
		readonly socket: WebSocket,
		readonly historyUrl: string,
	) {
		socket.addEventListener("message", (event) => {
			const data = JSON.parse(String(event.data)) as ServerEvent;
			this.events.push(data);
			if (data.type === "hello") this.#merge(data.history);
			if (data.type === "status") this.#merge(data.recent);
			if (data.type === "message") {
				const gap = data.message.seq > Math.max(0, ...this.messages.keys()) + 1;
				this.#merge([data.message]);
				if (gap) void this.#catchUp();
			}
			this.#notify();
		});
	}

	static async connect(app: App, name: string): Promise<Client> {
		const url = app.api.gatewayWebSocketUrl(app.actorId, "/ws");
		const client = new Client(
			name,
			new WebSocket(url, ["rivet"]),
			app.api.gatewayUrl(app.actorId, "/history"),
		);
		await client.#until(() => client.events.some((e) => e.type === "hello"), "hello");
		return client;
	}

	say(text: string): void {
		this.socket.send(JSON.stringify({ type: "chat", from: this.name, text }));
	}

	/** The room as this client sees it, in seq order. */
	texts(): string[] {
		return [...this.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => m.text);
	}

	waitForText(text: string): Promise<void> {
		return this.#until(() => this.texts().includes(text), `message "${text}"`);
	}

	/** Waits for a status event received after `from` events. */
	waitForStatus(status: "asleep" | "awake", from: number): Promise<void> {
		const match = (e: ServerEvent): boolean => e.type === "status" && e.status === status;
		return this.#until(() => this.events.slice(from).some(match), status);
	}

	/** Closes the socket and resolves once the close handshake is done. */
	close(): Promise<void> {
		return new Promise((resolve) => {
			this.socket.addEventListener("close", () => resolve(), { once: true });
			this.socket.close();
		});
	}

	#merge(messages: ChatMessage[]): void {
		for (const m of messages) this.messages.set(m.seq, m);
	}

	async #catchUp(): Promise<void> {
		const { messages } = (await (await fetch(this.historyUrl)).json()) as { messages: ChatMessage[] };
		this.#merge(messages);
		this.#notify();
	}

	#notify(): void {
		for (const check of this.#waiters) check();
	}

	#until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
		return new Promise((resolve, reject) => {
			const check = (): void => {
				if (!done()) return;
				this.#waiters.delete(check);
				clearTimeout(timer);
				resolve();
			};
			const timer = setTimeout(() => {
				this.#waiters.delete(check);
				reject(new Error(`${this.name}: timed out waiting for ${what}`));
			}, timeoutMs);
			this.#waiters.add(check);
			check();
		});
	}
}

async function waitUntil(
	check: () => Promise<boolean> | boolean,
	what: string,
	timeoutMs = 30_000,
): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

let app: App;
beforeAll(async () => {
	app = await startApp({ idleMs: IDLE_MS, logger: createConsoleLogger({ level: "warn" }) });
});
afterAll(async () => {
	await app?.stop();
});

describe("chat room on Node", () => {
	it("keeps every message across sleep and wake, exactly once and in order", async () => {
		const alice = await Client.connect(app, "alice");
		const bob = await Client.connect(app, "bob");
		const both = (text: string) => Promise.all([alice.waitForText(text), bob.waitForText(text)]);

		const sent: string[] = [];
		for (const [client, text] of [
			[alice, "hi bob"],
			[bob, "hi alice"],
			[alice, "the room sleeps soon"],
		] as const) {
			client.say(text);
			sent.push(text);
			await both(text);
		}

		// Idle: the actor says it goes to sleep, and the engine puts it to sleep while both sockets stay open.
		const mark = [alice.events.length, bob.events.length] as const;
		await Promise.all([alice.waitForStatus("asleep", mark[0]), bob.waitForStatus("asleep", mark[1])]);
		await waitUntil(async () => {
			const actor = await app.api.getActor(app.actorId);
			return !app.runner.hasActor(app.actorId) && actor?.sleepTs != null;
		}, "the actor to sleep");
		expect(alice.socket.readyState).toBe(WebSocket.OPEN);
		expect(bob.socket.readyState).toBe(WebSocket.OPEN);

		// A message wakes it: the engine starts the actor again and restores both sockets.
		const woke = bob.events.length;
		bob.say("wake up!");
		sent.push("wake up!");
		await both("wake up!");
		await bob.waitForStatus("awake", woke);
		expect(app.runner.webSocketMetrics.restored).toBeGreaterThanOrEqual(2);

		// Second round: both talk at once to a sleeping actor; the wake replays both messages.
		await alice.waitForStatus("asleep", alice.events.length);
		await waitUntil(() => !app.runner.hasActor(app.actorId), "the actor to sleep again");
		alice.say("alice while asleep");
		bob.say("bob while asleep");
		sent.push("alice while asleep", "bob while asleep");
		await Promise.all([both("alice while asleep"), both("bob while asleep")]);

		const response = await fetch(app.api.gatewayUrl(app.actorId, "/history"));
		const { messages } = (await response.json()) as { messages: ChatMessage[] };
		const texts = messages.map((m) => m.text);
		expect([...texts].sort()).toEqual([...sent].sort()); // every message, exactly once
		expect(texts.slice(0, 4)).toEqual(sent.slice(0, 4)); // in order (the last two were sent concurrently)
		expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(alice.texts()).toEqual(texts); // each client ends up with the same room, each message once
		expect(bob.texts()).toEqual(texts);
		await Promise.all([alice.close(), bob.close()]);
	});
});
