// Linux errno values, as BPF helpers return them (negated: -ENOENT is -2).
// Programs compare helper results against these numbers, so they are the
// kernel's, not ours to choose. Only the ones ebpf-js returns are listed.

export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const EMFILE = 24;
export const ENOSPC = 28;
export const ERANGE = 34;
export const EOPNOTSUPP = 95;

/** Names by value, for messages and error codes ('E2BIG'). */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [E2BIG]: 'E2BIG',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [EINVAL]: 'EINVAL',
  [EMFILE]: 'EMFILE',
  [ENOSPC]: 'ENOSPC',
  [ERANGE]: 'ERANGE',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
};

/** 'ENOENT' for 2 or -2; 'E<n>' for a value not listed. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return ERRNO_NAMES[n] ?? `E${n}`;
}
