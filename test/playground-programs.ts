// Assembly the playground tests (in Node and in Chromium) both run.

/** Writes 1 to each byte of its input in turn (6 instructions a byte): the review's recording case. */
export const WRITE_EACH_BYTE = `  mov %r3, 0
loop:
  jge %r3, %r2, done
  mov %r4, %r1
  add %r4, %r3
  stb [%r4], 1
  add %r3, 1
  ja loop
done:
  mov %r0, 0
  exit
`;
