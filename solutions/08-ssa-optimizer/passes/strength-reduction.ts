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
  if (inst.op !== 'mul' && inst.op !== 'div' && inst.op !== 'mod') return false;
  let [x, y] = inst.args as [number, number];
  let c = constantOf(y);
  if (c === undefined && inst.op === 'mul' && constantOf(x) !== undefined) {
    [x, y] = [y, x];
    c = constantOf(y);
  }
  if (c === undefined) return false;
  const emit = (op: string, args: number[], imm?: bigint): number => {
    const i = makeInst(fn, { op, type: 'int', args, ...(imm !== undefined ? { imm } : {}), line: inst.line });
    out.push(i);
    return i.id;
  };
  const konst = (value: bigint) => emit('const', [], BigInt.asIntN(64, value));
  /** Ends the sequence: `inst` itself becomes a copy of `value` (copy propagation removes it). */
  const finish = (value: number) => {
    out.push({ ...inst, op: 'copy', args: [value], line: inst.line });
    return true;
  };

  if (inst.op === 'mul') {
    if (c === 0n) return finish(konst(0n));
    if (c === 1n) return finish(x);
    const k = log2(c);
    if (k !== undefined) return finish(emit('shl', [x, konst(BigInt(k))]));
    const above = log2(c - 1n);
    if (above !== undefined) return finish(emit('add', [emit('shl', [x, konst(BigInt(above))]), x]));
    const below = log2(c + 1n);
    if (below !== undefined) return finish(emit('sub', [emit('shl', [x, konst(BigInt(below))]), x]));
    return false;
  }

  if (c === 0n || c === INT64_MIN) return false;
  const isDiv = inst.op === 'div';
  if (c === 1n) return finish(isDiv ? x : konst(0n));
  if (c === -1n) return finish(isDiv ? emit('neg', [x]) : konst(0n));

  const magnitude = c < 0n ? -c : c;
  const k = log2(magnitude);
  if (k !== undefined) {
    const sign = emit('sar', [x, konst(63n)]);
    const bias = emit('shr', [sign, konst(BigInt(64 - k))]);
    const biased = emit('add', [x, bias]);
    if (isDiv) {
      const q = emit('sar', [biased, konst(BigInt(k))]);
      return finish(c < 0n ? emit('neg', [q]) : q);
    }
    const rounded = emit('and', [biased, konst(-magnitude)]);
    return finish(emit('sub', [x, rounded]));
  }

  const { multiplier, shift } = magic(c);
  let q = emit('mulhi', [x, konst(multiplier)]);
  if (c > 0n && multiplier < 0n) q = emit('add', [q, x]);
  if (c < 0n && multiplier > 0n) q = emit('sub', [q, x]);
  if (shift > 0) q = emit('sar', [q, konst(BigInt(shift))]);
  q = emit('add', [q, emit('shr', [q, konst(63n)])]);
  if (isDiv) return finish(q);
  return finish(emit('sub', [x, emit('mul', [q, konst(c)])]));
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
