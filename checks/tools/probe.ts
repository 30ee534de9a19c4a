/**
 * What `npm run doctor` runs in a Node.js of each architecture (natively, or under
 * qemu-user): load koffi, then a W^X round trip through the raw libc bindings: map a page
 * read+write, write `return 42`, seal it read+execute, call it, unmap it. It runs in a
 * child process so a crash here is a finding of the doctor, not the end of it.
 * Prints one JSON line: { arch, node, koffi?, steps: [...], ok, error? }.
 */
export {};

const report: { arch: string; node: string; koffi?: string; steps: string[]; ok: boolean; error?: string } = {
  arch: process.arch,
  node: process.version,
  steps: [],
  ok: false,
};

try {
  const koffi = (await import('koffi')).default as { version?: string };
  report.koffi = koffi.version ?? 'loaded';
  report.steps.push('koffi loads');
  const libc = await import('../../native/libc.ts');
  const { flushInstructionCache } = await import('../../native/icache.ts');
  const code =
    process.arch === 'arm64'
      ? Uint8Array.from([0x40, 0x05, 0x80, 0xd2, 0xc0, 0x03, 0x5f, 0xd6]) // mov x0, #42; ret
      : Uint8Array.from([0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3]); // mov eax, 42; ret
  const size = libc.pageSize();
  const address = libc.mmap(null, size, libc.PROT.READ | libc.PROT.WRITE, libc.MAP.PRIVATE | libc.MAP.ANONYMOUS, -1, 0);
  if (address === libc.MAP_FAILED) throw new Error(`mmap failed: ${libc.errnoName(libc.errno())}`);
  report.steps.push('mmap read+write');
  libc.copyIn(address, code);
  report.steps.push(`write ${Buffer.from(code).toString('hex').replace(/(..)/g, '$1 ').trim()}`);
  if (libc.mprotect(address, size, libc.PROT.READ | libc.PROT.EXEC) !== 0) throw new Error(`mprotect read+exec failed: ${libc.errnoName(libc.errno())}`);
  flushInstructionCache(address, size);
  report.steps.push('seal read+execute');
  const result = libc.rawFunction(address, 0)();
  if (result !== 42n) throw new Error(`the code returned ${result}, not 42`);
  report.steps.push('call → 42');
  if (libc.munmap(address, size) !== 0) throw new Error(`munmap failed: ${libc.errnoName(libc.errno())}`);
  report.steps.push('munmap');
  report.ok = true;
} catch (error) {
  report.error = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
}
console.log(JSON.stringify(report));
