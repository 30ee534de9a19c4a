/**
 * npm run doctor
 *
 * Checks the setup and says what will run where: the host, the Node.js that runs the
 * workbook's commands, the packages, and for each architecture the pinned Node.js that runs
 * the checks (natively or under qemu-user) started for real, loading koffi and doing a W^X
 * round trip (map, write `return 42`, seal, call, unmap); then capstone, and the pristine
 * copy `npm run reset` uses.
 * Every problem comes with the exact command that fixes it. Exit code 1 if any.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ARCH_NAMES, ARCHES, type Arch } from '#native/arch.ts';
import { availability, installCommand, type Launcher } from '#native/platform.ts';
import { CHAPTERS, chapterDir } from '../manifest.ts';
import { color, runMain, workbookRoot } from './main.ts';
import { snapshotDir, snapshotVersion } from './pristine.ts';
import { probeSandbox } from '../harness/sandbox.ts';
import { workbookVersion } from './state.ts';

export interface Finding {
  ok: boolean;
  topic: string;
  said: string;
  /** The exact command or step that fixes it (problems only). */
  fix?: string;
  /** Not having it limits what runs, but nothing is broken. */
  warning?: boolean;
}

interface ProbeReport {
  arch: string;
  node: string;
  koffi?: string;
  steps: string[];
  ok: boolean;
  error?: string;
}

function probe(root: string, launcher: Launcher): { report?: ProbeReport; failure?: string } {
  const run = spawnSync(launcher.command, [...launcher.prefix, ...launcher.typescript, join(root, 'checks', 'tools', 'probe.ts')], {
    cwd: root,
    encoding: 'utf8',
    timeout: launcher.mode === 'emulated' ? 120_000 : 30_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = run.stdout?.split('\n').find((l) => l.startsWith('{'));
  if (line) return { report: JSON.parse(line) as ProbeReport };
  const why = run.error ? run.error.message : run.signal ? `killed by ${run.signal}` : `exit code ${run.status}`;
  const said = `${run.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
  return { failure: `${why}${said ? `: ${said}` : ''}` };
}

function packageVersion(name: string, root: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * Both architectures run the learner's TypeScript in the same pinned Node.js, with type
 * stripping, so that a check never passes on one and fails on the other for a reason that
 * is not the architecture.
 */
function checksNode(arch: Arch, launcher: Launcher, started: string, pinned: string): Finding {
  const topic = `checks ${ARCH_NAMES[arch]}`;
  if (launcher.standIn) return { ok: false, warning: true, topic, said: launcher.standIn, fix: 'npm run setup' };
  if (started !== `v${pinned}`) {
    return { ok: false, topic, said: `run in Node.js ${started}, but the workbook pins ${pinned}`, fix: 'npm run setup (fetches the pinned Node.js)' };
  }
  return { ok: true, topic, said: `run in the workbook's Node.js ${started}, TypeScript by type stripping (the same on both architectures)` };
}

export async function diagnose(root: string, host: Arch): Promise<Finding[]> {
  const findings: Finding[] = [];
  const pinned = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workbook: { node: string } }).workbook.node;
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  findings.push({
    ok: process.platform === 'linux',
    topic: 'host',
    said: `${process.platform} on ${ARCH_NAMES[host]}`,
    ...(process.platform === 'linux' ? {} : { fix: 'the book and the typecheck work here, but the checks, npm run jit and npm run bench run machine code through Linux system calls: use Linux (a Linux machine, WSL 2 on Windows, or a Linux container such as `docker run -it -v "$PWD":/work -w /work node:20 bash`)' }),
  });
  const nodeOk = major > 20 || (major === 20 && minor >= 10);
  findings.push({ ok: nodeOk, topic: 'Node.js', said: `${process.version} runs the workbook's commands (20.10 or newer needed)`, ...(nodeOk ? {} : { fix: 'install Node.js 20 LTS or newer (https://nodejs.org/ or your package manager), then npm install' }) });

  const missing = ['tsx', 'uvu', 'koffi', 'capstone-wasm', 'typescript'].filter((p) => !packageVersion(p, root));
  findings.push({
    ok: missing.length === 0,
    topic: 'packages',
    said: missing.length ? `missing: ${missing.join(', ')}` : `tsx ${packageVersion('tsx', root)}, koffi ${packageVersion('koffi', root)}, capstone-wasm ${packageVersion('capstone-wasm', root)}, typescript ${packageVersion('typescript', root)}`,
    ...(missing.length ? { fix: 'npm install' } : {}),
  });

  for (const arch of [host, ...ARCHES.filter((a) => a !== host)]) {
    const found = availability(arch, root);
    const name = ARCH_NAMES[arch];
    if (!found.available) {
      findings.push({ ok: false, warning: true, topic: name, said: `cannot run here: ${found.reason}; its checks are reported as skipped`, fix: installCommand(arch) });
      continue;
    }
    const { launcher } = found;
    const how = launcher.mode === 'native' ? 'native' : `emulated (${launcher.command.split('/').pop()} runs ${launcher.prefix.at(-1)?.replace(`${root}/`, '')})`;
    // The one-liner: does this architecture's Node.js start and load koffi?
    const started = spawnSync(launcher.command, [...launcher.prefix, '--input-type=module', '-e', "const k = (await import('koffi')).default; console.log(process.arch, process.version, k.version)"], {
      cwd: root,
      encoding: 'utf8',
      timeout: launcher.mode === 'emulated' ? 120_000 : 30_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const answer = started.stdout?.trim() ?? '';
    if (started.status !== 0 || !answer.startsWith(arch)) {
      const why = started.error?.message ?? (`${started.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-1)[0] || `exit code ${started.status}`);
      const fix = launcher.mode === 'native' ? 'npm install (koffi ships a prebuilt module for this machine; reinstalling fetches it)' : 'npm run setup (fetches that Node.js and koffi for it again)';
      findings.push({ ok: false, topic: name, said: `${how}: Node.js did not start or koffi did not load (${why})`, fix });
      continue;
    }
    const [, nodeVersion, koffiVersion] = answer.split(/\s+/);
    findings.push({ ok: true, topic: name, said: `${how}: Node.js ${nodeVersion} starts, koffi ${koffiVersion} loads` });
    findings.push(checksNode(arch, launcher, nodeVersion ?? '?', pinned));
    const { report, failure } = probe(root, launcher);
    if (report?.ok) {
      findings.push({ ok: true, topic: `W^X ${name}`, said: report.steps.slice(1).join(' → ') });
    } else {
      const said = report ? `stopped after '${report.steps.at(-1) ?? 'start'}': ${report.error}` : `the probe crashed (${failure})`;
      findings.push({ ok: false, topic: `W^X ${name}`, said, fix: 'the kernel may forbid executable mappings (SELinux deny_execmem, a hardened container with noexec memory): run the workbook on a machine or container that allows mprotect(PROT_EXEC)' });
    }
  }

  try {
    const { disassemble } = await import('#native/disasm.ts');
    const x64 = disassemble([0xc3], 'x64')[0]?.text;
    const arm64 = disassemble([0xc0, 0x03, 0x5f, 0xd6], 'arm64')[0]?.text;
    const ok = x64 === 'ret' && arm64 === 'ret';
    findings.push({ ok, topic: 'capstone', said: `c3 → ${x64} (x86-64), c0 03 5f d6 → ${arm64} (AArch64)`, ...(ok ? {} : { fix: 'npm install (capstone-wasm)' }) });
  } catch (error) {
    findings.push({ ok: false, topic: 'capstone', said: `does not load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, fix: 'npm install' });
  }

  const present = CHAPTERS.filter((c) => existsSync(join(root, 'chapters', chapterDir(c))));
  const version = workbookVersion(root);
  const snapshotted = present.filter((c) => existsSync(snapshotDir(root, c)) && snapshotVersion(root, c) === version);
  const stale = present.filter((c) => existsSync(snapshotDir(root, c)) && snapshotVersion(root, c) !== version);
  const unsnapshotted = present.filter((c) => !existsSync(snapshotDir(root, c)));
  const hasGit = existsSync(join(root, '.git'));
  const all = snapshotted.length === present.length;
  const gaps = [
    ...(unsnapshotted.length ? [`no snapshot of chapter ${unsnapshotted.map((c) => c.number).join(', ')}; npm run reset ${hasGit ? 'falls back to git history' : 'cannot restore them'}`] : []),
    ...(stale.length ? [`the snapshot of chapter ${stale.map((c) => c.number).join(', ')} is of an older workbook than ${version}; npm run reset takes ${version}'s scaffold from the update you merged (README: Updating mid-course)`] : []),
  ];
  findings.push({
    ok: all,
    warning: true,
    topic: 'pristine copy',
    said: all ? `.workbook/pristine/ holds chapters ${snapshotted.map((c) => c.number).join(', ')} of workbook ${version} (npm run reset restores from it)` : gaps.join('; '),
    ...(all ? {} : { fix: unsnapshotted.length ? `node --import tsx checks/tools/pristine.ts (only while those chapters are untouched: it copies chapters/ as it is now)` : 'npm install (takes the snapshot again from the update you merged; in a copy whose chapters/ nobody has edited: rm -rf .workbook/pristine && npm install)' }),
  });
  const sandbox = probeSandbox();
  findings.push(sandbox.ok ? { ok: true, topic: 'sandbox', said: `${sandbox.tool} works here: npm run grade runs each student in it${sandbox.ownUsers ? ', as a user of its own under a process limit' : ''}` } : { ok: false, warning: true, topic: 'sandbox', said: `${sandbox.reason}: npm run grade needs it (or --no-sandbox for a class you trust)`, fix: sandbox.fix });
  return findings;
}

async function main(): Promise<number> {
  const root = workbookRoot;
  const { hostArch } = await import('#native/arch.ts');
  const host = hostArch();
  console.log(color.bold('workbook doctor\n'));
  const findings = await diagnose(root, host);
  const width = Math.max(...findings.map((f) => f.topic.length)) + 2;
  for (const f of findings) {
    const mark = f.ok ? color.green('✓') : f.warning ? color.yellow('!') : color.red('✗');
    console.log(`  ${mark} ${f.topic.padEnd(width)}${f.said}`);
    if (!f.ok && f.fix) console.log(`    ${' '.repeat(width)}${color.cyan(`fix: ${f.fix}`)}`);
  }
  console.log(color.bold('\nwhat runs where'));
  for (const arch of [host, ...ARCHES.filter((a) => a !== host)]) {
    const found = availability(arch, root);
    const where = !found.available ? color.dim(`skipped: ${found.reason}`) : found.launcher.mode === 'native' ? `native, on this machine: ${found.launcher.command.replace(`${root}/`, '')}${found.launcher.standIn ? ' with tsx (a stand-in, see above)' : ''}` : `emulated: ${[found.launcher.command, ...found.launcher.prefix].join(' ').replaceAll(`${root}/`, '')}`;
    console.log(`  ${ARCH_NAMES[arch].padEnd(9)}${where}`);
  }
  const problems = findings.filter((f) => !f.ok && !f.warning);
  const warnings = findings.filter((f) => !f.ok && f.warning);
  console.log('');
  if (problems.length) console.log(color.red(`${problems.length} problem${problems.length === 1 ? '' : 's'}: fix ${problems.length === 1 ? 'it' : 'them'} with the command${problems.length === 1 ? '' : 's'} above, then run npm run doctor again.`));
  else if (warnings.length) console.log(color.yellow(`ready, with ${warnings.length} limitation${warnings.length === 1 ? '' : 's'} (above). next: npm run progress`));
  else console.log(color.green('all good: both architectures run here. next: npm run progress'));
  return problems.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runMain(main);
