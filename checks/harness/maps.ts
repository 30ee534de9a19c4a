/** Reading /proc/self/maps: what the kernel (or qemu-user, for the emulated process) has mapped. */
import { readFileSync } from 'node:fs';

export interface Mapping {
  start: bigint;
  end: bigint;
  /** `rwxp`-style: read, write, execute, private/shared. */
  perms: string;
}

export function mappings(): Mapping[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [range = '', perms = ''] = line.split(/\s+/);
      const [start = '0', end = '0'] = range.split('-');
      return { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), perms };
    });
}

/** The mappings that overlap [address, address + size). */
export function mappingsOf(address: bigint, size: number): Mapping[] {
  const end = address + BigInt(size);
  return mappings().filter((m) => m.start < end && m.end > address);
}

/**
 * The protection of [address, address + size) as `rw-`, `r-x`…, or `mixed: …` if the
 * pages differ, or `unmapped` if nothing is there.
 */
export function permissionsOf(address: bigint, size: number): string {
  const found = mappingsOf(address, size);
  if (found.length === 0) return 'unmapped';
  const kinds = [...new Set(found.map((m) => m.perms.slice(0, 3)))];
  return kinds.length === 1 ? kinds[0]! : `mixed: ${kinds.join(', ')}`;
}

/**
 * How many bytes of [address, address + size) are mapped. (Adjacent mappings with the same
 * protection show as one line, so a mapping's own size says little about one region.)
 */
export function mappedBytesWithin(address: bigint, size: number): number {
  const end = address + BigInt(size);
  return mappingsOf(address, size).reduce((sum, m) => {
    const from = m.start > address ? m.start : address;
    const to = m.end < end ? m.end : end;
    return sum + Number(to - from);
  }, 0);
}
