/**
 * Client-side load: tunnelled HTTP requests (Node's fetch, keep-alive) and WebSocket echo traffic (`ws`, subprotocol
 * "rivet"), both to the engine's gateway on loopback only, bounded in count and time.
 *
 * @module
 */
import WebSocket from "ws";

/**
 * Sends `total` GET requests to `url` with `concurrency` in flight; resolves with the wall time and error count.
 * @returns {Promise<{ ms: number, errors: number }>}
 */
export async function httpLoad(url, total, concurrency, timeoutMs = 120_000) {
	assertLoopback(url);
	let started = 0;
	let errors = 0;
	const deadline = Date.now() + timeoutMs;
	const t0 = performance.now();
	const worker = async () => {
		while (started < total && Date.now() < deadline) {
			started++;
			try {
				const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
				await response.arrayBuffer();
				if (response.status !== 200) errors++;
			} catch {
				errors++;
			}
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	if (started < total) throw new Error(`HTTP load timed out after ${started}/${total} requests`);
	return { ms: performance.now() - t0, errors };
}

/**
 * Opens one client WebSocket (subprotocol "rivet").
 * @returns {Promise<WebSocket>}
 */
export function openSocket(url, timeoutMs = 30_000) {
	assertLoopback(url);
	return new Promise((resolve, reject) => {
		const socket = new WebSocket(url, ["rivet"], { perMessageDeflate: false });
		const timer = setTimeout(() => {
			socket.terminate();
			reject(new Error(`WebSocket open timed out: ${url}`));
		}, timeoutMs);
		socket.once("open", () => {
			clearTimeout(timer);
			socket.on("error", () => {});
			resolve(socket);
		});
		socket.once("error", (error) => {
			clearTimeout(timer);
			reject(error);
		});
		socket.once("close", (code, reason) => {
			clearTimeout(timer);
			reject(new Error(`WebSocket closed before open: ${code} ${reason}`));
		});
	});
}

/**
 * Opens `count` sockets to `urlFor(i)`, `concurrency` at a time.
 * @returns {Promise<WebSocket[]>}
 */
export async function openSockets(count, urlFor, concurrency = 32) {
	const sockets = new Array(count);
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const i = next++;
			sockets[i] = await openSocket(urlFor(i));
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
	} catch (error) {
		closeAll(sockets.filter(Boolean));
		throw error;
	}
	return sockets;
}

/** Closes sockets without waiting. */
export function closeAll(sockets) {
	for (const socket of sockets) {
		try {
			socket.close(1000);
		} catch {
			socket.terminate();
		}
	}
}

const PAYLOAD = "x".repeat(32);

/**
 * Echo traffic: each socket keeps `inFlight` messages outstanding until it has received `perSocket` echoes.
 * @returns {Promise<{ ms: number }>}
 */
export async function echoLoad(sockets, perSocket, inFlight, timeoutMs = 120_000) {
	const t0 = performance.now();
	await Promise.all(
		sockets.map(
			(socket) =>
				new Promise((resolve, reject) => {
					let sent = 0;
					let received = 0;
					const timer = setTimeout(() => {
						cleanup();
						reject(new Error(`echo timed out after ${received}/${perSocket} messages`));
					}, timeoutMs);
					const onMessage = () => {
						received++;
						if (sent < perSocket) {
							socket.send(PAYLOAD);
							sent++;
						}
						if (received >= perSocket) {
							cleanup();
							resolve();
						}
					};
					const onClose = (code) => {
						cleanup();
						reject(new Error(`socket closed during echo load (${code})`));
					};
					const cleanup = () => {
						clearTimeout(timer);
						socket.off("message", onMessage);
						socket.off("close", onClose);
					};
					socket.on("message", onMessage);
					socket.on("close", onClose);
					for (; sent < Math.min(inFlight, perSocket); sent++) socket.send(PAYLOAD);
				}),
		),
	);
	return { ms: performance.now() - t0 };
}

/** Sends one message and resolves with the round trip in ms when the echo arrives. */
export function echoOnce(socket, timeoutMs = 60_000) {
	return new Promise((resolve, reject) => {
		const t0 = performance.now();
		const timer = setTimeout(() => reject(new Error("no echo")), timeoutMs);
		socket.once("message", () => {
			clearTimeout(timer);
			resolve(performance.now() - t0);
		});
		socket.send(PAYLOAD);
	});
}

/** Load tests target this machine only. */
function assertLoopback(url) {
	const { hostname } = new URL(url);
	if (hostname !== "127.0.0.1" && hostname !== "localhost" && hostname !== "[::1]") {
		throw new Error(`refusing to send load to a non-loopback address: ${hostname}`);
	}
}
