/**
 * How to start a Node.js process of either architecture on this machine: the host's own
 * natively, the other one under qemu-user. Both run the same pinned Node.js (package.json
 * "workbook.node", fetched for each architecture by `npm run setup`, see native/setup.mjs)
 * and load TypeScript the same way, by type stripping, so that a check can only behave
 * differently on the two architectures because of the architecture.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostArch, type Arch } from './arch.ts';

export interface Launcher {
  arch: Arch;
  mode: 'native' | 'emulated';
  /** The program to run and the arguments that come before Node's own. */
  command: string;
  prefix: string[];
  /** Arguments that make this Node.js load TypeScript. */
  typescript: string[];
  /**
   * Why this is not the workbook's pinned Node.js, when it is not: the host's Node.js that
   * started the command stands in (with tsx) until `npm run setup` has fetched the pinned one.
   */
  standIn?: string;
}

/** Node.js strips the types of .ts files itself (v22.18 and newer; the pinned one is). */
const TYPE_STRIPPING = ['--disable-warning=ExperimentalWarning'];

/** Where `npm run setup` keeps its downloads: WORKBOOK_TOOLCHAIN_ROOT points at another folder's (shared set-ups, tests). */
function toolchainDir(root: string): string {
  return join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? root, '.toolchain');
}

/** The pinned Node.js for `arch` as `npm run setup` unpacks it (it may not exist). */
export function workbookNodePath(arch: Arch, root: string): string {
  return join(toolchainDir(root), `node-linux-${arch}`, 'bin', 'node');
}

export type ArchAvailability = { available: true; launcher: Launcher } | { available: false; arch: Arch; reason: string };

const OTHER_ARCH_SETUP: Record<Arch, { qemu: string; sysroot: string; packages: string }> = {
  arm64: {
    qemu: 'qemu-aarch64-static',
    sysroot: '/usr/aarch64-linux-gnu',
    packages: 'qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross',
  },
  x64: {
    qemu: 'qemu-x86_64-static',
    sysroot: '/usr/x86_64-linux-gnu',
    packages: 'qemu-user-static libc6-amd64-cross libstdc++6-amd64-cross libgcc-s1-amd64-cross',
  },
};

/** The exact command that makes `arch` runnable here. */
export function installCommand(arch: Arch): string {
  return `sudo apt-get install -y ${OTHER_ARCH_SETUP[arch].packages} && npm run setup`;
}

/** Can this machine run Node.js for `arch`, and how. `root` is the workbook's folder. */
export function availability(arch: Arch, root: string): ArchAvailability {
  if (arch === hostArch()) {
    const pinned = workbookNodePath(arch, root);
    if (process.platform === 'linux' && existsSync(pinned)) {
      return { available: true, launcher: { arch, mode: 'native', command: pinned, prefix: [], typescript: TYPE_STRIPPING } };
    }
    return {
      available: true,
      launcher: {
        arch,
        mode: 'native',
        command: process.execPath,
        prefix: [],
        typescript: ['--import', 'tsx'],
        standIn: `the workbook's Node.js for ${arch} is not set up (run: npm run setup); ${process.version} with tsx stands in`,
      },
    };
  }
  if (process.platform !== 'linux') {
    return { available: false, arch, reason: `running ${arch} code on ${process.platform} needs Linux with qemu-user` };
  }
  const described = join(toolchainDir(root), 'other-arch.json');
  if (!existsSync(described)) {
    return { available: false, arch, reason: `the ${arch} toolchain is not set up; run: npm run setup` };
  }
  const setup = JSON.parse(readFileSync(described, 'utf8')) as { arch: Arch; node: string; qemu: string; sysroot: string };
  const { qemu, sysroot } = OTHER_ARCH_SETUP[arch];
  const qemuPath = existsSync(setup.qemu) ? setup.qemu : null;
  if (setup.arch !== arch || !qemuPath || !existsSync(sysroot)) {
    return { available: false, arch, reason: `${qemu} or the ${arch} C library is missing; install with: ${installCommand(arch)}` };
  }
  if (!existsSync(setup.node)) {
    return { available: false, arch, reason: `the ${arch} Node.js is missing; run: npm run setup` };
  }
  return {
    available: true,
    launcher: {
      arch,
      mode: 'emulated',
      command: qemuPath,
      prefix: ['-L', sysroot, setup.node],
      // tsx could not run here anyway: its esbuild is a host binary.
      typescript: TYPE_STRIPPING,
    },
  };
}
