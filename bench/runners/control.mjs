/**
 * The runner side of the bench's control channel, shared by every runner under test (Node, Bun and Deno).
 *
 * The driver writes one JSON command per line on the child's stdin; the child answers on stdout with one line
 * prefixed by `@@bench ` (anything else on stdout is ignored, so a chatty library cannot break the channel).
 * CPU time and memory are read inside this process, which is the point: they are the runner's own figures.
 *
 * @module
 */
import { resolve } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import v8 from "node:v8";
import { gatewayHttpHeaders } from "../src/gateway-headers.mjs";

const PREFIX = "@@bench ";

/** Settings every runner reads from its environment. */
export function settings() {
	const env = process.env;
	return {
		endpoint: env.BENCH_ENDPOINT ?? "http://127.0.0.1:6420",
		runnerName: env.BENCH_RUNNER_NAME ?? "bench",
		totalSlots: Number(env.BENCH_TOTAL_SLOTS ?? "20000"),
	};
}

/** Writes one control line to stdout. */
export function emit(message) {
	process.stdout.write(`${PREFIX}${JSON.stringify(message)}\n`);
}

/** V8 heap spaces holding compiled code and its metadata (JIT output, not application data). */
const CODE_SPACES = new Set([
	"code_space",
	"code_large_object_space",
	"trusted_space",
	"trusted_large_object_space",
]);

/** Bytes of the heap used by compiled code, where the runtime reports V8 heap spaces (Node, Deno); else 0 (Bun). */
function codeBytes() {
	try {
		let bytes = 0;
		for (const space of v8.getHeapSpaceStatistics())
			if (CODE_SPACES.has(space.space_name)) bytes += space.space_used_size;
		return bytes;
	} catch {
		return 0;
	}
}

/**
 * Bytes of V8's young generation that are in memory (its pages the process has touched, which is what RSS counts; a
 * page committed but never used is not resident). V8 grows the young generation (up to 32 MiB on Node 20) when many
 * objects survive its scavenges, as when thousands of sockets or actors are set up at once, and keeps it: an RSS
 * growth that depends on the allocation rate, not on what the runner retains. NaN where the runtime has no V8 heap
 * (Bun).
 */
function youngGenerationBytes() {
	if (globalThis.Bun) return Number.NaN;
	try {
		let bytes = 0;
		for (const space of v8.getHeapSpaceStatistics())
			if (space.space_name === "new_space" || space.space_name === "new_large_object_space")
				bytes += space.physical_space_size;
		return bytes;
	} catch {
		return Number.NaN;
	}
}

/**
 * CPU time (µs, user + system, this process) and memory (bytes). `heapData` is the heap used without compiled
 * code, so that functions the JIT compiles during a measurement do not count as memory per actor or socket.
 */
export function usage() {
	const cpu = process.cpuUsage();
	const mem = process.memoryUsage();
	return {
		user: cpu.user,
		system: cpu.system,
		rss: mem.rss,
		heapUsed: mem.heapUsed,
		heapData: mem.heapUsed - codeBytes(),
		youngGeneration: youngGenerationBytes(),
	};
}

/** The gateway's headers for the Fetch API cost probe. */
const GATEWAY_HEADERS = gatewayHttpHeaders("127.0.0.1:6420", "0123456789abcdefghijklmnopqrl00");

/**
 * CPU (µs) per set of the Fetch API objects one tunnelled request costs a runner whose handler contract is the Fetch
 * API (ours and the reference): a `Request` with the gateway's headers, the handler's `new Response("ok")`, and its
 * body read. Measured hot, `count` times in a loop after as many warm-up rounds, in this runtime.
 */
async function fetchObjectsCost(count) {
	const round = async () => {
		new Request("http://actor/", { method: "GET", headers: GATEWAY_HEADERS });
		await new Response("ok").arrayBuffer();
	};
	for (let i = 0; i < count; i++) await round();
	const before = process.cpuUsage();
	for (let i = 0; i < count; i++) await round();
	const spent = process.cpuUsage(before);
	return (spent.user + spent.system) / count;
}

/** Runs a full garbage collection where the runtime allows it (node/deno `--expose-gc`, `Bun.gc`). */
async function collect() {
	const bun = globalThis.Bun;
	for (let i = 0; i < 3; i++) {
		if (bun?.gc) bun.gc(true);
		else if (typeof globalThis.gc === "function") globalThis.gc();
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/**
 * Serves the driver's commands: `usage`, `gc` (collect, then usage), `snapshot` (collect, then write a V8 heap
 * snapshot and answer its path; Node only), `fetchObjects` (CPU per request of the Fetch API objects, see
 * {@link fetchObjectsCost}) and `exit` (shut the runner down, then exit).
 * @param {{ stats(): Record<string, number>, shutdown(): Promise<void> }} runner
 */
export function serveControl(runner) {
	const lines = createInterface({ input: process.stdin });
	lines.on("line", async (line) => {
		let request;
		try {
			request = JSON.parse(line);
		} catch {
			return;
		}
		const { id, cmd } = request;
		try {
			if (cmd === "usage") emit({ id, ...usage(), ...runner.stats() });
			else if (cmd === "gc") {
				await collect();
				emit({ id, ...usage(), ...runner.stats() });
			} else if (cmd === "snapshot") {
				await collect();
				emit({ id, file: resolve(v8.writeHeapSnapshot()) });
			} else if (cmd === "fetchObjects") emit({ id, us: await fetchObjectsCost(5000) });
			else if (cmd === "exit") {
				await Promise.race([runner.shutdown(), new Promise((resolve) => setTimeout(resolve, 3000))]);
				emit({ id });
				process.exit(0);
			} else emit({ id, error: `unknown command ${cmd}` });
		} catch (error) {
			emit({ id, error: String(error) });
		}
	});
	// The driver went away: leave at once rather than linger.
	lines.on("close", () => process.exit(0));
}

/**
 * The actor app every runner serves, as plain functions over strings and bytes, so that the apps themselves cost
 * the same everywhere: `GET …/sleep` asks the engine to put the actor to sleep, anything else answers "ok";
 * WebSockets echo; a socket whose path contains `/hib` is hibernatable.
 */
export const app = {
	isSleep: (url) => url.endsWith("/sleep"),
	isHibernatable: (url) => url.includes("/hib"),
};
