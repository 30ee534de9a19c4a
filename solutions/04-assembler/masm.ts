/**
 * Chapter 04: one MacroAssembler for either ISA. Code above the assembler (chapter 07 and
 * later) creates its masm here and never names an ISA again:
 *
 *   const masm = createMacroAssembler(hostArch());
 *   const { args, result } = masm.regs;
 *   masm.add(result, args[0]!, args[1]!);
 *   masm.ret();
 *   const code = masm.finish();
 */
import type { Arch } from '#native/arch.ts';
import type { MacroAssembler } from './macro-assembler.ts';
import { MacroAssemblerX64 } from './masm-x64.ts';
import { MacroAssemblerArm64 } from './masm-arm64.ts';

export type { Condition, Frame, Label, ListingLine, MacroAssembler, PatchableCall, Register, RegisterRoles } from './macro-assembler.ts';
export { negate } from './macro-assembler.ts';
export { formatListing } from './assembler.ts';
export { MacroAssemblerX64 } from './masm-x64.ts';
export { MacroAssemblerArm64 } from './masm-arm64.ts';

export function createMacroAssembler(arch: Arch): MacroAssembler {
  switch (arch) {
    case 'x64':
      return new MacroAssemblerX64();
    case 'arm64':
      return new MacroAssemblerArm64();
    default:
      throw new Error(`createMacroAssembler: no MacroAssembler for architecture '${String(arch)}' (x64 or arm64)`);
  }
}
