import {
	type ActorCheckpoint,
	type CommandWrapper,
	type EventWrapper,
	encodeToClient,
	type KvResponseData,
	type StopCode,
	type ToClient,
} from "@rivetkit/engine-runner-protocol";
import type { Logger, RunnerOptions, SocketEventMap, WebSocketFactory, WebSocketLike } from "../src/index.ts";
import { Runner } from "../src/index.ts";
import { type FakeConnection, FakeEngine, ManualClock } from "../src/testing/index.ts";

export interface Harness {
	runner: Runner;
	engine: FakeEngine;
	clock: ManualClock;
	errors: Array<{ code: string; stage: string; message: string; actorId?: string | undefined }>;
	/** `clock.now()` at every socket the runner opened (only when the harness's factory is used). */
	opened: number[];
}

/** A runner wired to a fake engine and a manual clock. */
export function harness(overrides: Partial<RunnerOptions> = {}, engine = new FakeEngine()): Harness {
	const clock = new ManualClock();
	const errors: Harness["errors"] = [];
	const opened: number[] = [];
	const webSocket: WebSocketFactory = (url, protocols) => {
		opened.push(clock.now());
		return engine.webSocket(url, protocols);
	};
	const runner = new Runner({
		endpoint: "http://engine.test",
		runnerName: "pool",
		totalSlots: 10,
		onActorStart: () => {},
		onError: (error, context) =>
			errors.push({
				code: error.code,
				stage: context.stage,
				message: error.message,
				actorId: context.actorId,
			}),
		...overrides,
		platform: { webSocket, clock, random: () => 0, ...overrides.platform },
	});
	return { runner, engine, clock, errors, opened };
}

/** A harness whose runner has completed its first handshake. */
export async function connected(
	overrides: Partial<RunnerOptions> = {},
	engine = new FakeEngine(),
): Promise<Harness> {
	const h = harness(overrides, engine);
	await h.runner.start();
	return h;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine messages

/** A `CommandStartActor` wrapper. */
export function startCmd(actorId: string, generation = 0, index = 0n, name = "counter"): CommandWrapper {
	return {
		checkpoint: { actorId, generation, index },
		inner: {
			tag: "CommandStartActor",
			val: { config: { name, key: null, createTs: 1n, input: null }, hibernatingRequests: [] },
		},
	};
}

/** A `CommandStopActor` wrapper. */
export function stopCmd(actorId: string, generation = 0, index = 1n): CommandWrapper {
	return { checkpoint: { actorId, generation, index }, inner: { tag: "CommandStopActor", val: null } };
}

/** A `ToClientCommands` message. */
export function commands(...wrappers: CommandWrapper[]): ToClient {
	return { tag: "ToClientCommands", val: wrappers };
}

/** A `ToClientAckEvents` message. */
export function ackEvents(...checkpoints: ActorCheckpoint[]): ToClient {
	return { tag: "ToClientAckEvents", val: { lastEventCheckpoints: checkpoints } };
}

/** A `ToClientKvResponse` message. */
export function kvResponse(requestId: number, data: KvResponseData): ToClient {
	return { tag: "ToClientKvResponse", val: { requestId, data } };
}

/** A `ToClientPing` message. */
export function ping(ts: bigint): ToClient {
	return { tag: "ToClientPing", val: { ts } };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading what the runner sent

/** Every event the runner sent on `conn`, flattened, in order. */
export function events(conn: FakeConnection): EventWrapper[] {
	return conn.sent("ToServerEvents").flat();
}

/** Events of one actor (and optionally one generation). */
export function eventsOf(conn: FakeConnection, actorId: string, generation?: number): EventWrapper[] {
	return events(conn).filter(
		(e) =>
			e.checkpoint.actorId === actorId &&
			(generation === undefined || e.checkpoint.generation === generation),
	);
}

export interface StoppedEvent {
	actorId: string;
	generation: number;
	index: bigint;
	code: StopCode;
	message: string | null;
}

/** The `ActorStateStopped` events sent on `conn`. */
export function stoppedEvents(conn: FakeConnection, actorId?: string): StoppedEvent[] {
	const out: StoppedEvent[] = [];
	for (const e of events(conn)) {
		if (actorId !== undefined && e.checkpoint.actorId !== actorId) continue;
		if (e.inner.tag !== "EventActorStateUpdate") continue;
		const state = e.inner.val.state;
		if (state.tag !== "ActorStateStopped") continue;
		out.push({ ...e.checkpoint, code: state.val.code, message: state.val.message });
	}
	return out;
}

/** Whether `conn` carried a Running event for the actor. */
export function sentRunning(conn: FakeConnection, actorId: string, generation = 0): boolean {
	return eventsOf(conn, actorId, generation).some(
		(e) => e.inner.tag === "EventActorStateUpdate" && e.inner.val.state.tag === "ActorStateRunning",
	);
}

/** All command acks sent on `conn`, flattened. */
export function acks(conn: FakeConnection): ActorCheckpoint[] {
	return conn.sent("ToServerAckCommands").flatMap((a) => a.lastCommandCheckpoints);
}

/** Pushes start commands and waits until each actor has been reported running. */
export async function startActors(h: Harness, ...actorIds: string[]): Promise<void> {
	const conn = h.engine.last;
	conn.push(commands(...actorIds.map((id) => startCmd(id))));
	await h.engine.until(() => actorIds.every((id) => sentRunning(conn, id)));
}

/** Drops the current connection and advances the clock until the runner has reconnected and handshaken. */
export async function reconnect(h: Harness, code = 1011, reason = "ws.going_away"): Promise<FakeConnection> {
	const before = h.engine.connections.length;
	h.engine.last.drop(code, reason);
	for (let i = 0; i < 100 && !(h.engine.connections.length > before && h.runner.connected); i++) {
		await h.clock.advance(500);
	}
	if (!h.runner.connected) throw new Error("runner did not reconnect");
	return h.engine.last;
}

// ---------------------------------------------------------------------------------------------------------------
// Promises

export interface Deferred<T> {
	promise: Promise<T>;
	resolve: (value: T) => void;
	reject: (error: unknown) => void;
}

/** A promise with its settle functions. */
export function deferred<T = void>(): Deferred<T> {
	let resolve!: (value: T) => void;
	let reject!: (error: unknown) => void;
	const promise = new Promise<T>((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

export type Settled<T> =
	| { status: "pending" }
	| { status: "fulfilled"; value: T }
	| { status: "rejected"; error: unknown };

/** Observes `promise` at once (so a rejection is never unhandled) and exposes its state. */
export function track<T>(promise: Promise<T>): { readonly state: Settled<T> } {
	const box: { state: Settled<T> } = { state: { status: "pending" } };
	promise.then(
		(value) => {
			box.state = { status: "fulfilled", value };
		},
		(error: unknown) => {
			box.state = { status: "rejected", error };
		},
	);
	return box;
}

/** The rejection reason of a tracked promise; fails the test if it did not reject. */
export function rejection<T>(tracked: { readonly state: Settled<T> }): unknown {
	const state = tracked.state;
	if (state.status !== "rejected") throw new Error(`expected a rejection, promise is ${state.status}`);
	return state.error;
}

/**
 * Yields one macrotask so that the host can report unhandled rejections. Not used to drive time: every timeout in
 * the runner runs on the ManualClock.
 */
export function macrotask(): Promise<void> {
	return new Promise((resolve) => setImmediate(resolve));
}

/** Collects `unhandledRejection` reports while `fn` runs. */
export async function collectUnhandled(fn: () => Promise<void>): Promise<unknown[]> {
	const seen: unknown[] = [];
	const listener = (reason: unknown): void => void seen.push(reason);
	process.on("unhandledRejection", listener);
	try {
		await fn();
		await macrotask();
		await macrotask();
	} finally {
		process.off("unhandledRejection", listener);
	}
	return seen;
}

// ---------------------------------------------------------------------------------------------------------------
// Logger

export interface LogRecord {
	level: string;
	bindings: Record<string, unknown>;
	object: Record<string, unknown>;
	message: string | undefined;
}

/** A Logger (all levels enabled) that records every call, including the bindings of child loggers. */
export function capturingLogger(): { logger: Logger; records: LogRecord[]; text(): string } {
	const records: LogRecord[] = [];
	const make = (bindings: Record<string, unknown>): Logger => {
		const at =
			(level: string) =>
			(object: Record<string, unknown>, message?: string): void =>
				void records.push({ level, bindings, object, message });
		return {
			trace: at("trace"),
			debug: at("debug"),
			info: at("info"),
			warn: at("warn"),
			error: at("error"),
			child: (more) => {
				records.push({ level: "child", bindings: { ...bindings, ...more }, object: {}, message: undefined });
				return make({ ...bindings, ...more });
			},
			isLevelEnabled: () => true,
		};
	};
	return {
		logger: make({}),
		records,
		text: () => records.map((r) => JSON.stringify(r, jsonReplacer)).join("\n"),
	};
}

function jsonReplacer(_key: string, value: unknown): unknown {
	if (typeof value === "bigint") return `${value}n`;
	if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
	if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return String(value);
	return value;
}

// ---------------------------------------------------------------------------------------------------------------
// A socket tap: lets a test fire socket events at the runner directly, e.g. late events of a superseded socket.

type AnyListener = (event: unknown) => void;

/** Wraps a fake connection and remembers the listeners the runner added, so a test can call them at any time. */
export class TappedSocket implements WebSocketLike {
	readonly inner: FakeConnection;
	readonly #listeners = new Map<string, AnyListener[]>();

	constructor(inner: FakeConnection) {
		this.inner = inner;
	}

	get readyState(): number {
		return this.inner.readyState;
	}

	get binaryType(): string {
		return this.inner.binaryType;
	}

	set binaryType(value: string) {
		this.inner.binaryType = value;
	}

	send(data: Uint8Array | ArrayBuffer | string): void {
		this.inner.send(data);
	}

	close(code?: number, reason?: string): void {
		this.inner.close(code, reason);
	}

	addEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void {
		const list = this.#listeners.get(type) ?? [];
		list.push(listener as AnyListener);
		this.#listeners.set(type, list);
		this.inner.addEventListener(type, listener);
	}

	removeEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void {
		this.#listeners.set(
			type,
			(this.#listeners.get(type) ?? []).filter((l) => l !== listener),
		);
		this.inner.removeEventListener(type, listener);
	}

	/** Fires an event at the runner's listeners, whatever the fake's state. */
	emit<K extends keyof SocketEventMap>(type: K, event: SocketEventMap[K]): void {
		for (const listener of [...(this.#listeners.get(type) ?? [])]) listener(event);
	}

	/** Fires a decoded engine message at the runner's listeners, whatever the fake's state. */
	emitMessage(message: ToClient): void {
		this.emit("message", { data: encodeToClient(message).slice().buffer });
	}
}

/** A factory that taps every socket it hands out. */
export function tappedFactory(engine: FakeEngine): { webSocket: WebSocketFactory; sockets: TappedSocket[] } {
	const sockets: TappedSocket[] = [];
	return {
		sockets,
		webSocket: (url, protocols) => {
			engine.webSocket(url, protocols);
			const socket = new TappedSocket(engine.last);
			sockets.push(socket);
			return socket;
		},
	};
}
