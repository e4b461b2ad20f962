import { constants } from "node:fs";
import { access, mkdir, stat, unlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { DevEngineError } from "./errors.ts";

function errCode(err: unknown): string {
	return (err as { code?: string }).code ?? String(err);
}

/**
 * Resolves the engine binary (`given`, else `getEnginePath()` of `@rivetkit/engine-cli`) and checks it is an
 * executable file.
 * @throws DevEngineError BINARY_NOT_FOUND
 */
export async function resolveBinary(given: string | undefined): Promise<string> {
	let path = given;
	if (path === undefined) {
		try {
			const require = createRequire(import.meta.url);
			path = (require("@rivetkit/engine-cli") as { getEnginePath(): string }).getEnginePath();
		} catch (err) {
			throw new DevEngineError(
				"BINARY_NOT_FOUND",
				`could not locate the rivet-engine binary: ${String(err)}`,
				{
					cause: err,
				},
			);
		}
	}
	try {
		if (!(await stat(path)).isFile()) throw Object.assign(new Error("not a file"), { code: "ENOTFILE" });
		await access(path, constants.X_OK);
	} catch (err) {
		throw new DevEngineError(
			"BINARY_NOT_FOUND",
			`engine binary ${path} is missing or not executable (${errCode(err)})`,
			{
				cause: err,
			},
		);
	}
	return path;
}

/**
 * Creates `dir` (recursively) and checks a file can be written in it.
 * @throws DevEngineError DATA_DIR_UNUSABLE naming the folder
 */
export async function prepareDataDir(dir: string): Promise<void> {
	const probe = join(dir, `.x-dev-engine-probe-${process.pid}-${Date.now()}`);
	try {
		await mkdir(dir, { recursive: true });
		await writeFile(probe, "");
		await unlink(probe);
	} catch (err) {
		throw new DevEngineError(
			"DATA_DIR_UNUSABLE",
			`data folder ${dir} cannot be created or written (${errCode(err)})`,
			{
				cause: err,
			},
		);
	}
}
