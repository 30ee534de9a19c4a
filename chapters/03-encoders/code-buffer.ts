/**
 * Chapter 03: the byte buffer both encoders write into.
 *
 * The encoders in x64.ts and arm64.ts are pure functions: each returns the bytes (x86-64)
 * or the 32-bit word (AArch64) of one instruction and appends nothing. `CodeBuffer` is the
 * one place that appends, so that chapter 04 can put labels, fixups and a MacroAssembler
 * on top of it without touching a single encoder:
 *
 *   const code = new CodeBuffer();
 *   code.emit(x64.movq_rr(Reg.rax, Reg.rdi));   // bytes
 *   code.emit32(arm64.ret());                    // a word, stored little-endian
 *   runCode(code.bytes(), 42n);
 */
export class CodeBuffer {
  #bytes = new Uint8Array(64);
  #size = 0;

  /** Bytes emitted so far: also the offset the next instruction will land at. */
  get size(): number {
    return this.#size;
  }

  /** Appends bytes; returns the offset of the first one. */
  emit(bytes: readonly number[] | Uint8Array): number {
    const at = this.#size;
    this.#reserve(bytes.length);
    for (const byte of bytes) {
      if (!Number.isInteger(byte) || byte < 0 || byte > 0xff) {
        throw new RangeError(`CodeBuffer.emit: ${byte} is not a byte (0..255)`);
      }
      this.#bytes[this.#size++] = byte;
    }
    return at;
  }

  /** Appends one 32-bit word, least significant byte first (how AArch64 stores instructions). */
  emit32(word: number): number {
    if (!Number.isInteger(word) || word < -0x8000_0000 || word > 0xffff_ffff) {
      throw new RangeError(`CodeBuffer.emit32: ${word} is not a 32-bit word`);
    }
    return this.emit([word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, (word >>> 24) & 0xff]);
  }

  /** A copy of everything emitted so far. */
  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#size);
  }

  #reserve(extra: number): void {
    if (this.#size + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#size + extra));
    grown.set(this.#bytes.subarray(0, this.#size));
    this.#bytes = grown;
  }
}
