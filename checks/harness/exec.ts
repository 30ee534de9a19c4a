/**
 * Running machine code inside a check, through the learner's own chapter 01 `CodeRegion`
 * (or the reference one under `--use-ref 1`).
 */
import { learnerCode } from './check.ts';

const ch01 = await learnerCode(import('#ch01/code-region.ts'));

/** Copies `code` into a fresh region, seals it, calls offset 0 with `args`, and disposes the region. */
export function runCode(code: Uint8Array, ...args: bigint[]): bigint {
  const region = ch01.CodeRegion.allocate(Math.max(code.length, 1));
  try {
    region.write(0, code);
    region.seal();
    return region.function(0, args.length)(...args);
  } finally {
    region.dispose();
  }
}

/** Little-endian bytes of 32-bit AArch64 instruction words (re-exported for check files). */
export { wordsToBytes } from '#native/arch.ts';
