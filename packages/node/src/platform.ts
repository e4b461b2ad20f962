/**
 * Node's platform for the runner core: the `ws` client (Node 20 has no global WebSocket), pino, and process signals.
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
import WebSocket from "ws";

/** Opens the engine socket with `ws` (no compression: frames are small and already compact). */
export function nodeWebSocket(url: string, protocols: string[]): WebSocketLike {
	const socket = new WebSocket(url, protocols, { perMessageDeflate: false });
	socket.binaryType = "arraybuffer";
	return socket as unknown as WebSocketLike;
}

/** A pino logger at `LOG_LEVEL` (default `info`), writing JSON lines to stdout. */
export function defaultNodeLogger(): Logger {
	return pino({ level: process.env.LOG_LEVEL ?? "info" }) as unknown as Logger;
}

/** Process signals through `process.on`; SIGTERM and SIGINT by default. */
export const nodeSignals: SignalSource = processSignalSource(process);

/** The Node platform: `ws`, the system clock, a pino logger and process signals. */
export function nodePlatform(logger: Logger = defaultNodeLogger()): Platform {
	return { webSocket: nodeWebSocket, clock: systemClock, logger, signals: nodeSignals };
}
