/**
 * The sandbox every student's checks run in when work is graded: bubblewrap (`bwrap`), a
 * standard tool built on Linux namespaces. Inside it:
 *   - no network (a network namespace of its own, with only a loopback that nobody serves),
 *     its own process tree (nothing outside is visible or can be signalled; every process the
 *     worker starts dies with it), its own IPC and host name;
 *   - the system (/usr, /lib*, a few files of /etc) read-only, but for what a machine adds of its
 *     own under /usr (HIDDEN_SYSTEM_FOLDERS: /usr/local, where an instructor's own programs and
 *     files live, and the folders of globally installed npm packages, where a copy of this
 *     workbook installed for its `jot` command would hold solutions/), which are empty; of the
 *     workbook only what the
 *     checks need: the staged copy (read-only but for its chapters/ folder), node_modules and the
 *     pinned Node.js of each architecture, read-only; the instructor's home, the workbook's
 *     solutions/, other students' copies and the grade files do not exist in it;
 *   - a private /tmp of bounded size (/var/tmp is the same folder), and the writable chapters/
 *     a copy in memory of bounded size too: nothing the worker writes reaches the grader's
 *     disk; no environment variable of the instructor's;
 *   - no reference code that the checks of the chapter graded do not run (referenceHiddenFrom):
 *     grading as root, the sandbox mounts an empty folder over each before the worker drops
 *     root (referenceHider); otherwise where the launcher is given them (`emptied`);
 *   - limits (prlimit): CPU seconds, data memory, processes, open files, the size of any one
 *     file written (output and disk), no core dumps;
 *   - a user that is not root: Linux does not hold root to its process limit, even root mapped
 *     into a user namespace, so a grader running as root starts the sandbox without a user
 *     namespace and the worker drops to a user id of its own (setpriv: no capabilities, no new
 *     privileges), one per staged copy, so one student's processes never count against
 *     another's limit; a grader that is not root runs it as itself in a user namespace;
 *   - Node.js with frozen intrinsics: the student's code cannot redefine the built-ins
 *     (Object.is, Array.prototype, …) the checks and their assertions rely on.
 * The runner's own CPU-time and wall-clock budgets still apply to each check, counted over the
 * whole process tree of the sandbox (treeCpuTimeMs).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { Launcher } from '#native/platform.ts';
import { CHAPTERS, chapterDir, type Chapter } from '../manifest.ts';

/** The exact command that installs the sandbox tool on Debian and Ubuntu. */
export const SANDBOX_INSTALL = 'sudo apt-get install -y bubblewrap';

export interface SandboxLimits {
  /** CPU seconds a worker may use in all (each check has its own, smaller budget in the runner). */
  cpuSeconds: number;
  /**
   * Data memory (heap and private mappings) of each process, and, where the grader can make a
   * control group (sandboxGroup), the memory of all the sandbox's processes together.
   */
  memoryBytes: number;
  /**
   * Processes and threads of the sandbox's user (Linux counts threads: a Node.js worker has
   * about a dozen, and under qemu-user as many again).
   */
  processes: number;
  openFiles: number;
  /** The largest file a process may write: bounds output kept on disk and a disk filled one file at a time. */
  fileBytes: number;
  /** The private /tmp, and the room a worker has to write in its chapters/ beside the student's files. */
  tmpBytes: number;
  /**
   * The most of the student's own files a worker's chapters/ holds (it is memory): a folder
   * larger than this does not fit, and the worker stops before it lists a check, saying so.
   */
  studentBytes: number;
}

const MiB = 1024 * 1024;
export const DEFAULT_LIMITS: SandboxLimits = { cpuSeconds: 600, memoryBytes: 3072 * MiB, processes: 512, openFiles: 1024, fileBytes: 64 * MiB, tmpBytes: 256 * MiB, studentBytes: 256 * MiB };

/** `ownUsers`: each student's worker runs as a user of its own (grading as root), which the process limit needs. */
export type SandboxProbe = { ok: true; tool: string; ownUsers: boolean } | { ok: false; reason: string; fix: string };

/** Whether bubblewrap is installed and can create its namespaces here (it starts `true` in an empty sandbox). */
export function probeSandbox(): SandboxProbe {
  const version = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
  if (version.error) return { ok: false, reason: 'bubblewrap (bwrap) is not installed', fix: SANDBOX_INSTALL };
  const tool = version.stdout.trim();
  // As root, the way the workers will run: no user namespace, then down to a user of their own under a process limit.
  const user = process.getuid?.() === 0 ? { uid: SANDBOX_UID_BASE, gid: SANDBOX_UID_BASE } : undefined;
  const { namespaces, dropRoot } = isolation(user);
  const tried = spawnSync('bwrap', [...systemBinds(), ...namespaces, '--die-with-parent', '--proc', '/proc', '--dev', '/dev', '--', ...dropRoot, 'prlimit', '--nproc=64', '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (tried.status !== 0) {
    const said = `${tried.stderr ?? ''}`.trim().split('\n')[0] || (tried.error?.message ?? `exit ${tried.status}`);
    return user
      ? { ok: false, reason: `${tool} cannot start a worker as a user of its own here: ${said}`, fix: 'install util-linux (setpriv, prlimit): sudo apt-get install -y util-linux' }
      : {
          ok: false,
          reason: `${tool} cannot create its namespaces here: ${said}`,
          fix: 'allow unprivileged user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1) or grade as root',
        };
  }
  return { ok: true, tool, ownUsers: user !== undefined };
}

/**
 * The namespaces a sandbox gets, and what drops root inside it: with a user (grading as root),
 * every namespace but the user namespace, then setpriv to that user, without capabilities or a
 * way back; without one, every namespace, the worker running as the grader.
 */
function isolation(user: SandboxUser | undefined): { namespaces: string[]; dropRoot: string[] } {
  if (!user) return { namespaces: ['--unshare-all'], dropRoot: [] };
  return {
    namespaces: ['--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup-try'],
    dropRoot: ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--'],
  };
}

/**
 * Folders of /usr that hold what a machine's owner added rather than the system: empty in the
 * sandbox. A program the worker needs from one of them (a Node.js in /usr/local/bin) is bound
 * back alone (sandboxedLauncher).
 */
export const HIDDEN_SYSTEM_FOLDERS = ['/usr/local', '/usr/lib/node_modules', '/usr/share/nodejs'];

/** Read-only binds of the system: programs, libraries (both architectures' under /usr), the loader's cache. */
function systemBinds(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of HIDDEN_SYSTEM_FOLDERS) if (existsSync(dir)) args.push('--perms', '0755', '--tmpfs', dir);
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  // Folders bwrap makes for a mount point are root's alone: these must be passable by a worker that is not root.
  args.push('--perms', '0755', '--dir', '/etc', '--perms', '0755', '--dir', '/var');
  for (const file of ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/localtime']) if (existsSync(file)) args.push('--ro-bind', file, file);
  return args;
}

/** Read-only binds of `path` at the path it is reached by and at its real path (symbolic links between copies of the workbook). */
function readOnlyAt(path: string): string[] {
  if (!existsSync(path)) return [];
  const real = realpathSync(path);
  return real === path ? ['--ro-bind', real, path] : ['--ro-bind', real, real, '--ro-bind', real, path];
}

/** Who the code under test runs as: a user id of its own when grading as root, else the grader's. */
export interface SandboxUser {
  uid: number;
  gid: number;
}

/**
 * User ids far above any a system gives its users (and above the usual subordinate ranges of
 * /etc/subuid), one per staged copy graded by this process.
 */
const SANDBOX_UID_BASE = 1_900_000_000;
let usersGiven = 0;

/**
 * The user a staged copy's sandbox runs as (undefined when the grader is not root: the
 * sandbox then runs as the grader), with the staged copy made usable by it: the copy readable,
 * its chapters/ (the one writable place) owned by it.
 */
export function sandboxUserFor(staged: string): SandboxUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = SANDBOX_UID_BASE + ((process.pid % 100_000) * 1000 + (usersGiven++ % 1000));
  chmodSync(staged, 0o755);
  const own = (path: string) => {
    chownSync(path, id, id);
    if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) own(join(path, entry));
  };
  own(join(staged, 'chapters'));
  return { uid: id, gid: id };
}

/**
 * The folders above the mount points of `mounts` (`--ro-bind FROM TO` …), made beforehand and
 * readable by all: bwrap would make them for root alone, which a worker that is not root
 * could not pass through. (/tmp, /etc and the system folders exist already.)
 */
function folderPaths(mounts: readonly string[]): string[] {
  const folders = new Set<string>();
  for (let i = 0; i + 2 < mounts.length; i += 3) {
    for (let dir = dirname(mounts[i + 2]!); dir !== '/' && dir !== '.'; dir = dirname(dir)) folders.add(dir);
  }
  // The tmpfs folders may hold new folders; the bound system folders are read-only.
  const made = ['/tmp', '/var/tmp', '/var', '/etc', ...HIDDEN_SYSTEM_FOLDERS];
  const bound = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/dev'];
  const under = (dir: string, folders: readonly string[]) => folders.some((r) => dir === r || dir.startsWith(`${r}/`));
  return [...folders]
    .filter((dir) => !made.includes(dir) && (under(dir, HIDDEN_SYSTEM_FOLDERS) || !under(dir, bound)))
    .sort((a, b) => a.split('/').length - b.split('/').length)
    .flatMap((dir) => ['--perms', '0755', '--dir', dir]);
}

/**
 * The folders of reference code staged in `staged` (for the checks that run a reference:
 * chapter 07's compare with chapter 06's interpreter) that a worker of `chapter` must not see:
 * every one that neither its checks nor the check library import when they run (an import of
 * types only does not count), but for the reference the grader chose to lean on (the import
 * guard's allowed folders). A student's code can read any file its worker can, and copy it
 * into its own folder, where the import guard allows it; hidden, chapter 06's reference is not
 * there to copy when chapter 06 is graded. (A chapter whose checks run its own reference in
 * the worker, chapters 10 and 11, keeps it: that reference is as readable as the check.)
 */
export function referenceHiddenFrom(staged: string, chapter: Chapter): string[] {
  const solutions = join(staged, 'solutions');
  if (!existsSync(solutions)) return [];
  let allowed: string[] = [];
  try {
    allowed = (JSON.parse(readFileSync(join(staged, '.import-guard'), 'utf8')) as { allowed?: string[] }).allowed ?? [];
  } catch {
    // no guard: nothing was chosen
  }
  const reached = filesImportedFrom([join(staged, 'checks', chapterDir(chapter)), join(staged, 'checks', 'harness')]);
  const used = new Set([...reached].filter((file) => file.startsWith(`${solutions}/`)).map((file) => file.slice(solutions.length + 1).split('/')[0]!));
  return readdirSync(solutions, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !used.has(entry.name) && !allowed.includes(`solutions/${entry.name}`))
    .map((entry) => join(solutions, entry.name));
}

/** A relative specifier a module imports when it runs: a static import or export that is not `import type`, or an awaited import(). */
const RUNTIME_IMPORT = /(?:^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s*|^\s*import\s*|\bawait\s+import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** The source files under `dirs`, and every file they import when they run, followed through relative imports. */
function filesImportedFrom(dirs: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const pending: string[] = [];
  const add = (file: string) => {
    if (!seen.has(file) && /\.[cm]?[jt]s$/.test(file) && existsSync(file)) (seen.add(file), pending.push(file));
  };
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) (entry.isDirectory() ? walk : add)(join(dir, entry.name));
  };
  dirs.forEach(walk);
  while (pending.length) {
    const file = pending.pop()!;
    for (const match of readFileSync(file, 'utf8').matchAll(RUNTIME_IMPORT)) add(join(dirname(file), match[1]!));
  }
  return seen;
}

/**
 * `launcher`, run in a sandbox around the staged copy `staged` of a student's work. `root` is
 * the workbook whose node_modules and toolchain the staged copy links to; `user` (see
 * sandboxUserFor) the user the worker drops to when the grader is root; `emptied`, folders of
 * the staged copy that are empty in the sandbox (referenceHiddenFrom).
 */
export function sandboxedLauncher(launcher: Launcher, staged: string, root: string, limits: SandboxLimits = DEFAULT_LIMITS, user?: SandboxUser, emptied: readonly string[] = [], group?: SandboxGroup): Launcher {
  const toolchain = join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? root, '.toolchain');
  // The programs the launcher names (the pinned Node.js of each architecture, qemu) with the folder they were unpacked in;
  // one in a hidden folder of /usr alone.
  const named = [launcher.command, ...launcher.prefix].filter((p) => isAbsolute(p) && existsSync(p));
  const hidden = (p: string) => HIDDEN_SYSTEM_FOLDERS.some((dir) => p.startsWith(`${dir}/`));
  const mounts = [
    ...readOnlyAt(join(root, 'node_modules')),
    ...readOnlyAt(toolchain),
    ...named.filter((p) => !p.startsWith('/usr/')).flatMap((p) => readOnlyAt(dirname(dirname(p)))),
    ...named.filter(hidden).flatMap((p) => readOnlyAt(p)),
  ];
  const chapters = join(staged, 'chapters');
  const studentBytes = folderBytes(chapters);
  const binds = [
    ...systemBinds(),
    '--size', String(limits.tmpBytes), '--perms', '01777', '--tmpfs', '/tmp',
    // One bounded folder for temporary files: /var/tmp is /tmp.
    '--symlink', '../tmp', '/var/tmp',
    '--ro-bind', staged, staged,
    // The student's chapters/ as staged, read-only, and the writable chapters/ the worker runs
    // in: memory of a bounded size that the worker fills with a copy of them before it starts
    // (studentCopy), so whatever it writes there never reaches the grader's disk.
    '--perms', '0755', '--dir', dirname(STAGED_CHAPTERS),
    '--ro-bind', chapters, STAGED_CHAPTERS,
    '--size', String(Math.min(studentBytes, limits.studentBytes) + limits.tmpBytes), '--perms', '01777', '--tmpfs', chapters,
    ...folderPaths(mounts),
    ...mounts,
    ...emptied.filter((dir) => dir.startsWith(`${staged}/`)).flatMap((dir) => ['--perms', '0755', '--tmpfs', dir, '--remount-ro', dir]),
    '--proc', '/proc',
    '--dev', '/dev',
    // The folders bwrap made in memory (its root with /etc, /var and /run, /dev, the emptied
    // folders of /usr): read-only, as they are to a worker that is not root. A worker that runs
    // as the grader, in a user namespace, owns them, and could fill memory through them.
    ...['/dev', ...HIDDEN_SYSTEM_FOLDERS.filter((dir) => existsSync(dir)), '/'].flatMap((dir) => ['--remount-ro', dir]),
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
  const { namespaces, dropRoot } = isolation(user);
  const prlimit = [
    'prlimit',
    `--cpu=${limits.cpuSeconds}`,
    `--data=${limits.memoryBytes}`,
    `--nproc=${limits.processes}`,
    `--nofile=${limits.openFiles}`,
    `--fsize=${limits.fileBytes}`,
    '--core=0',
    '--',
  ];
  // In a control group, a shell joins it first and becomes bwrap (exec: the same process), so
  // that every process of the sandbox is in the group from its start.
  const joinGroup = group && group.dirs.every((dir) => /^[\w./-]+$/.test(dir))
    ? ['/bin/sh', '-c', `${group.dirs.map((dir) => `echo $$ > ${dir}/cgroup.procs`).join(' && ')} || exit 125; exec "$@"`, 'sh', 'bwrap']
    : undefined;
  return {
    ...launcher,
    command: joinGroup ? joinGroup[0]! : 'bwrap',
    // bwrap's own process 1 in the sandbox (not the worker: --as-pid-1) keeps --die-with-parent
    // working after the worker drops root, which clears a parent-death signal: when bwrap dies,
    // its process 1 dies, and with it every process of the sandbox.
    prefix: [...(joinGroup ? joinGroup.slice(1) : []), ...namespaces, '--die-with-parent', '--new-session', '--chdir', staged, ...binds, ...environment, '--', ...(user ? referenceHider(staged) : []), ...dropRoot, ...prlimit, ...studentCopy(chapters, studentBytes > limits.studentBytes ? `the student's chapters/ hold ${mib(studentBytes)} MiB, more than the ${mib(limits.studentBytes)} MiB a sandbox holds` : undefined), launcher.command, ...launcher.prefix, '--frozen-intrinsics'],
  };
}

/**
 * Grading as root, what runs first in the sandbox, with root's powers still: it finds the
 * chapter the worker starts for (the argument after worker.ts: runner.ts startWorker), mounts
 * an empty read-only folder over every reference that chapter's checks do not run
 * (referenceHiddenFrom), then goes on (exec) to drop root. A worker whose chapter it cannot
 * find sees no reference at all. (A grader that is not root cannot mount in its sandbox: the
 * launcher's `emptied` folders are the way there.)
 */
function referenceHider(staged: string): string[] {
  const solutions = join(staged, 'solutions');
  if (!existsSync(solutions)) return [];
  const every = readdirSync(solutions).map((name) => join(solutions, name));
  // The folders go into the script as words: a path that is not one word hides nothing rather than something else.
  if (every.some((dir) => !/^[\w./-]+$/.test(dir))) return [];
  const cases = CHAPTERS.map((c) => `${chapterDir(c)}) hide='${referenceHiddenFrom(staged, c).join(' ')}';;`).join(' ');
  const script = [
    'chapter=; next=',
    'for arg in "$@"; do if [ -n "$next" ]; then chapter=$arg; break; fi; case $arg in */checks/harness/worker.ts) next=1;; esac; done',
    `hide='${every.join(' ')}'`,
    `case $chapter in ${cases} esac`,
    'for dir in $hide; do mount -t tmpfs -o ro,size=4k,mode=755 reference-hidden "$dir" || exit 125; done',
    'exec "$@"',
  ].join('; ');
  return ['/bin/sh', '-c', script, 'sh'];
}

/** A control group that bounds one sandbox's processes together (sandboxGroup). */
export interface SandboxGroup {
  /** The group's folder in each hierarchy it was made in: a process joins by writing its pid to `cgroup.procs` there. */
  readonly dirs: readonly string[];
  /** Removes the group (once its processes have ended). */
  remove(): void;
}

/**
 * A control group for one sandbox, so that its processes together use no more memory than
 * `limits.memoryBytes` and are no more than `limits.processes` (per-process limits alone let a
 * student fork many processes that each stay under them). Made where the grader may make one
 * (root, with cgroup v2, or v1's memory and pids hierarchies); otherwise undefined, and the
 * per-process limits (prlimit) stand alone.
 */
export function sandboxGroup(limits: SandboxLimits): SandboxGroup | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const name = `workbook-${randomBytes(6).toString('hex')}`;
  const made: string[] = [];
  const remove = () => {
    for (const dir of made) {
      try {
        rmdirSync(dir);
      } catch {
        // a process still in it, or gone already: the group is empty and harmless
      }
    }
  };
  const make = (dir: string, settings: Record<string, number>) => {
    mkdirSync(dir);
    made.push(dir);
    for (const [file, value] of Object.entries(settings)) writeFileSync(join(dir, file), String(value));
  };
  try {
    if (existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      make(join('/sys/fs/cgroup', name), { 'memory.max': limits.memoryBytes, 'memory.swap.max': 0, 'pids.max': limits.processes });
    } else {
      if (!existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) return undefined;
      make(join('/sys/fs/cgroup/memory', name), { 'memory.limit_in_bytes': limits.memoryBytes });
      if (existsSync('/sys/fs/cgroup/pids/cgroup.procs')) make(join('/sys/fs/cgroup/pids', name), { 'pids.max': limits.processes });
    }
    return { dirs: [...made], remove };
  } catch {
    remove();
    return undefined;
  }
}

/** Where the sandbox shows the student's staged chapters/ read-only, for studentCopy. */
const STAGED_CHAPTERS = '/run/student-chapters';

/**
 * What the worker runs first, as its own user and under its limits: a copy of the student's
 * staged chapters/ into the bounded chapters/ it runs in, then (exec) the worker itself. A
 * copy that does not fit, or a folder known to be too large (`refused` says why), ends the
 * worker before it lists a check, with a message that says so.
 */
function studentCopy(chapters: string, refused?: string): string[] {
  if (refused !== undefined) return ['/bin/sh', '-c', 'echo "$1" >&2; exit 125', 'sh', refused];
  const script = 'cp -R "$1/." "$2/" || { echo "the student\'s chapters/ could not be copied into the sandbox" >&2; exit 125; }; shift 2; exec "$@"';
  return ['/bin/sh', '-c', script, 'sh', STAGED_CHAPTERS, chapters];
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

/** The bytes of the files under `dir` (symbolic links are not followed: staging leaves none). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

/**
 * CPU time (user + system, ms) of process `pid` and every process below it, those that have
 * ended too: a sandboxed worker is a child of bwrap, and whatever it starts counts against
 * its budget, however briefly it lives.
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
      // utime and stime, then cutime and cstime: the time of its children that have ended and
      // been waited for, which no longer have an entry of their own (work done in short-lived
      // processes counts too). A child still running is not in its parent's, so nothing counts twice.
      timeOf.set(Number(entry), ((Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 1000) / 100);
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
 * The worker inside a sandbox started as `pid` (bwrap, then bwrap's process 1 of the sandbox,
 * then the worker), so that the runner's SIGUSR2 (report where you are) reaches it rather than
 * bwrap, which would just die of it.
 */
export function sandboxedWorkerPid(pid: number | undefined): number | undefined {
  const childOf = (parent: number): { pid: number; name: string } | undefined => {
    for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) return { pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) };
      } catch {
        // gone meanwhile
      }
    }
    return undefined;
  };
  let found = pid === undefined ? undefined : childOf(pid);
  for (let depth = 0; found?.name === 'bwrap' && depth < 3; depth++) found = childOf(found.pid);
  return found?.pid;
}

/**
 * The signal that ended a sandboxed worker: bwrap exits with 128 + the signal's number when
 * its child is killed by one, where a process started directly reports the signal itself.
 */
export function signalFromExitCode(exitCode: number | null): NodeJS.Signals | null {
  if (exitCode === null || exitCode <= 128 || exitCode >= 128 + 65) return null;
  const found = Object.entries(osConstants.signals).find(([, number]) => number === exitCode - 128);
  return found ? (found[0] as NodeJS.Signals) : null;
}
