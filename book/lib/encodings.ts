/**
 * Instructions split into the fields the manuals draw, for figures: the parts of an x86-64
 * instruction (REX, opcode, ModRM, immediate) and their bits, and AArch64 words cut into the
 * bit fields of their encoding class. Each figure feeds these real bytes, so it cannot drift.
 */
import type { DisasmLine } from '../../native/disasm.ts';
import type { Field } from './svg.ts';

/** A byte as two hex digits. */
export const hex2 = (byte: number) => byte.toString(16).padStart(2, '0');

/** The low `width` bits of `value`, most significant first, as '0'/'1' cells. */
export const bits = (value: number, width: number) => value.toString(2).padStart(width, '0').split('');

/**
 * Opcodes a ModRM byte follows, of those the workbook's encoders emit: the ALU and mov forms
 * with /r, the immediate groups (81, 83, c7), the shifts (c1, d1, d3), f7 and ff. The others
 * (push/pop 50+r and 58+r, mov b8+r, the accumulator forms 05, 2d, …, jumps, ret) have none.
 */
export const HAS_MODRM = new Set([
  0x01, 0x03, 0x09, 0x0b, 0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b,
  0x81, 0x83, 0x85, 0x89, 0x8b, 0x8d, 0xc1, 0xc7, 0xd1, 0xd3, 0xf7, 0xff,
]);

/** After a 0f escape: imul (af), movzx (b6) and setcc (90–9f) have a ModRM byte; jcc (80–8f) does not. */
const HAS_MODRM_0F = (opcode: number) => opcode === 0xaf || opcode === 0xb6 || (opcode >= 0x90 && opcode <= 0x9f);

/** Opcodes whose ModRM.reg is an opcode extension (/0–/7), not a register. */
export const EXTENSION_OPCODES = new Set([0x81, 0x83, 0xc1, 0xc7, 0xd1, 0xd3, 0xf7, 0xff]);

/** The sixteen registers, numbered as REX extends them (bit 3 from REX.R, X or B). */
export const X64_REGISTER_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** x86-64 register numbers 0–7, as a ModRM field or an opcode's low bits name them without REX. */
export const X64_REGISTERS = X64_REGISTER_NAMES.slice(0, 8);

/** A little-endian run of bytes as a signed number, written `+0x8`/`-0x10`/`= 0x3e8` style. */
function signedHex(bytes: Uint8Array): string {
  const value = BigInt.asIntN(bytes.length * 8, [...bytes].reduceRight((sum, byte) => (sum << 8n) | BigInt(byte), 0n));
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

/**
 * An x86-64 instruction split into its parts, in order: a REX prefix (0x40–0x4f), the opcode
 * (one byte, or 0f and one), a ModRM byte for the opcodes that have one, a SIB byte when
 * ModRM.rm is 100 with a memory mod, the displacement ModRM and SIB ask for, and the
 * immediate (the rest). The immediate is shaded.
 */
export function x64Parts(bytes: Uint8Array): Field[] {
  const parts: Field[] = [];
  let at = 0;
  if (bytes[at]! >= 0x40 && bytes[at]! <= 0x4f) {
    const rex = bytes[at++]!;
    parts.push({ name: 'REX', cells: [hex2(rex)], note: `W=${(rex >> 3) & 1}` });
  }
  const escaped = bytes[at] === 0x0f;
  const opcode = bytes[escaped ? at + 1 : at]!;
  const register = !escaped && opcode >= 0xb8 && opcode <= 0xbf ? `(b8+${opcode - 0xb8})` : undefined;
  parts.push({ name: 'opcode', cells: (escaped ? [0x0f, opcode] : [opcode]).map(hex2), note: register });
  at += escaped ? 2 : 1;
  if (escaped ? HAS_MODRM_0F(opcode) : HAS_MODRM.has(opcode)) {
    const modrm = bytes[at++]!;
    const mod = modrm >> 6;
    const rm = modrm & 7;
    parts.push({ name: 'ModRM', cells: [hex2(modrm)], note: `${bits(mod, 2).join('')} ${bits((modrm >> 3) & 7, 3).join('')} ${bits(rm, 3).join('')}` });
    let displacement = mod === 1 ? 1 : mod === 2 ? 4 : mod === 0 && rm === 5 ? 4 : 0;
    if (mod !== 3 && rm === 4) {
      const sib = bytes[at++]!;
      parts.push({ name: 'SIB', cells: [hex2(sib)], note: `${bits(sib >> 6, 2).join('')} ${bits((sib >> 3) & 7, 3).join('')} ${bits(sib & 7, 3).join('')}` });
      if (mod === 0 && (sib & 7) === 5) displacement = 4; // base 101 with mod 00: no base, a disp32
    }
    if (displacement > 0) {
      const disp = bytes.slice(at, at + displacement);
      parts.push({ name: `disp${displacement * 8}`, cells: [...disp].map(hex2), note: `= ${signedHex(disp)}` });
      at += displacement;
    }
  }
  if (at < bytes.length) {
    const immediate = bytes.slice(at);
    const size = { 1: 'imm8', 4: 'imm32', 8: 'imm64' }[immediate.length] ?? `${immediate.length} bytes`;
    parts.push({ name: size, cells: [...immediate].map(hex2), note: `= ${signedHex(immediate)}`, accent: true });
  }
  return parts;
}

/** Fields as words, for alt text: `REX 48 (W=1), opcode 83, …`. */
export function describe(fields: readonly Field[]): string {
  return fields.map((field) => `${field.name} ${field.cells.join(field.cells.length > 1 && field.cells[0]!.length > 1 ? ' ' : '')}${field.note ? ` (${field.note})` : ''}`).join(', ');
}


/** A REX prefix: 0100, then W (64-bit operands) and the R, X, B extension bits. */
export function rexBits(rex: number): Field[] {
  return [
    { name: 'fixed', cells: bits(rex >> 4, 4) },
    { name: 'W', cells: [String((rex >> 3) & 1)], note: (rex >> 3) & 1 ? '64-bit' : '32-bit', accent: true },
    { name: 'R', cells: [String((rex >> 2) & 1)] },
    { name: 'X', cells: [String((rex >> 1) & 1)] },
    { name: 'B', cells: [String(rex & 1)] },
  ];
}

/**
 * A ModRM byte: mod (11 = a register operand), reg (a register, or /digit), rm. With
 * `operands` (the instruction's REX byte, 0 if none, and whether reg is an opcode extension)
 * the notes name what each field selects: registers with REX's bit 3, the SIB escape, rip.
 */
export function modrmBits(modrm: number, operands?: { rex: number; extension: boolean }): Field[] {
  const mod = modrm >> 6;
  const reg = (modrm >> 3) & 7;
  const rm = modrm & 7;
  if (operands === undefined) {
    return [
      { name: 'mod', cells: bits(mod, 2), note: mod === 3 ? 'register' : 'memory' },
      { name: 'reg', cells: bits(reg, 3), note: `/${reg}`, accent: true },
      { name: 'rm', cells: bits(rm, 3), note: mod === 3 ? X64_REGISTERS[rm] : undefined },
    ];
  }
  const { rex, extension } = operands;
  const ripRelative = mod === 0 && rm === 5;
  return [
    { name: 'mod', cells: bits(mod, 2), note: ripRelative ? 'rip+d32' : ['no disp', 'disp8', 'disp32', 'direct'][mod] },
    { name: 'reg', cells: bits(reg, 3), note: extension ? `/${reg}` : X64_REGISTER_NAMES[reg | (((rex >> 2) & 1) << 3)] },
    {
      name: 'rm',
      cells: bits(rm, 3),
      note: mod !== 3 && rm === 4 ? 'SIB' : ripRelative ? 'rip' : X64_REGISTER_NAMES[rm | ((rex & 1) << 3)],
      accent: mod !== 3 && (rm === 4 || rm === 5),
    },
  ];
}

/** A SIB byte: scale (×1, ×2, ×4, ×8), index (100 without REX.X: none), base; registers with REX's bits. */
export function sibBits(sib: number, rex: number): Field[] {
  const index = ((sib >> 3) & 7) | (((rex >> 1) & 1) << 3);
  const base = (sib & 7) | ((rex & 1) << 3);
  return [
    { name: 'scale', cells: bits(sib >> 6, 2), note: `×${1 << (sib >> 6)}` },
    { name: 'index', cells: bits((sib >> 3) & 7, 3), note: index === 4 ? 'none' : X64_REGISTER_NAMES[index], accent: index === 4 },
    { name: 'base', cells: bits(sib & 7, 3), note: X64_REGISTER_NAMES[base] },
  ];
}

/** The fields of one AArch64 instruction class: bit ranges, high to low, covering all 32 bits. */
export interface WordClass {
  readonly mask: number;
  readonly value: number;
  readonly fields: readonly { name: string; hi: number; lo: number; note: (value: number) => string; accent?: boolean }[];
}

/** An AArch64 register field: x0–x30, or 31, which is sp or xzr by instruction. */
export const register = (value: number) => (value === 31 ? 'sp/xzr' : `x${value}`);

/** A field's value in hex, the way the manual writes immediates. */
export const hexValue = (value: number) => `0x${value.toString(16)}`;

/** Add/subtract (immediate): sf op S 100010 sh imm12 Rn Rd. */
export const ADD_SUB_IMMEDIATE: WordClass = {
  mask: 0x1f800000,
  value: 0x11000000,
  fields: [
    { name: 'sf', hi: 31, lo: 31, note: (v) => (v ? '64-bit' : '32-bit') },
    { name: 'op', hi: 30, lo: 30, note: (v) => (v ? 'sub' : 'add') },
    { name: 'S', hi: 29, lo: 29, note: (v) => (v ? 'flags' : 'no flags') },
    { name: 'add/sub imm', hi: 28, lo: 23, note: () => 'class' },
    { name: 'sh', hi: 22, lo: 22, note: (v) => (v ? 'lsl 12' : 'lsl 0') },
    { name: 'imm12', hi: 21, lo: 10, note: hexValue, accent: true },
    { name: 'Rn', hi: 9, lo: 5, note: register },
    { name: 'Rd', hi: 4, lo: 0, note: register },
  ],
};

/** Move wide (immediate): sf opc 100101 hw imm16 Rd (opc 00 movn, 10 movz, 11 movk). */
export const MOVE_WIDE: WordClass = {
  mask: 0x1f800000,
  value: 0x12800000,
  fields: [
    { name: 'sf', hi: 31, lo: 31, note: (v) => (v ? '64-bit' : '32-bit') },
    { name: 'opc', hi: 30, lo: 29, note: (v) => ['movn', '?', 'movz', 'movk'][v]! },
    { name: 'move wide', hi: 28, lo: 23, note: () => 'class' },
    { name: 'hw', hi: 22, lo: 21, note: (v) => `lsl ${16 * v}` },
    { name: 'imm16', hi: 20, lo: 5, note: hexValue, accent: true },
    { name: 'Rd', hi: 4, lo: 0, note: register },
  ],
};

/** An AArch64 word split into the fields of its class. */
export function armFields(word: number, wordClass: WordClass): Field[] {
  if (((word & wordClass.mask) >>> 0) !== wordClass.value) throw new Error(`0x${word.toString(16)} is not of the class this figure draws`);
  return wordClass.fields.map(({ name, hi, lo, note, accent }) => {
    const width = hi - lo + 1;
    const value = Number((BigInt(word >>> 0) >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
    return { name, cells: bits(value, width), note: note(value), accent };
  });
}

/** The 32-bit word of a disassembled AArch64 instruction (its bytes are least significant first). */
export function wordOf(line: DisasmLine): number {
  return new DataView(line.bytes.buffer, line.bytes.byteOffset, 4).getUint32(0, true);
}

/** An AArch64 base register field, where 31 is sp. */
const baseRegister = (value: number) => (value === 31 ? 'sp' : `x${value}`);

/** An AArch64 data register field, where 31 is xzr. */
const dataRegister = (value: number) => (value === 31 ? 'xzr' : `x${value}`);

/** A field's value read as a signed number of `width` bits. */
const signed = (value: number, width: number) => (value >= 2 ** (width - 1) ? value - 2 ** width : value);

/** Load/store register (unsigned immediate): size 111 V 01 opc imm12 Rn Rt; the offset is imm12 << size. */
export const LOAD_STORE_UNSIGNED_IMMEDIATE: WordClass = {
  mask: 0x3f000000,
  value: 0x39000000,
  fields: [
    { name: 'size', hi: 31, lo: 30, note: (v) => `${8 << v}-bit` },
    { name: 'ld/st uimm', hi: 29, lo: 24, note: () => 'class' },
    { name: 'opc', hi: 23, lo: 22, note: (v) => ['store', 'load'][v] ?? `${v}` },
    { name: 'imm12', hi: 21, lo: 10, note: (v) => `${v} × 8 = ${v * 8}`, accent: true },
    { name: 'Rn', hi: 9, lo: 5, note: baseRegister },
    { name: 'Rt', hi: 4, lo: 0, note: dataRegister },
  ],
};

/** The condition codes as the cond field of b.cond and csel numbers them. */
export const ARM_CONDITIONS = ['eq', 'ne', 'hs', 'lo', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al', 'nv'];

/** Conditional branch (immediate): 01010100 imm19 0 cond; the target is this word + imm19 × 4. */
export const CONDITIONAL_BRANCH: WordClass = {
  mask: 0xff000010,
  value: 0x54000000,
  fields: [
    { name: 'b.cond', hi: 31, lo: 24, note: () => 'class' },
    { name: 'imm19', hi: 23, lo: 5, note: (v) => `${signed(v, 19)} × 4 = ${signed(v, 19) * 4} bytes`, accent: true },
    { name: 'o0', hi: 4, lo: 4, note: () => '' },
    { name: 'cond', hi: 3, lo: 0, note: (v) => ARM_CONDITIONS[v]! },
  ],
};
