/** The two instruction set architectures the workbook targets, named as Node.js names them. */
export type Arch = 'x64' | 'arm64';

export const ARCHES: readonly Arch[] = ['x64', 'arm64'];

/** Human names, for reports and the book. */
export const ARCH_NAMES: Record<Arch, string> = { x64: 'x86-64', arm64: 'AArch64' };

/** The architecture this process runs on (under qemu-user, the emulated one). */
export function hostArch(): Arch {
  const arch = process.arch;
  if (arch === 'x64' || arch === 'arm64') return arch;
  throw new Error(`the workbook runs on x86-64 or AArch64, not ${arch}`);
}

export function isArch(value: string): value is Arch {
  return value === 'x64' || value === 'arm64';
}

/** AArch64 instructions are 32-bit words stored least significant byte first: their bytes. */
export function wordsToBytes(words: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((word, i) => view.setUint32(i * 4, word >>> 0, true));
  return bytes;
}
