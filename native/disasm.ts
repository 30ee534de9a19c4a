/**
 * Disassembly for checks, reports and the REPL, through capstone's WebAssembly build, which
 * runs in Node on either architecture and disassembles both. Never throws on bad bytes:
 * whatever capstone cannot decode is shown as data (`.byte 0x0f` on x86-64, `.inst
 * 0x…` for a whole AArch64 word), and decoding resumes after it.
 */
import { Capstone, Const, loadCapstone } from 'capstone-wasm';
import type { Arch } from './arch.ts';

await loadCapstone();

export interface DisasmLine {
  /** Offset of the instruction from the start of the given bytes. */
  offset: number;
  bytes: Uint8Array;
  mnemonic: string;
  operands: string;
  /** `mnemonic operands`, as one string. */
  text: string;
}

const engines = new Map<Arch, Capstone>();

/** At most this many bytes and instructions go to capstone in one call. */
const PIECE_BYTES = 4096;
const PIECE_INSTRUCTIONS = 512;
/** The longest instruction of either ISA (x86-64: 15 bytes). */
const MAX_INSTRUCTION_BYTES = 15;

function engine(arch: Arch): Capstone {
  let cs = engines.get(arch);
  if (!cs) {
    cs = arch === 'x64' ? new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64) : new Capstone(Const.CS_ARCH_ARM64, Const.CS_MODE_ARM);
    engines.set(arch, cs);
  }
  return cs;
}

function hexNumber(n: number, width: number): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}

/** Bytes as two-digit hex, space-separated: `48 89 c8`. */
export function hex(bytes: Uint8Array | readonly number[]): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Disassembles `bytes` as `arch` code. `address` is where the first byte is (or would be)
 * in memory; it only changes how branch targets are printed. Offsets stay relative.
 */
export function disassemble(bytes: Uint8Array | readonly number[], arch: Arch, address: bigint | number = 0): DisasmLine[] {
  const code = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  const base = BigInt(address);
  const cs = engine(arch);
  const lines: DisasmLine[] = [];
  let at = 0;
  while (at < code.length) {
    let decoded: ReturnType<Capstone['disasm']> = [];
    try {
      // A bounded piece at a time: capstone's WebAssembly memory is small, and decoding a whole
      // large region at once runs out of it (and breaks the engine for good).
      decoded = cs.disasm(code.subarray(at, at + PIECE_BYTES), { address: base + BigInt(at), count: PIECE_INSTRUCTIONS });
    } catch {
      decoded = [];
    }
    const before = at;
    for (const insn of decoded) {
      const offset = Number(BigInt(insn.address) - base);
      const operands = insn.opStr;
      lines.push({
        offset,
        bytes: code.slice(offset, offset + insn.size),
        mnemonic: insn.mnemonic,
        operands,
        text: operands ? `${insn.mnemonic} ${operands}` : insn.mnemonic,
      });
      at = offset + insn.size;
    }
    if (at >= code.length) break;
    // A full piece: go on with the next one. (A piece cut inside an instruction ends short of
    // the cut, so the instruction is decoded whole at the start of the next piece.)
    const pieceWasCut = before + PIECE_BYTES < code.length;
    if (decoded.length === PIECE_INSTRUCTIONS || (pieceWasCut && at > before && at >= before + PIECE_BYTES - MAX_INSTRUCTION_BYTES)) continue;
    // Capstone stopped at something it cannot decode: show it as data and move past it.
    if (arch === 'arm64' && code.length - at >= 4) {
      const word = (code[at]! | (code[at + 1]! << 8) | (code[at + 2]! << 16) | (code[at + 3]! << 24)) >>> 0;
      // Capstone 5 leaves udf (the permanently undefined word 0x0000xxxx) undecoded.
      const mnemonic = word >>> 16 === 0 ? 'udf' : '.inst';
      const operands = word >>> 16 === 0 ? `#${hexNumber(word, 1)}` : hexNumber(word, 8);
      lines.push({ offset: at, bytes: code.slice(at, at + 4), mnemonic, operands, text: `${mnemonic} ${operands}` });
      at += 4;
    } else {
      const operands = hexNumber(code[at]!, 2);
      lines.push({ offset: at, bytes: code.slice(at, at + 1), mnemonic: '.byte', operands, text: `.byte ${operands}` });
      at += 1;
    }
  }
  return lines;
}

/** One line per instruction: `  0004  48 89 c8        mov rax, rcx`. */
export function formatDisassembly(lines: readonly DisasmLine[], indent = '  '): string {
  return lines
    .map((line) => {
      return `${indent}${line.offset.toString(16).padStart(4, '0')}  ${hex(line.bytes).padEnd(30)}  ${line.text}`;
    })
    .join('\n');
}
