import { createServer, type Server } from "node:net";
import { DevEngineError } from "./errors.ts";

function listen(host: string, port: number): Promise<Server> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen({ host, port, exclusive: true }, () => resolve(server));
	});
}

function close(server: Server): Promise<void> {
	return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Finds `count` distinct free ports on `host` by binding port 0 (all held at once, then released).
 * @param host Default: "127.0.0.1".
 */
export async function findFreePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
	const servers: Server[] = [];
	try {
		for (let i = 0; i < count; i++) servers.push(await listen(host, 0));
		return servers.map((s) => {
			const address = s.address();
			if (address === null || typeof address === "string") throw new Error("unexpected server address");
			return address.port;
		});
	} finally {
		await Promise.all(servers.map(close));
	}
}

/**
 * Throws `PORT_IN_USE` (naming the port and its role) when `port` cannot be bound on `host`.
 * @param role Label used in the message, e.g. "guard".
 */
export async function assertPortFree(host: string, port: number, role: string): Promise<void> {
	let server: Server;
	try {
		server = await listen(host, port);
	} catch (err) {
		const code = (err as { code?: string }).code ?? "unknown error";
		const reason = code === "EADDRINUSE" ? "is already in use" : `cannot be bound (${code})`;
		throw new DevEngineError("PORT_IN_USE", `${role} port ${port} on ${host} ${reason}`, { cause: err });
	}
	await close(server);
}
