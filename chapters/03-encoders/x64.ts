/**
 * Chapter 03: an x86-64 instruction encoder for the subset the workbook needs.
 *
 * Every encoder is a pure function: it takes operands and returns the bytes of exactly one
 * instruction as a fresh array, or throws a RangeError that names the instruction and the
 * field that does not fit. Nothing is appended anywhere; `CodeBuffer` does that.
 *
 * The naming rule, stated once: mnemonic + operand width + operand kinds, destination first.
 *   q      64-bit operation (REX.W = 1)        b    8-bit register operand
 *   r      a register                          i    an immediate
 *   m      a memory operand (`Mem`)            cl   the shift count in cl
 *   rel8, rel32  a jump displacement, counted from the END of the instruction
 * So `movq_rm(Reg.rax, mem(Reg.rbx, 8))` is `mov rax, [rbx+8]`, and `movq_mr` is the store.
 *
 * Where x86-64 offers two encodings of the same instruction, these encoders pick the one
 * GNU as picks by default, so their output can be compared byte for byte with it:
 *   - register-to-register mov/add/sub/and/or/xor/cmp/test use the "MR" opcode (89, 01, …),
 *     with the source in ModRM.reg and the destination in ModRM.rm;
 *   - add/sub/… with an immediate use 83 /n ib when it fits in a signed byte, the short
 *     accumulator opcode (05, 2D, …) for rax, and 81 /n id otherwise;
 *   - shifts by one use D1 /n (no immediate byte);
 *   - mov of a 64-bit immediate uses C7 /0 id (sign-extended imm32) when the value fits,
 *     and the 10-byte `movabs` (REX.W B8+r io) only when it does not.
 */
import { todo } from '#native/todo.ts';
// TODO: replace every `todo(...)` with the encoding. book/03-encoders.md walks through
//       the REX, ModRM and SIB bytes; run `npm run check chapter-03` after each family.

/** The sixteen general-purpose registers, numbered as the hardware numbers them. */
export const Reg = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type Reg = (typeof Reg)[keyof typeof Reg];

export const REG_NAMES: readonly string[] = [
  'rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
];

/** The low bytes of the same registers. 4–7 are spl/bpl/sil/dil only when a REX prefix is present. */
export const BYTE_REG_NAMES: readonly string[] = [
  'al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil',
  'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b',
];

/**
 * Condition codes, with the numbers the hardware puts in the low nibble of Jcc and SETcc.
 * They come in pairs that differ only in bit 0, so the opposite condition is `cc ^ 1`.
 * b/ae/be/a compare unsigned; l/ge/le/g compare signed.
 */
export const Cond = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7,
  s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
} as const;
export type Cond = (typeof Cond)[keyof typeof Cond];

export const COND_NAMES: readonly string[] = [
  'o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g',
];

/** The condition that holds exactly when `cc` does not. */
export function negate(cc: Cond): Cond {
  return (cc ^ 1) as Cond;
}

export type Scale = 1 | 2 | 4 | 8;

/** A memory operand: [base + index*scale + disp]. A value: build it with `mem`, pass it around. */
export interface Mem {
  readonly base: Reg;
  readonly index: Reg | null;
  readonly scale: Scale;
  readonly disp: number;
}

/** `[base + disp]` or `[base + index*scale + disp]`. */
export function mem(base: Reg, disp?: number): Mem;
export function mem(base: Reg, index: Reg, scale: Scale, disp?: number): Mem;
export function mem(base: Reg, indexOrDisp = 0, scale?: Scale, disp = 0): Mem {
  const m: Mem = scale === undefined
    ? { base, index: null, scale: 1, disp: indexOrDisp }
    : { base, index: indexOrDisp as Reg, scale, disp };
  checkMem('mem', m);
  return m;
}

function checkMem(insn: string, m: Mem): void {
  const where = `${insn} ${formatMem(m)}`;
  checkReg(where, 'base', m.base);
  if (m.index !== null) {
    checkReg(where, 'index', m.index);
    if (m.index === Reg.rsp) fail(where, 'index cannot be rsp (SIB index 100 means "no index")');
  }
  if (![1, 2, 4, 8].includes(m.scale)) fail(where, `scale must be 1, 2, 4 or 8, got ${m.scale}`);
  if (!isInt32(m.disp)) fail(where, 'disp must fit in a signed 32-bit displacement (-2147483648..2147483647)');
}

export function formatMem(m: Mem): string {
  let text = REG_NAMES[m.base] ?? `?${m.base}`;
  if (m.index !== null) text += `+${REG_NAMES[m.index] ?? `?${m.index}`}*${m.scale}`;
  if (m.disp !== 0) text += m.disp < 0 ? `-${-m.disp}` : `+${m.disp}`;
  return `qword ptr [${text}]`;
}

// ---------------------------------------------------------------------------------------
// The three bytes that follow (or precede) the opcode.

//  REX prefix            0 1 0 0 W R X B
//    W  1 = 64-bit operand size
//    R  bit 3 of ModRM.reg   (the register operand)
//    X  bit 3 of SIB.index
//    B  bit 3 of ModRM.rm, of SIB.base, or of the register in the opcode (push r9 = 41 51)
//
//  ModRM                 mod(2) reg(3) rm(3)
//    mod 11  rm is a register
//    mod 00  [rm]          mod 01  [rm + disp8]          mod 10  [rm + disp32]
//    rm 100 with mod != 11: a SIB byte follows        (the rsp/r12 special case)
//    rm 101 with mod == 00: [rip + disp32], not [rbp]  (the rbp/r13 special case)
//    reg  the other register operand, or an opcode extension (/0 … /7)
//
//  SIB                   scale(2) index(3) base(3)
//    address = base + index << scale;  index 100 (without REX.X) means no index
/** The REX prefix byte. The 4-bit register numbers contribute only their bit 3. */
export function rex(w: boolean, reg: number, index: number, base: number): number {
  // TODO: The REX prefix byte: 0100WRXB. `reg`, `index` and `base` are full 4-bit register numbers
  //       (0..15); only their bit 3 goes into R, X and B. Always returns a byte, even 0x40.
  //       Example: rex(true, 0, 0, 9) is 0x49.
  return todo('x64.rex');
}

/** The ModRM byte: mod in bits 7:6, the low 3 bits of reg in 5:3, the low 3 bits of rm in 2:0. */
export function modrm(mod: number, reg: number, rm: number): number {
  return todo('x64.modrm');
}

/** The SIB byte: log2(scale) in bits 7:6, the low 3 bits of index in 5:3, of base in 2:0. */
export function sib(scale: Scale, index: number, base: number): number {
  return todo('x64.sib');
}

/**
 * ModRM, SIB and displacement bytes for `reg` (a register number or an opcode extension)
 * and the memory operand `m`. The two special cases of x86-64 addressing live here, once.
 */
export function addressBytes(reg: number, m: Mem): number[] {
  // TODO: and the memory operand `m`. The two special cases of x86-64 addressing live here, once:
  //         - mod: 00 when disp is 0, 01 (disp8) when it fits in -128..127, else 10 (disp32);
  //           BUT a base whose low bits are 101 (rbp, r13) cannot use mod 00 (that means rip+disp32):
  //           it takes mod 01 with a disp8 of 0;
  //         - with no index and a base whose low bits are not 100: just ModRM with rm = base;
  //           otherwise (an index, or a base of rsp/r12, whose 100 means "SIB follows"): ModRM with
  //           rm = 100 and a SIB byte; with no index, SIB.index is 100 ("none").
  //       Displacements are little-endian. REX is not emitted here: see `rm` below.
  return todo('x64.addressBytes');
}

// ---------------------------------------------------------------------------------------
// Shared shapes. `ext` is an opcode extension: the /n that goes into ModRM.reg.

/** REX, but only when something in it is needed (or `force`: byte registers spl..dil). */
function rexIfNeeded(w: boolean, reg: number, index: number, base: number, force = false): number[] {
  const byte = rex(w, reg, index, base);
  return byte !== 0x40 || force ? [byte] : [];
}

/** opcode with a register-direct ModRM: mod 11. */
function rr(w: boolean, opcode: readonly number[], reg: number, rm: number): number[] {
  return [...rexIfNeeded(w, reg, 0, rm), ...opcode, modrm(0b11, reg, rm)];
}

/** opcode with a memory ModRM (and maybe SIB and displacement). */
function rm(w: boolean, opcode: readonly number[], reg: number, m: Mem): number[] {
  return [...rexIfNeeded(w, reg, m.index ?? 0, m.base), ...opcode, ...addressBytes(reg, m)];
}

// ---------------------------------------------------------------------------------------
// Moves

/** mov dst, src   (REX.W 89 /r: src in ModRM.reg, dst in ModRM.rm, as GNU as encodes it) */
export function movq_rr(dst: Reg, src: Reg): number[] {
  regs('mov', dst, src);
  return rr(true, [0x89], src, dst);
}

/**
 * mov dst, imm   for any 64-bit value (`imm` may be given signed or unsigned).
 * Sign-extended imm32 (REX.W C7 /0 id, 7 bytes) when the value fits, else
 * movabs (REX.W B8+r io, 10 bytes).
 */
export function movq_ri(dst: Reg, imm: bigint): number[] {
  // TODO: mov dst, imm for any 64-bit value, given signed or unsigned (a bigint in -2^63..2^64-1,
  //       else RangeError mentioning imm64). Normalise with BigInt.asIntN(64, imm); then
  //         fits in int32:  REX.W C7 /0 id      (7 bytes: the imm32 is sign-extended)
  //         otherwise:      REX.W B8+r io       (10 bytes, "movabs"; low 3 bits of dst in the opcode, bit 3 in REX.B)
  return todo('x64.movq_ri');
}

/** mov dst, qword ptr [m]   (REX.W 8B /r) */
export function movq_rm(dst: Reg, m: Mem): number[] {
  // TODO: mov dst, qword ptr [m]: REX.W 8B /r (dst in ModRM.reg).
  return todo('x64.movq_rm');
}

/** mov qword ptr [m], src   (REX.W 89 /r) */
export function movq_mr(m: Mem, src: Reg): number[] {
  // TODO: mov qword ptr [m], src: REX.W 89 /r (src in ModRM.reg).
  return todo('x64.movq_mr');
}

/** mov qword ptr [m], imm   (REX.W C7 /0 id: the imm32 is sign-extended to 64 bits) */
export function movq_mi(m: Mem, imm: number): number[] {
  // TODO: mov qword ptr [m], imm: REX.W C7 /0 id; imm is an int32, sign-extended (else RangeError: imm32).
  return todo('x64.movq_mi');
}

/** lea dst, [m]: the address itself, no memory access   (REX.W 8D /r) */
export function leaq_rm(dst: Reg, m: Mem): number[] {
  // TODO: lea dst, [m]: computes the address, touches no memory. REX.W 8D /r.
  return todo('x64.leaq_rm');
}

/**
 * movabs dst, imm: always the 10-byte form (REX.W B8+r io), whatever the value, so that the
 * eight immediate bytes (at offset 2) can be patched later with another 64-bit value.
 */
export function movabsq_ri(dst: Reg, imm: bigint): number[] {
  return todo('x64.movabsq_ri');
}

/**
 * lea dst, [rip + rel]: the address `rel` bytes past the END of this 7-byte instruction
 * (REX.W 8D /r with mod 00 and rm 101, the pattern that means [rip + disp32]).
 */
export function leaq_rip(dst: Reg, rel: number): number[] {
  return todo('x64.leaq_rip');
}

/** movzx dst, src8: zero-extends the low byte of src   (REX.W 0F B6 /r) */
export function movzxb_rr(dst: Reg, src: Reg): number[] {
  // TODO: movzx dst, src8: REX.W 0F B6 /r, dst in ModRM.reg. (REX.W is always there, so 4..7 are spl..dil.)
  return todo('x64.movzxb_rr');
}

/** push src   (50+r; REX.B for r8..r15) */
export function push_r(src: Reg): number[] {
  // TODO: push src: 50+r, with REX.B (0x41) for r8..r15 and no REX.W.
  return todo('x64.push_r');
}

/** pop dst   (58+r) */
export function pop_r(dst: Reg): number[] {
  // TODO: pop dst: 58+r, with REX.B for r8..r15.
  return todo('x64.pop_r');
}

// ---------------------------------------------------------------------------------------
// Arithmetic and logic. The classic eight share one pattern: /n is the operation.
//   add /0   or /1   and /4   sub /5   xor /6   cmp /7
//   rr: opcode 8n+1 (MR form)    ri: 83 /n ib, 8n+5 id for rax, 81 /n id

function aluRR(name: string, n: number, dst: Reg, src: Reg): number[] {
  return todo('x64.aluRR');
}

function aluRI(name: string, n: number, dst: Reg, imm: number): number[] {
  return todo('x64.aluRI');
}

/** add dst, src */
export function addq_rr(dst: Reg, src: Reg): number[] {
  return todo('x64.addq_rr');
}

/** add dst, imm   (imm: a signed 32-bit value, sign-extended to 64 bits) */
export function addq_ri(dst: Reg, imm: number): number[] {
  // TODO: add dst, imm
  return todo('x64.addq_ri');
}

/** or dst, src */
export function orq_rr(dst: Reg, src: Reg): number[] {
  return todo('x64.orq_rr');
}

/** or dst, imm */
export function orq_ri(dst: Reg, imm: number): number[] {
  return todo('x64.orq_ri');
}

/** and dst, src */
export function andq_rr(dst: Reg, src: Reg): number[] {
  return todo('x64.andq_rr');
}

/** and dst, imm */
export function andq_ri(dst: Reg, imm: number): number[] {
  return todo('x64.andq_ri');
}

/** sub dst, src */
export function subq_rr(dst: Reg, src: Reg): number[] {
  return todo('x64.subq_rr');
}

/** sub dst, imm */
export function subq_ri(dst: Reg, imm: number): number[] {
  return todo('x64.subq_ri');
}

/** xor dst, src */
export function xorq_rr(dst: Reg, src: Reg): number[] {
  return todo('x64.xorq_rr');
}

/** xor dst, imm */
export function xorq_ri(dst: Reg, imm: number): number[] {
  return todo('x64.xorq_ri');
}

/** cmp a, b: sets flags from a - b */
export function cmpq_rr(a: Reg, b: Reg): number[] {
  return todo('x64.cmpq_rr');
}

/** cmp a, imm */
export function cmpq_ri(a: Reg, imm: number): number[] {
  return todo('x64.cmpq_ri');
}

/** test a, b: sets flags from a & b   (REX.W 85 /r) */
export function testq_rr(a: Reg, b: Reg): number[] {
  // TODO: test a, b: flags from a & b. REX.W 85 /r, b in ModRM.reg.
  return todo('x64.testq_rr');
}

/** test a, imm   (REX.W A9 id for rax, REX.W F7 /0 id otherwise; there is no imm8 form) */
export function testq_ri(a: Reg, imm: number): number[] {
  // TODO: test a, imm: REX.W A9 id for rax, REX.W F7 /0 id otherwise. No imm8 form.
  return todo('x64.testq_ri');
}

/** imul dst, src: dst = low 64 bits of dst * src   (REX.W 0F AF /r, dst in ModRM.reg) */
export function imulq_rr(dst: Reg, src: Reg): number[] {
  // TODO: imul dst, src: low 64 bits of dst * src. REX.W 0F AF /r with dst in ModRM.reg (unlike mov!).
  return todo('x64.imulq_rr');
}

/**
 * imul src (one operand): rdx:rax = rax * src, the full signed 128-bit product; rdx holds
 * the high 64 bits   (REX.W F7 /5)
 */
export function imulq_r(src: Reg): number[] {
  return todo('x64.imulq_r');
}

/** cqo: sign-extends rax into rdx:rax, the dividend idiv expects   (REX.W 99) */
export function cqo(): number[] {
  // TODO: cqo: sign-extends rax into rdx:rax before idiv. REX.W 99.
  return todo('x64.cqo');
}

/** idiv src: rax = rdx:rax / src, rdx = remainder (signed)   (REX.W F7 /7) */
export function idivq_r(src: Reg): number[] {
  // TODO: idiv src: rax = rdx:rax / src, rdx = remainder. REX.W F7 /7.
  return todo('x64.idivq_r');
}

/**
 * div src32: eax = edx:eax / src32, edx = remainder (unsigned, 32 bits wide; both results
 * zero-extended into rax and rdx)   (F7 /6, no REX.W; REX.B for r8d..r15d)
 */
export function divl_r(src: Reg): number[] {
  regs('div', src);
  return rr(false, [0xf7], 6, src);
}

/** neg dst: dst = -dst   (REX.W F7 /3) */
export function negq_r(dst: Reg): number[] {
  // TODO: neg dst: REX.W F7 /3.
  return todo('x64.negq_r');
}

/** not dst: dst = ~dst   (REX.W F7 /2) */
export function notq_r(dst: Reg): number[] {
  // TODO: not dst: REX.W F7 /2.
  return todo('x64.notq_r');
}

// ---------------------------------------------------------------------------------------
// Shifts: shl /4, shr /5, sar /7.  By 1: D1 /n; by imm8: C1 /n ib; by cl: D3 /n.

function shiftRI(name: string, n: number, dst: Reg, count: number): number[] {
  return todo('x64.shiftRI');
}

/** shl dst, count */
export function shlq_ri(dst: Reg, count: number): number[] {
  return todo('x64.shlq_ri');
}

/** shr dst, count (logical: fills with zeros) */
export function shrq_ri(dst: Reg, count: number): number[] {
  return todo('x64.shrq_ri');
}

/** sar dst, count (arithmetic: fills with copies of the sign bit) */
export function sarq_ri(dst: Reg, count: number): number[] {
  return todo('x64.sarq_ri');
}

/** shl dst, cl */
export function shlq_rcl(dst: Reg): number[] {
  return todo('x64.shlq_rcl');
}

/** shr dst, cl */
export function shrq_rcl(dst: Reg): number[] {
  return todo('x64.shrq_rcl');
}

/** sar dst, cl */
export function sarq_rcl(dst: Reg): number[] {
  return todo('x64.sarq_rcl');
}

// ---------------------------------------------------------------------------------------
// Conditions

/**
 * setcc dst8: the low byte of dst = 1 if cc holds, else 0; the other 56 bits are untouched.
 * (0F 90+cc /0.) Without a REX prefix, byte registers 4..7 are ah/ch/dh/bh; an empty REX
 * (0x40) turns them into spl/bpl/sil/dil, so it is emitted for those even though W, R, X
 * and B are all zero.
 */
export function setcc_r(cc: Cond, dst: Reg): number[] {
  // TODO: setcc dst8: 0F 90+cc /0 on the low byte of dst (no REX.W). Without a REX prefix, byte
  //       registers 4..7 are ah/ch/dh/bh; an otherwise empty REX (0x40) makes them spl/bpl/sil/dil.
  //       So: REX for 8..15 (REX.B) and for 4..7 (0x40); none for 0..3.
  return todo('x64.setcc_r');
}

/** cmovcc dst, src: dst = src if cc holds, else dst is unchanged   (REX.W 0F 40+cc /r, dst in ModRM.reg) */
export function cmovcc_rr(cc: Cond, dst: Reg, src: Reg): number[] {
  return todo('x64.cmovcc_rr');
}

// ---------------------------------------------------------------------------------------
// Control flow. `rel` counts from the end of the jump instruction to the target.

/** jmp rel32   (E9 cd) */
export function jmp_rel32(rel: number): number[] {
  // TODO: jmp rel32: E9 cd
  return todo('x64.jmp_rel32');
}

/** jmp rel8   (EB cb) */
export function jmp_rel8(rel: number): number[] {
  // TODO: jmp rel8: EB cb
  return todo('x64.jmp_rel8');
}

/** jcc rel32   (0F 80+cc cd) */
export function jcc_rel32(cc: Cond, rel: number): number[] {
  // TODO: jcc rel32: 0F 80+cc cd   (the mnemonic in errors is j + the condition: je, jl, …)
  return todo('x64.jcc_rel32');
}

/** jcc rel8   (70+cc cb) */
export function jcc_rel8(cc: Cond, rel: number): number[] {
  // TODO: jcc rel8: 70+cc cb
  return todo('x64.jcc_rel8');
}

/** call rel32   (E8 cd) */
export function call_rel32(rel: number): number[] {
  // TODO: call rel32: E8 cd
  return todo('x64.call_rel32');
}

/** call target (an absolute address in a register)   (FF /2; no REX.W needed) */
export function call_r(target: Reg): number[] {
  // TODO: call target (an absolute address in a register): FF /2, no REX.W
  return todo('x64.call_r');
}

/** jmp target (an absolute address in a register)   (FF /4) */
export function jmp_r(target: Reg): number[] {
  // TODO: jmp target (an absolute address in a register): FF /4, no REX.W
  return todo('x64.jmp_r');
}

/** ret   (C3) */
export function ret(): number[] {
  // TODO: ret: C3
  return todo('x64.ret');
}

/** ud2: an instruction guaranteed to raise SIGILL   (0F 0B) */
export function ud2(): number[] {
  // TODO: ud2: 0F 0B, guaranteed to raise SIGILL
  return todo('x64.ud2');
}

/** int3: a breakpoint, raises SIGTRAP   (CC) */
export function int3(): number[] {
  // TODO: int3: CC, a breakpoint (SIGTRAP)
  return todo('x64.int3');
}

/** nop   (90) */
export function nop(): number[] {
  // TODO: nop: 90
  return todo('x64.nop');
}

// ---------------------------------------------------------------------------------------
// Field checks and little-endian helpers.

function fail(insn: string, message: string): never {
  throw new RangeError(`${insn}: ${message}`);
}

function isInt8(n: number): boolean {
  return Number.isInteger(n) && n >= -128 && n <= 127;
}

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000_0000 && n <= 0x7fff_ffff;
}

function checkReg(insn: string, field: string, r: number): void {
  if (!Number.isInteger(r) || r < 0 || r > 15) fail(insn, `${field} must be a register number 0..15, got ${r}`);
}

/** Throws unless every register is 0..15: `regs('mov', dst, src)`. */
function regs(insn: string, ...rs: number[]): void {
  rs.forEach((r, i) => checkReg(insn, `register operand ${i + 1}`, r));
}

function cond(insn: string, cc: number): void {
  todo('x64.cond');
}

function imm32(insn: string, imm: number): void {
  todo('x64.imm32');
}

function rel8(insn: string, rel: number): void {
  todo('x64.rel8');
}

function rel32(insn: string, rel: number): void {
  todo('x64.rel32');
}

/** The four bytes of a 32-bit value (signed or unsigned), least significant first. */
function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** The eight bytes of a 64-bit value, least significant first. */
function le64(n: bigint): number[] {
  const out: number[] = [];
  for (let i = 0n; i < 64n; i += 8n) out.push(Number((n >> i) & 0xffn));
  return out;
}
