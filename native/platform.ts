/**
 * How to start a Node.js process of either architecture on this machine: the host's own
 * natively, the other one in a Node.js of that architecture under qemu-user (prepared by
 * `npm run setup`, see native/setup.mjs).
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
    return {
      available: true,
      launcher: { arch, mode: 'native', command: process.execPath, prefix: [], typescript: ['--import', 'tsx'] },
    };
  }
  if (process.platform !== 'linux') {
    return { available: false, arch, reason: `running ${arch} code on ${process.platform} needs Linux with qemu-user` };
  }
  // WORKBOOK_TOOLCHAIN_ROOT points at another folder's .toolchain (shared set-ups, tests).
  const described = join(process.env.WORKBOOK_TOOLCHAIN_ROOT ?? root, '.toolchain', 'other-arch.json');
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
      // Node 24 strips TypeScript types itself; tsx cannot run here (its esbuild is a host binary).
      typescript: ['--disable-warning=ExperimentalWarning'],
    },
  };
}
