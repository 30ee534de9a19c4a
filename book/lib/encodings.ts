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

/** Opcodes (of those the figures draw) that a ModRM byte follows; the others carry no operand byte. */
export const HAS_MODRM = new Set([0x01, 0x83, 0x89]);

/**
 * An x86-64 instruction of the adder, split into its parts: a REX prefix (0x40–0x4f), the
 * opcode, a ModRM byte for the opcodes that have one, and the immediate (the rest).
 */
export function x64Parts(bytes: Uint8Array): Field[] {
  const parts: Field[] = [];
  let at = 0;
  if (bytes[at]! >= 0x40 && bytes[at]! <= 0x4f) {
    const rex = bytes[at++]!;
    parts.push({ name: 'REX', cells: [hex2(rex)], note: `W=${(rex >> 3) & 1}` });
  }
  const opcode = bytes[at++]!;
  const register = opcode >= 0xb8 && opcode <= 0xbf ? ` (b8+${opcode - 0xb8})` : '';
  parts.push({ name: 'opcode', cells: [hex2(opcode)], note: register.trim() || undefined });
  if (HAS_MODRM.has(opcode)) {
    const modrm = bytes[at++]!;
    parts.push({ name: 'ModRM', cells: [hex2(modrm)], note: `${bits(modrm >> 6, 2).join('')} ${bits((modrm >> 3) & 7, 3).join('')} ${bits(modrm & 7, 3).join('')}` });
  }
  if (at < bytes.length) {
    const immediate = bytes.slice(at);
    const size = { 1: 'imm8', 4: 'imm32', 8: 'imm64' }[immediate.length] ?? `${immediate.length} bytes`;
    const value = BigInt.asIntN(immediate.length * 8, [...immediate].reduceRight((sum, byte) => (sum << 8n) | BigInt(byte), 0n));
    const shown = value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
    parts.push({ name: size, cells: [...immediate].map(hex2), note: `= ${shown}`, accent: true });
  }
  return parts;
}

/** Fields as words, for alt text: `REX 48 (W=1), opcode 83, …`. */
export function describe(fields: readonly Field[]): string {
  return fields.map((field) => `${field.name} ${field.cells.join(field.cells.length > 1 && field.cells[0]!.length > 1 ? ' ' : '')}${field.note ? ` (${field.note})` : ''}`).join(', ');
}

/** x86-64 register numbers 0–7, as a ModRM field or an opcode's low bits name them. */
export const X64_REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];

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

/** A ModRM byte: mod (11 = a register operand), reg (a register, or /digit), rm. */
export function modrmBits(modrm: number): Field[] {
  const mod = modrm >> 6;
  return [
    { name: 'mod', cells: bits(mod, 2), note: mod === 3 ? 'register' : 'memory' },
    { name: 'reg', cells: bits((modrm >> 3) & 7, 3), note: `/${(modrm >> 3) & 7}`, accent: true },
    { name: 'rm', cells: bits(modrm & 7, 3), note: mod === 3 ? X64_REGISTERS[modrm & 7] : undefined },
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
