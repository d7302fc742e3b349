// Growable typed arrays for the debug recording: numbers kept per stop (or
// per changed run of bytes) in one typed array each, rather than an object
// per stop, so that a recording of 100,000 stops costs bytes, not objects,
// and knows how many bytes it holds.
//
// They grow by doubling; `bytes` is what is allocated (not only what is
// used), the memory the recording really holds.

const INITIAL = 1024;

export class IntColumn {
  private buf = new Int32Array(INITIAL);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const grown = new Int32Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = v;
  }

  get(i: number): number {
    return this.buf[i]!;
  }

  get bytes(): number {
    return this.buf.byteLength;
  }
}

export class ByteColumn {
  private buf = new Uint8Array(INITIAL);
  length = 0;

  /** Appends `src[from, to)`. */
  push(src: Uint8Array, from: number, to: number): void {
    const need = this.length + (to - from);
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(src.subarray(from, to), this.length);
    this.length = need;
  }

  /** The bytes at [at, at + length): a view, good until the next push. */
  view(at: number, length: number): Uint8Array {
    return this.buf.subarray(at, at + length);
  }

  get bytes(): number {
    return this.buf.byteLength;
  }
}
