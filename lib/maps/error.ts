// The one error maps throw: a bad definition (before anything is allocated),
// a JS-side operation Linux would refuse (set with BPF_NOEXIST on an existing
// key), or a ring-buffer address that is no pending reservation.

import { EbpfError } from '../errors.js';
import { errnoName } from '../errno.js';

/**
 * `code` is the errno name Linux would give ('E2BIG', 'EINVAL', ...);
 * `errno` the positive number. The message names the map and the field.
 */
export class MapError extends EbpfError {
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(errnoName(errno), message);
    this.errno = errno;
  }
}
