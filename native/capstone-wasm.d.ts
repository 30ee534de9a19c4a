// capstone-wasm ships types, but its package.json "exports" hides them from NodeNext
// resolution. This declares the part of its API the workbook uses.
declare module 'capstone-wasm' {
  export interface Insn {
    id: number;
    address: number | bigint;
    size: number;
    bytes: Uint8Array;
    mnemonic: string;
    opStr: string;
  }
  export class Capstone {
    constructor(arch: number, mode: number);
    disasm(data: number[] | Uint8Array, options?: { address?: number | bigint; count?: number }): Insn[];
    close(): void;
  }
  export const Const: {
    readonly CS_ARCH_X86: number;
    readonly CS_ARCH_ARM64: number;
    readonly CS_MODE_64: number;
    readonly CS_MODE_ARM: number;
  };
  export function loadCapstone(args?: Record<string, unknown>): Promise<void>;
}
