import type { Arch } from '#native/arch.ts';
import type { VmModules } from './vm-modules.ts';

export async function startRepl(_vm: VmModules, _options: { readonly arch: Arch }): Promise<void> {
  process.stdout.write('repl: not yet\n');
}
