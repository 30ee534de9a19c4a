/**
 * Comparing machine code. `expectBytes` fails with both sides disassembled by capstone and
 * the first difference named: the byte (x86-64), or the bit field of the instruction word
 * (AArch64: `Rn (bits 9:5): expected 31 (sp), got 1 (x1)`).
 *
 *   expectBytes(enc.add_imm(Reg.x0, Reg.sp, 4096), 'e0074091', 'arm64', 'add x0, sp, #4096');
 */
import type { Arch } from '#native/arch.ts';
import { disassemble, hex } from '#native/disasm.ts';

/** Bytes from an encoder (a byte array, or an AArch64 word) or from a hex string. */
export type Code = Uint8Array | readonly number[] | number | string;

/** A failed comparison. Named like uvu's assertions, so reports show the message as it is. */
export class BytesMismatch extends Error {
  override readonly name = 'Assertion';
  readonly details: string;
  constructor(message: string, details: string) {
    super(message);
    this.details = details;
  }
}

/** Normalises `Code` to bytes in memory order. A number is one little-endian 32-bit word. */
export function toBytes(code: Code): Uint8Array {
  if (typeof code === 'string') {
    const clean = code.replace(/[\s,]|0x/g, '');
    if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new TypeError(`not a hex byte string: ${code}`);
    return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  }
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code < -0x8000_0000 || code > 0xffff_ffff) {
      throw new TypeError(`an AArch64 encoder returned ${code}, which is not a 32-bit instruction word`);
    }
    const word = code >>> 0;
    return Uint8Array.of(word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24);
  }
  if (!(code instanceof Uint8Array) && !Array.isArray(code)) {
    throw new TypeError(`an encoder returned ${describe(code)}, not an array of bytes`);
  }
  for (const byte of code) {
    if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) throw new TypeError(`an encoder returned [${[...code].join(', ')}]: ${byte} is not a byte (0..255)`);
  }
  return Uint8Array.from(code);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined (did the function forget to return?)';
  if (value === null) return 'null';
  return typeof value === 'object' ? `an object (${Object.prototype.toString.call(value)})` : `${typeof value} ${String(value)}`;
}

/** The disassembly of `bytes` on one line: `mov rax, rcx ; ret`. */
export function disassemblyText(bytes: Uint8Array, arch: Arch): string {
  if (bytes.length === 0) return '(no bytes)';
  return disassemble(bytes, arch).map((line) => line.text).join(' ; ');
}

/**
 * Throws unless `actual` is exactly `expected`. `what` says what was encoded, as a person
 * reads it (`movq_rm(rax, [rbp])  →  mov rax, qword ptr [rbp]`).
 */
export function expectBytes(actual: Code, expected: Code, arch: Arch, what: string): void {
  const got = toBytes(actual);
  const want = toBytes(expected);
  if (got.length === want.length && got.every((b, i) => b === want[i])) return;
  const width = Math.max(hex(want).length, hex(got).length, 8);
  const lines = [
    `expected  ${hex(want).padEnd(width)}   ${disassemblyText(want, arch)}`,
    `actual    ${hex(got).padEnd(width)}   ${disassemblyText(got, arch)}`,
  ];
  const difference = arch === 'arm64' ? wordDifference(got, want) : byteDifference(got, want);
  throw new BytesMismatch(`${what}: wrong bytes. ${difference}`, lines.join('\n'));
}

// ---------------------------------------------------------------------------------------
// x86-64: the first differing byte, and what a REX byte says.

function bits233(byte: number): string {
  const b = byte.toString(2).padStart(8, '0');
  return `${b.slice(0, 2)} ${b.slice(2, 5)} ${b.slice(5)}`;
}

function rexText(byte: number): string {
  return `REX W=${(byte >> 3) & 1} R=${(byte >> 2) & 1} X=${(byte >> 1) & 1} B=${byte & 1}`;
}

function byteDifference(got: Uint8Array, want: Uint8Array): string {
  const n = Math.min(got.length, want.length);
  let i = 0;
  while (i < n && got[i] === want[i]) i++;
  if (i === n) {
    return got.length < want.length
      ? `Your ${got.length} bytes are a prefix of the expected ${want.length}: ${want.length - got.length} byte(s) missing (${hex(want.subarray(n))}).`
      : `The expected ${want.length} bytes are followed by ${got.length - want.length} extra byte(s) (${hex(got.subarray(n))}).`;
  }
  const w = want[i]!;
  const g = got[i]!;
  const isRex = (b: number): boolean => i === 0 && b >= 0x40 && b <= 0x4f;
  let detail: string;
  if (isRex(w) && isRex(g)) detail = `expected ${rexText(w)}, got ${rexText(g)}`;
  else if (isRex(w)) detail = `expected a REX prefix (${rexText(w)}), got 0x${g.toString(16).padStart(2, '0')}`;
  else if (isRex(g)) detail = `expected 0x${w.toString(16).padStart(2, '0')}, got a REX prefix (${rexText(g)}) that is not needed`;
  else detail = `expected 0x${w.toString(16).padStart(2, '0')} (${bits233(w)}), got 0x${g.toString(16).padStart(2, '0')} (${bits233(g)}); if this is the ModRM or SIB byte, the groups are mod/reg/rm or scale/index/base`;
  return `First difference at byte ${i} of ${want.length}: ${detail}.`;
}

// ---------------------------------------------------------------------------------------
// AArch64: which field of the instruction word differs.

interface Field {
  name: string;
  hi: number;
  lo: number;
  /** A register field: what 31 means in it (may depend on other bits of the word). */
  reg?: 'sp' | 'zr' | ((word: number) => 'sp' | 'zr');
  signed?: boolean;
}

interface EncodingClass {
  name: string;
  mask: number;
  value: number;
  fields: Field[];
}

const Rd = (reg: Field['reg'] = 'zr'): Field => ({ name: 'Rd', hi: 4, lo: 0, reg });
const Rn = (reg: Field['reg'] = 'zr'): Field => ({ name: 'Rn', hi: 9, lo: 5, reg });
const Rm: Field = { name: 'Rm', hi: 20, lo: 16, reg: 'zr' };
const Rt: Field = { name: 'Rt', hi: 4, lo: 0, reg: 'zr' };
const sf: Field = { name: 'sf', hi: 31, lo: 31 };
const setsFlags = (word: number): 'sp' | 'zr' => ((word >>> 29) & 1 ? 'zr' : 'sp');

const CLASSES: EncodingClass[] = [
  { name: 'add/subtract (immediate)', mask: 0x1f800000, value: 0x11000000, fields: [sf, { name: 'op', hi: 30, lo: 30 }, { name: 'S', hi: 29, lo: 29 }, { name: 'sh', hi: 22, lo: 22 }, { name: 'imm12', hi: 21, lo: 10 }, Rn('sp'), Rd(setsFlags)] },
  { name: 'add/subtract (shifted register)', mask: 0x1f200000, value: 0x0b000000, fields: [sf, { name: 'op', hi: 30, lo: 30 }, { name: 'S', hi: 29, lo: 29 }, { name: 'shift', hi: 23, lo: 22 }, Rm, { name: 'imm6', hi: 15, lo: 10 }, Rn(), Rd()] },
  { name: 'logical (shifted register)', mask: 0x1f000000, value: 0x0a000000, fields: [sf, { name: 'opc', hi: 30, lo: 29 }, { name: 'shift', hi: 23, lo: 22 }, { name: 'N', hi: 21, lo: 21 }, Rm, { name: 'imm6', hi: 15, lo: 10 }, Rn(), Rd()] },
  { name: 'logical (immediate)', mask: 0x1f800000, value: 0x12000000, fields: [sf, { name: 'opc', hi: 30, lo: 29 }, { name: 'N', hi: 22, lo: 22 }, { name: 'immr', hi: 21, lo: 16 }, { name: 'imms', hi: 15, lo: 10 }, Rn(), Rd((w) => ((w >>> 29) & 3) === 3 ? 'zr' : 'sp')] },
  { name: 'move wide (immediate)', mask: 0x1f800000, value: 0x12800000, fields: [sf, { name: 'opc', hi: 30, lo: 29 }, { name: 'hw', hi: 22, lo: 21 }, { name: 'imm16', hi: 20, lo: 5 }, Rd()] },
  { name: 'bitfield', mask: 0x1f800000, value: 0x13000000, fields: [sf, { name: 'opc', hi: 30, lo: 29 }, { name: 'N', hi: 22, lo: 22 }, { name: 'immr', hi: 21, lo: 16 }, { name: 'imms', hi: 15, lo: 10 }, Rn(), Rd()] },
  { name: 'data-processing (3 source)', mask: 0x1f000000, value: 0x1b000000, fields: [sf, { name: 'op31', hi: 23, lo: 21 }, Rm, { name: 'o0', hi: 15, lo: 15 }, { name: 'Ra', hi: 14, lo: 10, reg: 'zr' }, Rn(), Rd()] },
  { name: 'data-processing (2 source)', mask: 0x5fe00000, value: 0x1ac00000, fields: [sf, Rm, { name: 'opcode', hi: 15, lo: 10 }, Rn(), Rd()] },
  { name: 'conditional select', mask: 0x1fe00000, value: 0x1a800000, fields: [sf, { name: 'op', hi: 30, lo: 30 }, { name: 'S', hi: 29, lo: 29 }, Rm, { name: 'cond', hi: 15, lo: 12 }, { name: 'o2', hi: 11, lo: 10 }, Rn(), Rd()] },
  { name: 'load/store register (unsigned immediate)', mask: 0x3b000000, value: 0x39000000, fields: [{ name: 'size', hi: 31, lo: 30 }, { name: 'V', hi: 26, lo: 26 }, { name: 'opc', hi: 23, lo: 22 }, { name: 'imm12', hi: 21, lo: 10 }, Rn('sp'), Rt] },
  { name: 'load/store register (imm9: unscaled, pre- or post-indexed)', mask: 0x3b200000, value: 0x38000000, fields: [{ name: 'size', hi: 31, lo: 30 }, { name: 'V', hi: 26, lo: 26 }, { name: 'opc', hi: 23, lo: 22 }, { name: 'imm9', hi: 20, lo: 12, signed: true }, { name: 'mode', hi: 11, lo: 10 }, Rn('sp'), Rt] },
  { name: 'load/store pair', mask: 0x3a000000, value: 0x28000000, fields: [{ name: 'opc', hi: 31, lo: 30 }, { name: 'V', hi: 26, lo: 26 }, { name: 'mode', hi: 25, lo: 23 }, { name: 'L', hi: 22, lo: 22 }, { name: 'imm7', hi: 21, lo: 15, signed: true }, { name: 'Rt2', hi: 14, lo: 10, reg: 'zr' }, Rn('sp'), Rt] },
  { name: 'unconditional branch (immediate)', mask: 0x7c000000, value: 0x14000000, fields: [{ name: 'op', hi: 31, lo: 31 }, { name: 'imm26', hi: 25, lo: 0, signed: true }] },
  { name: 'conditional branch (immediate)', mask: 0xff000010, value: 0x54000000, fields: [{ name: 'imm19', hi: 23, lo: 5, signed: true }, { name: 'cond', hi: 3, lo: 0 }] },
  { name: 'compare and branch', mask: 0x7e000000, value: 0x34000000, fields: [sf, { name: 'op', hi: 24, lo: 24 }, { name: 'imm19', hi: 23, lo: 5, signed: true }, Rt] },
  { name: 'test and branch', mask: 0x7e000000, value: 0x36000000, fields: [{ name: 'b5', hi: 31, lo: 31 }, { name: 'op', hi: 24, lo: 24 }, { name: 'b40', hi: 23, lo: 19 }, { name: 'imm14', hi: 18, lo: 5, signed: true }, Rt] },
  { name: 'unconditional branch (register)', mask: 0xfe000000, value: 0xd6000000, fields: [{ name: 'opc', hi: 24, lo: 21 }, { name: 'op2', hi: 20, lo: 16 }, { name: 'op3', hi: 15, lo: 10 }, Rn(), { name: 'op4', hi: 4, lo: 0 }] },
  { name: 'exception generation', mask: 0xff000000, value: 0xd4000000, fields: [{ name: 'opc', hi: 23, lo: 21 }, { name: 'imm16', hi: 20, lo: 5 }, { name: 'op2', hi: 4, lo: 2 }, { name: 'LL', hi: 1, lo: 0 }] },
  { name: 'permanently undefined', mask: 0xffff0000, value: 0x00000000, fields: [{ name: 'imm16', hi: 15, lo: 0 }] },
];

function extract(word: number, f: Field): number {
  const width = f.hi - f.lo + 1;
  const raw = Math.floor((word >>> 0) / 2 ** f.lo) % 2 ** width;
  return f.signed && raw >= 2 ** (width - 1) ? raw - 2 ** width : raw;
}

function valueText(word: number, f: Field): string {
  const v = extract(word, f);
  if (f.reg) {
    const kind = typeof f.reg === 'function' ? f.reg(word) : f.reg;
    return v === 31 ? `31 (${kind === 'sp' ? 'sp' : 'xzr'})` : `${v} (x${v})`;
  }
  const width = f.hi - f.lo + 1;
  if (width === 1 || f.signed) return `${v}`;
  // Fields in binary (narrow) or hex (wide), the way the manual draws them; the number beside.
  const shown = width <= 6 ? `0b${v.toString(2).padStart(width, '0')}` : `0x${v.toString(16)}`;
  return `${shown} (${v})`;
}

function bitRange(hi: number, lo: number): string {
  return hi === lo ? `bit ${hi}` : `bits ${hi}:${lo}`;
}

function wordDifference(got: Uint8Array, want: Uint8Array): string {
  if (got.length !== want.length) {
    return `Expected ${want.length / 4} instruction word(s) (${want.length} bytes), got ${got.length} bytes.`;
  }
  const view = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
  for (let i = 0; i + 4 <= want.length; i += 4) {
    const w = view(want, i);
    const g = view(got, i);
    if (w === g) continue;
    const where = want.length > 4 ? `Word ${i / 4}: ` : '';
    const swapped = (((g & 0xff) << 24) | ((g & 0xff00) << 8) | ((g >>> 8) & 0xff00) | (g >>> 24)) >>> 0;
    if (swapped === w) {
      return `${where}your word is the expected word with its bytes reversed (0x${g.toString(16).padStart(8, '0')} instead of 0x${w.toString(16).padStart(8, '0')}): return the instruction as a number, and let emit32 store it least significant byte first.`;
    }
    const cls = CLASSES.find((c) => ((w & c.mask) >>> 0) === c.value >>> 0);
    const diff = (w ^ g) >>> 0;
    const parts: string[] = [];
    let covered = 0;
    if (cls) {
      for (const f of cls.fields) {
        const mask = (2 ** (f.hi - f.lo + 1) - 1) * 2 ** f.lo;
        covered += mask;
        if (extract(w, f) !== extract(g, f)) parts.push(`${f.name} (${bitRange(f.hi, f.lo)}): expected ${valueText(w, f)}, got ${valueText(g, f)}`);
      }
    }
    const rest = (diff & ~covered) >>> 0;
    if (rest !== 0) {
      const hi = 31 - Math.clz32(rest);
      const lo = 31 - Math.clz32(rest & -rest);
      const fixed = cls ? `the fixed bits of ${cls.name}` : 'the opcode bits';
      parts.push(`${fixed} (${bitRange(hi, lo)}) differ: expected 0x${w.toString(16).padStart(8, '0')}, got 0x${g.toString(16).padStart(8, '0')}`);
    }
    const intro = cls ? `${where}${where ? 'in' : 'In'} the ${cls.name} class, ` : where;
    return `${intro}${parts.join('; ')}.`;
  }
  return 'The words are equal.';
}
