import { type ChildProcess, spawn } from "node:child_process";

/** Prefix of the line the supervisor prints (before the engine starts) to report the engine's pid. */
export const PID_MARKER = "@@x-dev-engine:pid=";

/**
 * POSIX `sh` supervisor that runs the engine and makes sure it never outlives
 * the process that started it. Arguments: `$1` = grace seconds, `$2` = number
 * N of temp folders, then N folders to remove if the parent dies, then the
 * engine command line.
 *
 * - The engine is started through an inner `sh` that prints its own pid and
 *   then `exec`s the engine, so the reported pid is the engine's pid and the
 *   marker always comes before any engine output.
 * - Watcher 1 reads the supervisor's stdin (a pipe held by the parent). EOF
 *   means the parent is gone (even after SIGKILL), so it sends SIGUSR1 to the
 *   supervisor, which stops the engine.
 * - Watcher 2 checks every 0.5 s that the supervisor still has its original
 *   parent (reparenting happens the moment the parent dies, even while it is
 *   an unreaped zombie that `kill -0` would still find), as a second check.
 * - When the parent is gone, the temp folders are removed once the engine has
 *   exited (the parent cannot do it any more).
 * - SIGTERM/SIGINT/SIGHUP sent to the supervisor are forwarded as SIGTERM; if
 *   the engine is still alive after the grace period it is SIGKILLed.
 * - The supervisor reaps the engine and exits with the engine's exit status,
 *   so no zombie is left behind.
 */
export const SUPERVISOR_SCRIPT: string = `
grace=$1
n=$2
shift 2
cleanup=
while [ "$n" -gt 0 ]; do
	cleanup="$cleanup
$1"
	shift
	n=$((n - 1))
done
orphaned=
parent_alive() {
	if [ -r "/proc/$$/stat" ]; then
		read -r _ _ _ pp _ <"/proc/$$/stat"
		[ "$pp" = "$PPID" ]
		return
	fi
	pp=$(ps -o ppid= -p $$ 2>/dev/null) || pp=
	pp=$(echo $pp)
	if [ -n "$pp" ]; then
		[ "$pp" = "$PPID" ]
		return
	fi
	kill -0 "$PPID" 2>/dev/null
}
exec 3<&0
sh -c 'echo "${PID_MARKER}$$"; exec "$@"' x-dev-engine "$@" </dev/null 3<&- &
child=$!
# Only the engine writes to the parent's pipes: once the parent is gone, a write
# from the supervisor itself would kill it with SIGPIPE before it cleans up.
exec >/dev/null 2>&1
stopping=
killer=
stop_engine() {
	[ -n "$stopping" ] && return 0
	stopping=1
	kill -TERM "$child" 2>/dev/null
	(
		sleep "$grace" </dev/null >/dev/null 2>&1 &
		s=$!
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		wait "$s"
		kill -KILL "$child" 2>/dev/null
	) </dev/null >/dev/null 2>&1 3<&- &
	killer=$!
}
trap stop_engine TERM INT HUP
trap 'orphaned=1; stop_engine' USR1
(
	while read -r _; do :; done
	kill -USR1 $$ 2>/dev/null
) <&3 >/dev/null 2>&1 &
w1=$!
(
	while parent_alive; do sleep 0.5 2>/dev/null || sleep 1; done
	kill -USR1 $$ 2>/dev/null
) </dev/null >/dev/null 2>&1 3<&- &
w2=$!
exec 3<&-
while :; do
	wait "$child"
	code=$?
	kill -0 "$child" 2>/dev/null && continue
	# A trap may interrupt wait after the shell already reaped the engine: ask
	# once more for its real status (127 means it was already reported).
	wait "$child"
	again=$?
	[ "$again" -ne 127 ] && code=$again
	break
done
kill "$w1" "$w2" $killer 2>/dev/null
if [ -n "$orphaned" ] || ! parent_alive; then
	printf '%s\n' "$cleanup" | while IFS= read -r dir; do
		[ -n "$dir" ] && rm -rf -- "$dir"
	done
fi
exit "$code"
`;

/** Options for {@link spawnSupervised}. */
export interface SupervisedSpawnOptions {
	/** Environment of the engine. Default: the current process environment. */
	env?: Record<string, string | undefined>;
	/** Seconds the supervisor waits after SIGTERM before SIGKILL when the parent disappears. Default: 5. */
	graceSeconds?: number;
	/** Shell used to run the supervisor. Default: "/bin/sh". */
	shell?: string;
	/** Folders the supervisor removes after the engine exits if the parent has died. Default: none. */
	cleanupDirs?: readonly string[];
}

/**
 * Spawns `command args...` under the `sh` supervisor. The returned child is the
 * supervisor; its stdin is a pipe that must stay open for as long as the engine
 * should live. The engine pid is announced on stdout with {@link PID_MARKER}.
 */
export function spawnSupervised(
	command: string,
	args: readonly string[],
	options: SupervisedSpawnOptions = {},
): ChildProcess {
	const grace = String(Math.max(1, Math.ceil(options.graceSeconds ?? 5)));
	const dirs = options.cleanupDirs ?? [];
	return spawn(
		options.shell ?? "/bin/sh",
		[
			"-c",
			SUPERVISOR_SCRIPT,
			"x-dev-engine-supervisor",
			grace,
			String(dirs.length),
			...dirs,
			command,
			...args,
		],
		// Its own process group: a terminal Ctrl-C reaches the app (which can drain its runner first), not the engine.
		// The watchdog still ends the engine when the app goes away.
		{ stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env, detached: true },
	);
}
