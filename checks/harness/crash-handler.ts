/**
 * Turns a crash in generated code into a report. Installed in every check worker.
 *
 * When a learner's machine code faults (SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP) the
 * kernel calls a signal handler with three arguments: the signal number, a `siginfo_t *`
 * (fault address at offset 16) and a `ucontext_t *` holding every register at the moment
 * of the fault. JavaScript cannot run there, so the handler is a few instructions of
 * machine code, one version per ISA:
 *
 *   write(CRASH_FD, siginfo, 32)         signal number, code and fault address
 *   write(CRASH_FD, &uc->registers, N)   every general register, pc and sp included
 *   kill(getpid(), signal)               die of the same signal (the handler is one-shot)
 *
 * The runner reads those bytes from the other end of the pipe and finds the faulting pc
 * within the code regions the worker reported, so a crash is shown as an offset and a
 * disassembly. The runner also uses SIGUSR2 to ask a hung worker where it is.
 *
 * The handler runs on its own stack (sigaltstack), so a stack overflow in generated code
 * can still be reported.
 */
import koffi from 'koffi';
import { hostArch, wordsToBytes, type Arch } from '#native/arch.ts';
import { unreported } from '#native/libc-calls.ts';
import { MAP, MAP_FAILED, PROT, copyIn, mmap, mprotect } from '#native/libc.ts';

/** The file descriptor the worker inherits for crash reports (stdio index 4). */
export const CRASH_FD = 4;

export const SIGNALS = { SIGILL: 4, SIGTRAP: 5, SIGBUS: 7, SIGFPE: 8, SIGSEGV: 11, SIGUSR2: 12 } as const;

// Offsets of the saved registers in ucontext_t (Linux):
//   x86-64:  uc_mcontext.gregs at 40; 23 registers r8…r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, …
//   AArch64: uc_mcontext at 176: fault_address, x0…x30, sp, pc, pstate (35 × 8 bytes)
export const REGISTER_BLOCK = {
  x64: { offset: 40, length: 184 },
  arm64: { offset: 176, length: 280 },
} as const satisfies Record<Arch, { offset: number; length: number }>;

export const SIGINFO_LENGTH = 32;

const X64_HANDLER = [
  0x49, 0x89, 0xd0, //             mov r8, rdx          ucontext
  0x49, 0x89, 0xf1, //             mov r9, rsi          siginfo
  0x41, 0x89, 0xfa, //             mov r10d, edi        signal number
  0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1           write
  0xbf, CRASH_FD, 0x00, 0x00, 0x00, // mov edi, CRASH_FD
  0x4c, 0x89, 0xce, //             mov rsi, r9
  0xba, 0x20, 0x00, 0x00, 0x00, // mov edx, 32
  0x0f, 0x05, //                   syscall
  0xb8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1           write
  0xbf, CRASH_FD, 0x00, 0x00, 0x00, // mov edi, CRASH_FD
  0x49, 0x8d, 0x70, 0x28, //       lea rsi, [r8 + 40]   gregs
  0xba, 0xb8, 0x00, 0x00, 0x00, // mov edx, 184
  0x0f, 0x05, //                   syscall
  0xb8, 0x27, 0x00, 0x00, 0x00, // mov eax, 39          getpid
  0x0f, 0x05, //                   syscall
  0x89, 0xc7, //                   mov edi, eax
  0x44, 0x89, 0xd6, //             mov esi, r10d
  0xb8, 0x3e, 0x00, 0x00, 0x00, // mov eax, 62          kill
  0x0f, 0x05, //                   syscall
  0xc3, //                         ret
];

const ARM64_HANDLER = [
  0xaa0103e9, // mov x9, x1            siginfo
  0xaa0203ea, // mov x10, x2           ucontext
  0xaa0003eb, // mov x11, x0           signal number
  0xd2800000 | (CRASH_FD << 5), // mov x0, #CRASH_FD
  0xaa0903e1, // mov x1, x9
  0xd2800402, // mov x2, #32
  0xd2800808, // mov x8, #64           write
  0xd4000001, // svc #0
  0xd2800000 | (CRASH_FD << 5), // mov x0, #CRASH_FD
  0x9102c141, // add x1, x10, #176     uc_mcontext
  0xd2802302, // mov x2, #280
  0xd2800808, // mov x8, #64           write
  0xd4000001, // svc #0
  0xd2801588, // mov x8, #172          getpid
  0xd4000001, // svc #0
  0xaa0b03e1, // mov x1, x11
  0xd2801028, // mov x8, #129          kill
  0xd4000001, // svc #0
  0xd65f03c0, // ret
];

function handlerBytes(arch: Arch): Uint8Array {
  return arch === 'x64' ? Uint8Array.from(X64_HANDLER) : wordsToBytes(ARM64_HANDLER);
}

const SA_SIGINFO = 0x4;
const SA_ONSTACK = 0x0800_0000;
const SA_NODEFER = 0x4000_0000;
const SA_RESETHAND = 0x8000_0000;
const ALT_STACK_SIZE = 256 * 1024;

/** Installs the handler for every crash signal and SIGUSR2. Returns the handler's address range. */
export function installCrashHandler(): { address: bigint; length: number } {
  const libc = koffi.load('libc.so.6');
  // glibc's struct sigaction on both x86-64 and AArch64 Linux.
  // Declared by name; the prototypes below refer to them.
  koffi.struct('workbook_sigaction', {
    handler: 'uintptr_t',
    mask: koffi.array('uint8_t', 128),
    flags: 'int',
    restorer: 'uintptr_t',
  });
  koffi.struct('workbook_stack_t', { sp: 'uintptr_t', flags: 'int', size: 'size_t' });
  const sigaction = libc.func('int sigaction(int, const workbook_sigaction *, void *)');
  const sigaltstack = libc.func('int sigaltstack(const workbook_stack_t *, void *)');

  const code = handlerBytes(hostArch());
  const page = 4096 * 16;
  // The workbook's own memory: nobody's code under check, so none of it is reported.
  const { address, stack } = unreported(() => {
    const address = mmap(null, page, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const stack = mmap(null, ALT_STACK_SIZE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    if (address === MAP_FAILED || stack === MAP_FAILED) throw new Error('crash handler: mmap failed');
    copyIn(address, code);
    if (mprotect(address, page, PROT.READ | PROT.EXEC) !== 0) throw new Error('crash handler: mprotect failed');
    return { address, stack };
  });
  if (sigaltstack({ sp: stack, flags: 0, size: ALT_STACK_SIZE }, null) !== 0) throw new Error('crash handler: sigaltstack failed');

  const action = { handler: address, mask: new Array(128).fill(0), flags: SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESETHAND, restorer: 0n };
  for (const signal of Object.values(SIGNALS)) {
    if (sigaction(signal, action, null) !== 0) throw new Error(`crash handler: sigaction(${signal}) failed`);
  }
  return { address, length: code.length };
}

/** A decoded crash report. */
export interface CrashDump {
  signal: number;
  faultAddress: bigint;
  pc: bigint;
  sp: bigint;
  /** Named registers, for the report: rax…r15 or x0…x30. */
  registers: Record<string, bigint>;
}

const X64_GREGS = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip'];

/** Decodes what the handler wrote; null if the bytes are incomplete. */
export function decodeCrashDump(bytes: Uint8Array, arch: Arch): CrashDump | null {
  const block = REGISTER_BLOCK[arch];
  if (bytes.length < SIGINFO_LENGTH + block.length) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signal = view.getInt32(0, true);
  const faultAddress = view.getBigUint64(16, true);
  const word = (i: number) => view.getBigUint64(SIGINFO_LENGTH + i * 8, true);
  const registers: Record<string, bigint> = {};
  if (arch === 'x64') {
    X64_GREGS.forEach((name, i) => (registers[name] = word(i)));
    return { signal, faultAddress, pc: registers.rip!, sp: registers.rsp!, registers };
  }
  for (let i = 0; i < 31; i++) registers[`x${i}`] = word(1 + i);
  registers.sp = word(32);
  registers.pc = word(33);
  return { signal, faultAddress, pc: registers.pc, sp: registers.sp, registers };
}
