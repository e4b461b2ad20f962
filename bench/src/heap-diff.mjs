/**
 * What grew between two V8 heap snapshots, per kind of object, divided by a count (the actors or sockets added in
 * between). Used to find what an idle actor costs:
 *
 *   BENCH_HEAP_SNAPSHOTS=1 node bench/src/scale.mjs ours-node     # prints the two snapshot files it wrote
 *   node bench/src/heap-diff.mjs <before> <after> 1000
 *
 * Strings are grouped together; compiled code is listed but is not part of the runner's data.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** Bytes and counts per `type:name` of one snapshot. */
function summarise(file) {
	const snapshot = JSON.parse(readFileSync(file, "utf8"));
	const { node_fields: fields, node_types: nodeTypes } = snapshot.snapshot.meta;
	const types = nodeTypes[0];
	const width = fields.length;
	const typeAt = fields.indexOf("type");
	const nameAt = fields.indexOf("name");
	const sizeAt = fields.indexOf("self_size");
	const { nodes, strings } = snapshot;
	const kinds = new Map();
	for (let i = 0; i < nodes.length; i += width) {
		const type = types[nodes[i + typeAt]];
		const name = type.includes("string") ? "" : strings[nodes[i + nameAt]].slice(0, 50);
		const key = `${type}:${name}`;
		const kind = kinds.get(key) ?? { count: 0, bytes: 0 };
		kind.count++;
		kind.bytes += nodes[i + sizeAt];
		kinds.set(key, kind);
	}
	return kinds;
}

/**
 * What grew from one snapshot to the other: rows per kind (largest first) and the totals of data and of compiled code,
 * in bytes.
 */
export function heapGrowth(beforeFile, afterFile) {
	const before = summarise(beforeFile);
	const rows = [];
	for (const [key, kind] of summarise(afterFile)) {
		const old = before.get(key) ?? { count: 0, bytes: 0 };
		if (kind.bytes !== old.bytes)
			rows.push({ key, count: kind.count - old.count, bytes: kind.bytes - old.bytes });
	}
	rows.sort((a, b) => b.bytes - a.bytes);
	let data = 0;
	let code = 0;
	for (const row of rows) {
		if (row.key.startsWith("code:")) code += row.bytes;
		else data += row.bytes;
	}
	return { rows, data, code };
}

function cli() {
	const [beforeFile, afterFile, per = "1"] = process.argv.slice(2);
	if (!beforeFile || !afterFile) {
		console.error("usage: node bench/src/heap-diff.mjs <before.heapsnapshot> <after.heapsnapshot> [count]");
		process.exit(2);
	}
	const divisor = Number(per);
	const { rows, data, code } = heapGrowth(beforeFile, afterFile);
	console.log(`data: ${(data / divisor).toFixed(1)} B each, code: ${(code / divisor).toFixed(1)} B each`);
	for (const row of rows.slice(0, 25)) {
		const bytes = (row.bytes / divisor).toFixed(1).padStart(9);
		const count = (row.count / divisor).toFixed(2).padStart(7);
		console.log(`${bytes} B ${count} × ${row.key}`);
	}
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) cli();
