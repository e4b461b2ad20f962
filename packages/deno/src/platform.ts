/**
 * Deno's platform for the runner core: Deno's global `WebSocket`, `Deno.addSignalListener`, and a console-backed
 * structured logger.
 *
 * @module
 */
import {
	createConsoleLogger,
	type Logger,
	type LogLevel,
	type Platform,
	type SignalSource,
	systemClock,
	type WebSocketLike,
} from "@x/runner-core";

/** Opens the engine socket with Deno's global `WebSocket` (its default `binaryType` is `blob`; the core asks for `arraybuffer`). */
export function denoWebSocket(url: string, protocols: string[]): WebSocketLike {
	const socket = new WebSocket(url, protocols);
	socket.binaryType = "arraybuffer";
	return socket as unknown as WebSocketLike;
}

function envLevel(): LogLevel {
	try {
		const level = Deno.env.get("LOG_LEVEL");
		return level === "trace" || level === "debug" || level === "warn" || level === "error" ? level : "info";
	} catch {
		// Without --allow-env the level stays at its default.
		return "info";
	}
}

/** A JSON-lines console logger at `LOG_LEVEL` (default `info`; reading it needs `--allow-env`). */
export function defaultDenoLogger(): Logger {
	return createConsoleLogger({ level: envLevel() });
}

/** Signals through `Deno.addSignalListener`: SIGTERM and SIGINT, or SIGINT alone on Windows (which has no SIGTERM). */
export const denoSignals: SignalSource = {
	subscribe(signal, listener) {
		Deno.addSignalListener(signal as Deno.Signal, listener);
		return () => Deno.removeSignalListener(signal as Deno.Signal, listener);
	},
	exit: (code) => Deno.exit(code),
	notice: (line) => console.error(line),
	defaultSignals: Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"],
};

/** The Deno platform: global WebSocket, the system clock, a console logger and Deno signals. */
export function denoPlatform(logger: Logger = defaultDenoLogger()): Platform {
	return { webSocket: denoWebSocket, clock: systemClock, logger, signals: denoSignals };
}
