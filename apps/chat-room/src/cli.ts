/**
 * What the examples' main.ts files share: the settings read from the environment, the lines printed once the room
 * is up, and what Ctrl-C does. Each main.ts supplies its runtime's own way to read a variable, exit and catch a
 * signal.
 */
import { createConsoleLogger, type LogLevel } from "@x/runner-core";
import type { App, AppOptions } from "./app.ts";

/** The options of {@link startApp} that come from the environment (all but `Runner`). */
export type EnvSettings = Omit<AppOptions, "Runner"> & { idleMs: number };

/**
 * Reads RIVET_ENDPOINT, RIVET_TOKEN, RIVET_NAMESPACE, ROOM, IDLE_MS and LOG_LEVEL through `env` (an empty value counts
 * as unset). Returns `{ error }` if IDLE_MS is not a positive whole number of milliseconds.
 */
export function readEnv(env: (name: string) => string | undefined): EnvSettings | { error: string } {
	const get = (name: string): string | undefined => env(name) || undefined;
	const idleMs = Number(get("IDLE_MS") ?? 10_000);
	if (!Number.isInteger(idleMs) || idleMs < 1) {
		return { error: `IDLE_MS must be a positive number of milliseconds, got "${get("IDLE_MS")}"` };
	}
	const endpoint = get("RIVET_ENDPOINT");
	const token = get("RIVET_TOKEN");
	const namespace = get("RIVET_NAMESPACE");
	const room = get("ROOM");
	return {
		idleMs,
		logger: createConsoleLogger({ level: (get("LOG_LEVEL") as LogLevel | undefined) ?? "warn" }),
		...(endpoint ? { endpoint } : {}),
		...(token ? { token } : {}),
		...(namespace ? { namespace } : {}),
		...(room ? { room } : {}),
	};
}

/** What main.ts prints once the room is up: the engine, the room's URL, and when the room sleeps. */
export function describeApp(app: App, idleMs: number): string {
	return [
		`Engine: ${app.endpoint}${app.engine ? " (embedded)" : ""}`,
		`Chat room is up. Open it in a browser:\n\n  ${app.url}\n`,
		`The room actor sleeps after ${idleMs / 1000} s without messages. Ctrl-C stops.`,
	].join("\n");
}

/**
 * A handler for SIGINT and SIGTERM. The first signal drains the runner and stops the engine (`app.stop()`), then
 * exits 0, or 1 if stopping failed; a second Ctrl-C does not wait for the drain and exits 130 at once.
 */
export function onStopSignal(app: App, exit: (code: number) => void): (signal: string) => void {
	let signals = 0;
	return (signal) => {
		if (++signals > 1) {
			exit(130);
			return;
		}
		console.log(`\n${signal}: draining the runner and stopping…`);
		app.stop().then(
			() => exit(0),
			(error: unknown) => {
				console.error(error);
				exit(1);
			},
		);
	};
}
