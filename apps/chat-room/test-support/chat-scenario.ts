/**
 * The end-to-end chat test, written once for the three examples against a real engine: two clients chat, the room
 * actor sleeps while both stay connected, a message wakes it, and the history holds every message exactly once, in
 * order. Each example's test calls {@link runChatScenario} with its adapter's `Runner`, a WebSocket class and its
 * test framework's deep-equality assertion.
 */
import { type App, type ChatMessage, type RunnerClass, type ServerEvent, startApp } from "../src/index.ts";

/** Short, so the test sees the room sleep twice. */
export const SCENARIO_IDLE_MS = 1500;

/** What the scenario needs of a WebSocket: the browser's (Bun, Deno) and the `ws` package's (Node) both fit. */
export interface ScenarioWebSocket {
	readonly readyState: number;
	send(data: string): void;
	close(): void;
	addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
	addEventListener(type: "close", listener: () => void, options: { once: true }): void;
}

/** What {@link runChatScenario} takes. */
export interface ChatScenarioOptions {
	/** The adapter's `Runner`. */
	Runner: RunnerClass;
	/** A WebSocket class: the global one, or `ws` on Node 20 (which has none). */
	WebSocket: new (
		url: string,
		protocols: string[],
	) => ScenarioWebSocket;
	/** The test framework's deep equality assertion; `what` says what is compared. */
	equal(actual: unknown, expected: unknown, what: string): void;
}

const OPEN = 1;

/** Runs the scenario on an app of its own (embedded engine) and stops it, also when an assertion fails. */
export async function runChatScenario({ Runner, WebSocket, equal }: ChatScenarioOptions): Promise<void> {
	const app = await startApp({ Runner, idleMs: SCENARIO_IDLE_MS });
	try {
		const connect = (name: string) => Client.connect(app, name, WebSocket);
		const alice = await connect("alice");
		const bob = await connect("bob");
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
		equal(alice.socket.readyState, OPEN, "alice's socket state while the actor sleeps");
		equal(bob.socket.readyState, OPEN, "bob's socket state while the actor sleeps");

		// A message wakes it: the engine starts the actor again and restores both sockets.
		const woke = bob.events.length;
		bob.say("wake up!");
		sent.push("wake up!");
		await both("wake up!");
		await bob.waitForStatus("awake", woke);
		equal(app.runner.webSocketMetrics.restored >= 2, true, "both sockets restored after the wake");

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
		equal([...texts].sort(), [...sent].sort(), "every message, exactly once");
		equal(texts.slice(0, 4), sent.slice(0, 4), "in order (the last two were sent concurrently)");
		equal(
			messages.map((m) => m.seq),
			[1, 2, 3, 4, 5, 6],
			"the sequence numbers",
		);
		equal(alice.texts(), texts, "alice's view of the room"); // each client ends up with the same room, each once
		equal(bob.texts(), texts, "bob's view of the room");
		await Promise.all([alice.close(), bob.close()]);
	} finally {
		await app.stop();
	}
}

/** A chat client that keeps its view of the room the way the page does: merged by seq, gaps fetched. */
class Client {
	readonly events: ServerEvent[] = [];
	readonly messages = new Map<number, ChatMessage>();
	readonly #waiters = new Set<() => void>();

	private constructor(
		readonly name: string,
		readonly socket: ScenarioWebSocket,
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

	static async connect(app: App, name: string, WebSocket: ChatScenarioOptions["WebSocket"]): Promise<Client> {
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
