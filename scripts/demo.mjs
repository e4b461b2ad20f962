#!/usr/bin/env node
// `npm run demo`: builds the Node chat example, starts it against an embedded Rivet Engine, prints the room's URL,
// and walks through the interesting part with two scripted clients: they chat, the room actor goes to sleep while
// both stay connected, a message wakes it, and the history shows that nothing was lost. Then it keeps serving the
// page until Ctrl-C (SIGINT) or SIGTERM, and shuts down cleanly (runner drain, engine stop), exiting 0.
//
// DEMO_EXIT_AFTER_WALKTHROUGH=1 stops right after the walk-through (also the default when CI=true; set it to 0 to
// keep serving in CI). IDLE_MS sets the idle time before the actor sleeps (default 3000 here).
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const appDir = join(root, "apps", "example-node");
const env = {
	...process.env,
	PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}`,
	TURBO_TELEMETRY_DISABLED: "1",
	DO_NOT_TRACK: "1",
	NO_COLOR: "1",
	FORCE_COLOR: "0",
};
const { DEMO_EXIT_AFTER_WALKTHROUGH: exitFlag, IDLE_MS, CI } = process.env;
const exitAfterWalkthrough = exitFlag === undefined ? CI === "true" : exitFlag === "1";
const idleMs = Number(IDLE_MS ?? 3000);

const say = (line = "") => process.stdout.write(`${line}\n`);
const step = (n, line) => say(`\n${n}. ${line}`);
const ok = (line) => say(`   ✓ ${line}`);
const info = (line) => say(`   ${line}`);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function build() {
	process.stdout.write("Building @x/example-node and the packages it uses… ");
	const started = Date.now();
	return new Promise((resolve, reject) => {
		const child = spawn(
			"turbo",
			["run", "build", "--filter=@x/example-node...", "--output-logs=errors-only"],
			{ cwd: root, env, stdio: ["ignore", "pipe", "pipe"] },
		);
		let output = "";
		child.stdout.on("data", (chunk) => (output += chunk));
		child.stderr.on("data", (chunk) => (output += chunk));
		child.on("error", reject);
		child.on("close", (code) => {
			if (code === 0) {
				say(`done (${seconds(Date.now() - started)})`);
				resolve();
			} else {
				say("failed");
				process.stderr.write(output);
				reject(new Error(`turbo build exited with ${code}`));
			}
		});
	});
}

/** The runner's warnings and errors as short lines (it logs nothing else here). */
function demoLogger(bindings = {}) {
	const write = (level) => (object, message) => {
		const detail = { ...bindings, ...object };
		delete detail.runner;
		const extra = Object.keys(detail).length > 0 ? ` ${JSON.stringify(detail)}` : "";
		process.stderr.write(`   (runner ${level}) ${message ?? ""}${extra}\n`);
	};
	const quiet = () => {};
	return {
		trace: quiet,
		debug: quiet,
		info: quiet,
		warn: write("warning"),
		error: write("error"),
		child: (more) => demoLogger({ ...bindings, ...more }),
		isLevelEnabled: (level) => level === "warn" || level === "error",
	};
}

/**
 * A scripted chat client over the `ws` package (the example's own dev dependency). Like the page, it keeps the room
 * merged by seq: live messages, the recent messages that status events carry, and GET /history when it sees a gap.
 */
function connectClient(WebSocket, app, name) {
	const events = [];
	const messages = new Map();
	const late = new Set(); // seqs that reached this client through a resync or a catch-up, not live
	const waiters = new Set();
	const historyUrl = app.api.gatewayUrl(app.actorId, "/history");
	const socket = new WebSocket(app.api.gatewayWebSocketUrl(app.actorId, "/ws"), ["rivet"]);
	const notify = () => {
		for (const check of waiters) check();
	};
	const merge = (list, isLate) => {
		for (const m of list) {
			if (messages.has(m.seq)) continue;
			messages.set(m.seq, m);
			if (isLate) late.add(m.seq);
		}
	};
	socket.on("message", (data) => {
		const event = JSON.parse(String(data));
		events.push(event);
		if (event.type === "hello") merge(event.history, false);
		if (event.type === "status") merge(event.recent, true);
		if (event.type === "message") {
			const gap = event.message.seq > Math.max(0, ...messages.keys()) + 1;
			merge([event.message], false);
			if (gap)
				fetch(historyUrl)
					.then((r) => r.json())
					.then(
						(h) => {
							merge(h.messages, true);
							notify();
						},
						() => {},
					);
		}
		notify();
	});
	const until = (done, what, timeoutMs = 30_000) =>
		new Promise((resolve, reject) => {
			const check = () => {
				if (!done()) return;
				waiters.delete(check);
				clearTimeout(timer);
				resolve();
			};
			const timer = setTimeout(() => {
				waiters.delete(check);
				reject(new Error(`${name} timed out waiting for ${what}`));
			}, timeoutMs);
			waiters.add(check);
			check();
		});
	const has = (text) => [...messages.values()].some((m) => m.text === text);
	const client = {
		name,
		socket,
		events,
		late,
		say(text) {
			socket.send(JSON.stringify({ type: "chat", from: name, text }));
		},
		waitForText: (text) => until(() => has(text), `"${text}"`),
		waitForStatus: (status, from) =>
			until(() => events.slice(from).some((e) => e.type === "status" && e.status === status), status),
		texts: () => [...messages.values()].sort((x, y) => x.seq - y.seq).map((m) => m.text),
	};
	return until(() => events.some((e) => e.type === "hello"), "the room's hello").then(() => client);
}

async function walkthrough(app, WebSocket) {
	step(1, "Two clients, alice and bob, open WebSockets to the room through the engine's gateway.");
	const alice = await connectClient(WebSocket, app, "alice");
	const bob = await connectClient(WebSocket, app, "bob");
	ok("both connected and got the room's history");

	step(2, "They chat. Each message is committed to the actor's KV before anyone sees it.");
	const sent = [];
	for (const [from, to, text] of [
		[alice, bob, "hi bob! is this room persistent?"],
		[bob, alice, "it is: every line goes to the actor's KV"],
		[alice, bob, "let's stay quiet and watch it fall asleep"],
	]) {
		from.say(text);
		sent.push(text);
		await Promise.all([from.waitForText(text), to.waitForText(text)]);
		info(`${from.name.padEnd(5)} → ${text}`);
	}

	step(3, `Nobody talks for ${seconds(idleMs)}: the room actor goes to sleep. Both sockets stay open.`);
	const quietSince = Date.now();
	const marks = [alice.events.length, bob.events.length];
	await Promise.all([alice.waitForStatus("asleep", marks[0]), bob.waitForStatus("asleep", marks[1])]);
	ok(`both clients were told "asleep" after ${seconds(Date.now() - quietSince)} of silence`);
	for (;;) {
		const actor = await app.api.getActor(app.actorId);
		if (actor?.sleepTs != null && !app.runner.hasActor(app.actorId)) break;
		await delay(100);
	}
	ok("the engine reports the actor asleep, and the runner no longer hosts it");
	const open = [alice, bob].every((c) => c.socket.readyState === WebSocket.OPEN);
	ok(`alice's and bob's WebSockets are ${open ? "still open" : "NOT open (unexpected)"}`);

	step(4, "bob sends a message to the sleeping room. The engine wakes the actor and restores both sockets.");
	const sentAt = Date.now();
	const woke = bob.events.length;
	const wakeText = "wake up, room!";
	bob.say(wakeText);
	sent.push(wakeText);
	await bob.waitForStatus("awake", woke);
	await bob.waitForText(wakeText);
	info(`bob   → ${wakeText}`);
	ok(`the room woke up and committed it in ${seconds(Date.now() - sentAt)}`);
	await alice.waitForText(wakeText);
	ok(`alice has it too, after ${seconds(Date.now() - sentAt)}`);
	ok(`sockets restored after the wake: ${app.runner.webSocketMetrics.restored}`);
	alice.say("good morning!");
	sent.push("good morning!");
	await Promise.all([alice.waitForText("good morning!"), bob.waitForText("good morning!")]);
	info("alice → good morning!");

	step(5, "The history, read back from the actor (GET /history through the gateway):");
	const response = await fetch(app.api.gatewayUrl(app.actorId, "/history"));
	const { messages } = await response.json();
	for (const m of messages) info(`#${m.seq}  ${m.from.padEnd(5)}  ${m.text}`);
	const texts = messages.map((m) => m.text);
	const same = (list) => list.length === sent.length && list.every((t, i) => t === sent[i]);
	if (!same(texts)) throw new Error(`history differs from what was sent: ${JSON.stringify(texts)}`);
	for (const c of [alice, bob])
		if (!same(c.texts())) throw new Error(`${c.name} saw ${JSON.stringify(c.texts())}`);
	ok(
		`${sent.length} messages sent, ${texts.length} in the history, each exactly once and in order. Nothing lost.`,
	);
	ok("alice and bob each saw exactly that conversation");
	for (const c of [alice, bob]) {
		if (c.late.size === 0) continue;
		const n = c.late.size === 1 ? "1 message" : `${c.late.size} messages`;
		info(
			`(${c.name} got ${n} late, from the room's resync: see "A gap in the engine" in apps/example-node/README.md)`,
		);
	}

	await Promise.all(
		[alice, bob].map((c) => new Promise((resolve) => c.socket.once("close", resolve).close())),
	);
}

/** Imports a dependency of the Node example as the example does: from its node_modules, the "import" export. */
function importFromApp(name) {
	const dir = join(appDir, "node_modules", name);
	const { exports } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
	return import(pathToFileURL(join(dir, exports["."].import)).href);
}

function engineAlive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

function runningEngines() {
	try {
		return execFileSync("pgrep", ["-x", "rivet-engine"], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
	} catch {
		return [];
	}
}

async function serve() {
	// The room is @x/example-chat-room (apps/chat-room); the Node example gives it the Node adapter's Runner.
	const { startApp } = await importFromApp("@x/example-chat-room");
	const { Runner } = await importFromApp("@x/runner-node");
	const WebSocket = createRequire(join(appDir, "package.json"))("ws");

	process.stdout.write("Starting an embedded Rivet Engine and the chat runner… ");
	const started = Date.now();
	const app = await startApp({ Runner, idleMs, logger: demoLogger() });
	say(`ready (${seconds(Date.now() - started)})`);
	say(`\nThe "lobby" room is served by an actor through the engine's gateway. Open it in a browser:\n`);
	say(`    ${app.url}\n`);
	say(`(engine ${app.endpoint}, engine pid ${app.engine.pid}, idle time ${seconds(idleMs)})`);

	let stopping;
	const stop = async (why) => {
		stopping ??= (async () => {
			say(`\n${why}: draining the runner, then stopping the engine…`);
			const pid = app.engine.pid;
			await app.stop();
			const leftover = runningEngines().filter((p) => Number(p) === pid);
			if (engineAlive(pid) || leftover.length > 0) throw new Error(`engine ${pid} is still running`);
			ok(`runner shut down, engine (pid ${pid}) stopped, no rivet-engine of ours left running. Bye!`);
		})();
		return stopping;
	};
	let signals = 0;
	const onSignal = (signal) => {
		if (++signals > 1) {
			say(`${signal} again: exiting now`);
			process.exit(130);
		}
		stop(signal).then(
			() => process.exit(0),
			(error) => {
				console.error(error);
				process.exit(1);
			},
		);
	};
	process.on("SIGINT", () => onSignal("SIGINT"));
	process.on("SIGTERM", () => onSignal("SIGTERM"));
	process.on("disconnect", () => onSignal("the demo's parent process is gone"));

	say("\nA short scripted walk-through:");
	try {
		await walkthrough(app, WebSocket);
	} catch (error) {
		say(`\n✗ the walk-through failed: ${error instanceof Error ? error.message : String(error)}`);
		await stop("walk-through failed").catch(() => {});
		process.exit(1);
	}
	if (exitAfterWalkthrough) {
		await stop("walk-through done");
		process.exit(0);
	}
	say(`\nThe room keeps running: open ${app.url} and chat (it sleeps after ${seconds(idleMs)} of quiet).`);
	say("Press Ctrl-C to stop.");
}

// The demo runs in two processes. A terminal's Ctrl-C signals its whole foreground process group, and the embedded
// engine (a child of whoever starts it) would stop at the same moment as the runner starts draining to it. So the
// parent builds, then runs the app in a child in its own process group, and passes SIGINT/SIGTERM on to it: the
// runner drains while the engine is still up, and only then is the engine stopped.
async function main() {
	await build();
	const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], {
		detached: true,
		stdio: ["ignore", "inherit", "inherit", "ipc"], // the IPC channel closing tells the child that we are gone
	});
	for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
	child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGINT" ? 130 : 1)));
}

(process.argv.includes("--serve") ? serve() : main()).catch((error) => {
	console.error(error);
	process.exit(1);
});
