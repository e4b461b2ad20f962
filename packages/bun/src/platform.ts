/**
 * Bun's platform for the runner core: Bun's global `WebSocket`, pino, and process signals.
 *
 * @module
 */
import {
	type Logger,
	type Platform,
	processSignalSource,
	type SignalSource,
	systemClock,
	type WebSocketLike,
} from "@x/runner-core";
import pino from "pino";

/** Opens the engine socket with Bun's global `WebSocket`. Bun defaults to `nodebuffer`; the core asks for `arraybuffer`. */
export function bunWebSocket(url: string, protocols: string[]): WebSocketLike {
	const socket = new WebSocket(url, protocols);
	socket.binaryType = "arraybuffer";
	return socket as unknown as WebSocketLike;
}

/** A pino logger at `LOG_LEVEL` (default `info`). */
export function defaultBunLogger(): Logger {
	return pino({ level: process.env.LOG_LEVEL ?? "info" }) as unknown as Logger;
}

/** Process signals through `process.on`; SIGTERM and SIGINT by default. */
export const bunSignals: SignalSource = processSignalSource(process);

/** The Bun platform: global WebSocket, the system clock, a pino logger and process signals. */
export function bunPlatform(logger: Logger = defaultBunLogger()): Platform {
	return { webSocket: bunWebSocket, clock: systemClock, logger, signals: bunSignals };
}
