/**
 * The sandbox every student's checks run in when work is graded: bubblewrap (`bwrap`), a
 * standard tool built on Linux namespaces. Inside it:
 *   - no network (a network namespace of its own, with only a loopback that nobody serves),
 *     its own process tree (nothing outside is visible or can be signalled; every process the
 *     worker starts dies with it), its own IPC and host name;
 *   - the system (/usr, /lib*, a few files of /etc) read-only, and of the workbook only what the
 *     checks need: the staged copy (read-only but for its chapters/ folder), node_modules and the
 *     pinned Node.js of each architecture, read-only; the instructor's home, the workbook's
 *     solutions/, other students' copies and the grade files do not exist in it;
 *   - a private /tmp of bounded size; no environment variable of the instructor's;
 *   - limits (prlimit): CPU seconds, data memory, open files, the size of any one file written
 *     (output and disk), no core dumps;
 *   - Node.js with frozen intrinsics: the student's code cannot redefine the built-ins
 *     (Object.is, Array.prototype, …) the checks and their assertions rely on.
 * The runner's own CPU-time and wall-clock budgets still apply to each check, counted over the
 * whole process tree of the sandbox (treeCpuTimeMs).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Launcher } from '#native/platform.ts';

/** The exact command that installs the sandbox tool on Debian and Ubuntu. */
export const SANDBOX_INSTALL = 'sudo apt-get install -y bubblewrap';

export interface SandboxLimits {
  /** CPU seconds a worker may use in all (each check has its own, smaller budget in the runner). */
  cpuSeconds: number;
  /** Data memory (heap and private mappings) of each process. */
  memoryBytes: number;
  openFiles: number;
  /** The largest file a process may write: bounds output kept on disk and a disk filled one file at a time. */
  fileBytes: number;
  /** The private /tmp. */
  tmpBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_LIMITS: SandboxLimits = { cpuSeconds: 600, memoryBytes: 3072 * MiB, openFiles: 1024, fileBytes: 64 * MiB, tmpBytes: 256 * MiB };

export type SandboxProbe = { ok: true; tool: string } | { ok: false; reason: string; fix: string };

/** Whether bubblewrap is installed and can create its namespaces here (it starts `true` in an empty sandbox). */
export function probeSandbox(): SandboxProbe {
  const version = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
  if (version.error) return { ok: false, reason: 'bubblewrap (bwrap) is not installed', fix: SANDBOX_INSTALL };
  const tool = version.stdout.trim();
  const tried = spawnSync('bwrap', [...systemBinds(), '--unshare-all', '--die-with-parent', '--proc', '/proc', '--dev', '/dev', '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (tried.status !== 0) {
    const said = `${tried.stderr ?? ''}`.trim().split('\n')[0] || (tried.error?.message ?? `exit ${tried.status}`);
    return {
      ok: false,
      reason: `${tool} cannot create its namespaces here: ${said}`,
      fix: 'allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1) or grade as root',
    };
  }
  return { ok: true, tool };
}

/** Read-only binds of the system: programs, libraries (both architectures' under /usr), the loader's cache. */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  for (const file of ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/localtime']) if (existsSync(file)) args.push('--ro-bind', file, file);
  return args;
}

/** Read-only binds of `path` at the path it is reached by and at its real path (symbolic links between copies of the workbook). */
function readOnlyAt(path: string): string[] {
  if (!existsSync(path)) return [];
  const real = realpathSync(path);
  return real === path ? ['--ro-bind', real, path] : ['--ro-bind', real, real, '--ro-bind', real, path];
}

/**
 * `launcher`, run in a sandbox around the staged copy `staged` of a student's work. `root` is
 * the workbook whose node_modules and toolchain the staged copy links to.
 */
export function sandboxedLauncher(launcher: Launcher, staged: string, root: string, limits: SandboxLimits = DEFAULT_LIMITS): Launcher {
  const toolchain = join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? root, '.toolchain');
  // The programs the launcher names (the pinned Node.js of each architecture, qemu) with the folder they were unpacked in.
  const programs = [launcher.command, ...launcher.prefix].filter((p) => isAbsolute(p) && existsSync(p) && !p.startsWith('/usr/'));
  const binds = [
    ...systemBinds(),
    '--size', String(limits.tmpBytes), '--tmpfs', '/tmp',
    '--tmpfs', '/var/tmp',
    '--ro-bind', staged, staged,
    '--bind', join(staged, 'chapters'), join(staged, 'chapters'),
    ...readOnlyAt(join(root, 'node_modules')),
    ...readOnlyAt(toolchain),
    ...programs.flatMap((p) => readOnlyAt(dirname(dirname(p)))),
    '--proc', '/proc',
    '--dev', '/dev',
  ];
  const environment = [
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'TMPDIR', '/tmp',
    '--setenv', 'NODE_OPTIONS', '',
    '--setenv', 'NODE_COMPILE_CACHE', '/tmp/compile-cache',
    '--setenv', 'WORKBOOK_MODE', launcher.mode,
    '--setenv', 'FORCE_COLOR', '0',
  ];
  const prlimit = [
    'prlimit',
    `--cpu=${limits.cpuSeconds}`,
    `--data=${limits.memoryBytes}`,
    `--nofile=${limits.openFiles}`,
    `--fsize=${limits.fileBytes}`,
    '--core=0',
    '--',
  ];
  return {
    ...launcher,
    command: 'bwrap',
    prefix: ['--unshare-all', '--die-with-parent', '--new-session', '--as-pid-1', '--chdir', staged, ...binds, ...environment, '--', ...prlimit, launcher.command, ...launcher.prefix, '--frozen-intrinsics'],
  };
}

/**
 * CPU time (user + system, ms) of process `pid` and every process below it: a sandboxed
 * worker is a child of bwrap, and whatever it starts counts against its budget too.
 */
export function treeCpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  const parentOf = new Map<number, number>();
  const timeOf = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
      timeOf.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
    } catch {
      // gone meanwhile
    }
  }
  if (!timeOf.has(pid)) return null;
  let total = 0;
  for (const [child, time] of timeOf) {
    for (let p: number | undefined = child, depth = 0; p !== undefined && p > 1 && depth < 64; p = parentOf.get(p), depth++) {
      if (p === pid) {
        total += time;
        break;
      }
    }
  }
  return total;
}

/**
 * The worker inside a sandbox started as `pid` (bwrap, whose one child is the worker: it runs
 * as process 1 of the sandbox), so that the runner's SIGUSR2 (report where you are) reaches
 * it rather than bwrap, which would just die of it.
 */
export function sandboxedWorkerPid(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
