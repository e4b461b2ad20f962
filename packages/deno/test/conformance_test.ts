/**
 * The conformance suite (`@x/conformance`) on Deno: `deno test`, `@x/runner-deno`, Deno's global WebSocket, and
 * child processes of this same Deno binary (`deno run -A`).
 */
import {
	defineConformanceSuite,
	type ProcessExit,
	type RunnerProcess,
	type WebSocketClientConstructor,
} from "@x/conformance";
import { Runner as CompatRunner } from "../compat.ts";
import { Runner } from "../mod.ts";

function spawnDeno(scriptPath: string, env: Record<string, string>): RunnerProcess {
	const child = new Deno.Command(Deno.execPath(), {
		args: ["run", "-A", scriptPath],
		// packages/deno holds deno.json, so the child resolves packages the way this test does.
		cwd: new URL("..", import.meta.url),
		env,
		stdin: "null",
		stdout: "piped",
		stderr: "piped",
	}).spawn();
	const lines: string[] = [];
	let output = "";
	const pump = async (stream: ReadableStream<Uint8Array>, stdout: boolean): Promise<void> => {
		let partial = "";
		for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
			output += chunk;
			if (!stdout) continue;
			partial += chunk;
			const parts = partial.split("\n");
			partial = parts.pop() ?? "";
			lines.push(...parts);
		}
	};
	const drained = Promise.all([pump(child.stdout, true), pump(child.stderr, false)]);
	const exited = Promise.all([child.status, drained]).then(
		([status]): ProcessExit => ({ code: status.signal === null ? status.code : null, signal: status.signal }),
	);
	return {
		pid: child.pid,
		lines,
		output: () => output,
		kill: (signal) => {
			try {
				child.kill(signal);
			} catch {
				// Already exited.
			}
		},
		exited,
	};
}

defineConformanceSuite((name, fn) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false }), {
	runtime: "deno",
	Runner,
	CompatRunner,
	WebSocket: globalThis.WebSocket as unknown as WebSocketClientConstructor,
	signalRunnerScript: new URL("./fixtures/signal_runner.ts", import.meta.url).pathname,
	spawnRunnerProcess: spawnDeno,
});
