/**
 * Strength reduction: multiplication and division by a constant, done with cheaper
 * instructions. Every rewrite keeps Jot's semantics exactly, for every 64-bit x.
 *
 *   x * 2^k        x << k
 *   x * (2^k + 1)  (x << k) + x            x * (2^k - 1)   (x << k) - x
 *   x / 1, x % 1   x, 0                    x / -1, x % -1  -x (wrapping), 0
 *
 *   x / 2^k        round toward zero: add 2^k - 1 first when x is negative, then shift
 *                    t = (x >> 63) >>> (64 - k)     ; 2^k - 1 if x < 0, else 0
 *                    q = (x + t) >> k
 *   x % 2^k        x - ((x + t) & -2^k)           ; the same bias, masked instead of shifted
 *   x / -2^k       -(x / 2^k)
 *
 *   x / d          (any other d) multiply by a "magic" number M ≈ 2^(64+s) / d and keep the
 *                  high half (Granlund and Montgomery, "Division by Invariant Integers
 *                  using Multiplication", 1994):
 *                    q = mulhi(x, M)
 *                    q = q + x   if d > 0 and M < 0    (M did not fit: it stands for M + 2^64)
 *                    q = q - x   if d < 0 and M > 0
 *                    q = q >> s
 *                    q = q + (q >>> 63)                 ; +1 when q < 0: round toward zero
 *   x % d          x - (x / d) * d
 *
 * A division by zero is left alone: it raises its runtime error at its line. So is a
 * division by INT64_MIN, the one divisor whose magnitude is not a 64-bit number.
 */
import { cloneFunction, definitions, makeInst, type Func, type Inst } from '../ir.ts';
import { todo } from '#native/todo.ts';

const INT64_MIN = -(1n << 63n);

export function strengthReduction(input: Func): Func {
  const fn = cloneFunction(input);
  const defs = definitions(fn);
  const constantOf = (v: number): bigint | undefined => {
    const d = defs.get(v);
    return d?.op === 'const' && d.type === 'int' ? d.imm : undefined;
  };
  for (const block of fn.blocks) {
    const out: Inst[] = [];
    for (const inst of block.insts) {
      const replaced = rewrite(fn, inst, constantOf, out);
      if (!replaced) out.push(inst);
    }
    block.insts = out;
  }
  return fn;
}

/** Appends the cheaper sequence to `out`, ending in an instruction that keeps `inst`'s number. */
function rewrite(fn: Func, inst: Inst, constantOf: (v: number) => bigint | undefined, out: Inst[]): boolean {
  // TODO: only mul, div and mod with a constant operand (for mul, either side). Emit the
  // cheaper sequence into `out` with makeInst (type int, the instruction's line), and end it
  // with `inst` itself turned into a `copy` of the result (keeping its number, so its users
  // need no change); return true. Return false to keep the instruction as it is. The
  // rewrites are in the comment at the top of this file; log2 and magic are given.
  return todo('strengthReduction: one instruction');
}

/** k when value is 2^k (k ≥ 1), else undefined. */
function log2(value: bigint): number | undefined {
  if (value < 2n || (value & (value - 1n)) !== 0n) return undefined;
  return value.toString(2).length - 1;
}

/**
 * The signed magic number and shift for dividing by d (|d| ≥ 2, not a power of two), by
 * the method in Warren's "Hacker's Delight" (section 10-4), in 64-bit arithmetic: the
 * smallest p ≥ 64 with 2^p > nc * (d - 2^p mod d), where nc is the largest multiple of d,
 * minus one, that fits; M = (2^p + d - 2^p mod d) / d and s = p - 64.
 */
export function magic(d: bigint): { multiplier: bigint; shift: number } {
  const two63 = 1n << 63n;
  const ad = d < 0n ? -d : d;
  const t = two63 + (d < 0n ? 1n : 0n);
  const anc = t - 1n - (t % ad); // |nc|
  let p = 63;
  let q1 = two63 / anc;
  let r1 = two63 - q1 * anc;
  let q2 = two63 / ad;
  let r2 = two63 - q2 * ad;
  let delta: bigint;
  do {
    p++;
    q1 *= 2n;
    r1 *= 2n;
    if (r1 >= anc) {
      q1++;
      r1 -= anc;
    }
    q2 *= 2n;
    r2 *= 2n;
    if (r2 >= ad) {
      q2++;
      r2 -= ad;
    }
    delta = ad - r2;
  } while (q1 < delta || (q1 === delta && r1 === 0n));
  let multiplier = BigInt.asIntN(64, q2 + 1n);
  if (d < 0n) multiplier = BigInt.asIntN(64, -multiplier);
  return { multiplier, shift: p - 64 };
}
