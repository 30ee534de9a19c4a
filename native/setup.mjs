#!/usr/bin/env node
// Prepares this machine to run the checks on both architectures: `npm install` runs it
// (postinstall), and `npm run setup` runs it again by hand.
//
// The learner's TypeScript runs the same way on both architectures: in one pinned Node.js
// (package.json "workbook.node"), which strips the types itself. On an x86-64 host that
// Node.js runs x86-64 code natively and AArch64 code under qemu-user; on an arm64 host the
// other way round. The workbook's own commands keep running on whatever Node.js started
// them (with tsx). So this fetches:
//   1. the pinned Node.js for both architectures  (npm packages node-linux-<arch>, into .toolchain/)
//   2. koffi's native module for the other one     (npm package @koromix/koffi-linux-<arch>)
//   3. qemu-user and the other arch's libc         (Debian packages; installed here when run as root)
// Whatever cannot be set up is reported with the exact command to fix it. The install
// itself never fails because of this: the checks then report that architecture as skipped
// (or, for the host, run on the Node.js that started them, which `npm run doctor` flags).
//
// Plain JavaScript on purpose: it runs before anything else is known to work.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const toolchain = join(root, '.toolchain');

/** What each architecture needs when it is the emulated one. */
const TARGETS = {
  arm64: {
    qemu: 'qemu-aarch64-static',
    sysroot: '/usr/aarch64-linux-gnu',
    loader: 'lib/ld-linux-aarch64.so.1',
    debPackages: ['qemu-user-static', 'libc6-arm64-cross', 'libstdc++6-arm64-cross', 'libgcc-s1-arm64-cross'],
  },
  x64: {
    qemu: 'qemu-x86_64-static',
    sysroot: '/usr/x86_64-linux-gnu',
    loader: 'lib/ld-linux-x86-64.so.2',
    debPackages: ['qemu-user-static', 'libc6-amd64-cross', 'libstdc++6-amd64-cross', 'libgcc-s1-amd64-cross'],
  },
};

function log(message) {
  console.log(`[setup] ${message}`);
}

function main() {
  if (process.env.WORKBOOK_SKIP_SETUP) return log('WORKBOOK_SKIP_SETUP is set; nothing to do.');
  if (process.platform !== 'linux') {
    return log(`host is ${process.platform}: \`npm run book\` and \`npm run typecheck\` work here; the checks, \`npm run jit\` and \`npm run bench\` run machine code through Linux system calls and need Linux: a Linux machine, WSL 2 on Windows, or a Linux container (for example: docker run -it -v "$PWD":/work -w /work node:20 bash, then npm install there).`);
  }
  const host = process.arch;
  if (host !== 'x64' && host !== 'arm64') return log(`host architecture ${host} is not one the workbook targets.`);
  const other = host === 'x64' ? 'arm64' : 'x64';
  const target = TARGETS[other];
  mkdirSync(toolchain, { recursive: true });
  const version = pkg.workbook.node;

  const hostProblems = [];
  const hostNode = fetchNode(host, version, hostProblems);
  if (hostProblems.length === 0) {
    log(`${host} is ready: Node.js ${version} runs the checks natively`);
  } else {
    log(`${host} checks will run on this Node.js ${process.version} with tsx until this is fixed:`);
    for (const p of hostProblems) log(`  - ${p}`);
  }

  const problems = [];
  const node = fetchNode(other, version, problems);
  fetchKoffi(other, problems);
  const qemu = ensureQemu(target, problems);

  const description = { arch: other, node, qemu, sysroot: target.sysroot, version, hostNode, problems };
  writeFileSync(join(toolchain, 'other-arch.json'), JSON.stringify(description, null, 2) + '\n');
  if (problems.length === 0) {
    log(`${other} is ready: ${qemu} runs Node.js ${version}`);
  } else {
    log(`${other} checks will be skipped until this is fixed:`);
    for (const p of problems) log(`  - ${p}`);
  }
}

/** Downloads and unpacks an npm package's tarball without installing it (its os/cpu do not match this host). */
function unpackPackage(spec, destination) {
  const downloads = join(toolchain, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', downloads], {
    cwd: toolchain,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = join(downloads, out.trim().split('\n').pop());
  const staging = destination + '.partial';
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', staging, '--strip-components=1']);
  rmSync(destination, { recursive: true, force: true });
  renameSync(staging, destination);
  rmSync(tarball, { force: true });
}

/** The pinned Node.js for `arch`, unpacked into .toolchain/node-linux-<arch>/ (kept while its version matches). */
function fetchNode(arch, version, problems) {
  const destination = join(toolchain, `node-linux-${arch}`);
  const binary = join(destination, 'bin', 'node');
  const stamp = join(destination, '.version');
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8') === version) return binary;
  log(`fetching Node.js ${version} for ${arch} (npm package node-linux-${arch})…`);
  try {
    unpackPackage(`node-linux-${arch}@${version}`, destination);
    writeFileSync(stamp, version);
  } catch (error) {
    problems.push(`could not fetch node-linux-${arch}@${version} from the npm registry (${error.message.split('\n')[0]}); retry with: npm run setup`);
  }
  return binary;
}

function fetchKoffi(arch, problems) {
  const koffiVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
  const name = `koffi-linux-${arch}`;
  const destination = join(root, 'node_modules', '@koromix', name);
  const manifest = join(destination, 'package.json');
  if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).version === koffiVersion) return;
  log(`fetching koffi ${koffiVersion} for ${arch} (npm package @koromix/${name})…`);
  try {
    unpackPackage(`@koromix/${name}@${koffiVersion}`, destination);
  } catch (error) {
    problems.push(`could not fetch @koromix/${name}@${koffiVersion} (${error.message.split('\n')[0]}); retry with: npm run setup`);
  }
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).stdout.trim() || null;
}

function ensureQemu(target, problems) {
  const ready = () => onPath(target.qemu) && existsSync(join(target.sysroot, target.loader));
  if (!ready()) {
    const apt = `apt-get install -y ${target.debPackages.join(' ')}`;
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (isRoot && onPath('apt-get')) {
      log(`installing ${target.debPackages.join(', ')} with apt-get…`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      spawnSync('apt-get', ['install', '-y', '-qq', ...target.debPackages], { stdio: 'inherit', env });
    }
    if (!ready()) {
      problems.push(`qemu-user and the cross C library are missing; install them with: sudo ${apt} && npm run setup`);
    }
  }
  return onPath(target.qemu) ?? target.qemu;
}

try {
  main();
} catch (error) {
  log(`setup did not finish: ${error.stack ?? error}`);
  log('the install goes on; run `npm run setup` to try again, or `npm run doctor` to see what is missing.');
}
// Leftover partial unpacks are harmless but untidy.
try {
  for (const entry of readdirSync(toolchain)) if (entry.endsWith('.partial')) rmSync(join(toolchain, entry), { recursive: true, force: true });
} catch {}
