// `ebpf-js asm FILE -o OUT.bin` and `ebpf-js disasm FILE`.

import { writeFileSync } from 'node:fs';
import { assemble } from '../asm.js';
import { disassemble } from '../disasm.js';
import { UsageError } from '../errors.js';
import { parse } from './args.js';
import { readInput, readText } from './io.js';

export function asmCommand(args: string[], writeBinary: (b: Uint8Array) => void): number {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('usage: ebpf-js asm FILE [-o OUT.bin]');
  const bytes = assemble(readText(positionals[0]!));
  if (typeof values.output === 'string') {
    try {
      writeFileSync(values.output, bytes);
    } catch (e) {
      throw new UsageError(`cannot write ${values.output}: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else {
    writeBinary(bytes);
  }
  return 0;
}

export function disasmCommand(args: string[], out: (s: string) => void): number {
  const { values, positionals } = parse(args, { pcs: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('usage: ebpf-js disasm FILE [--pcs]');
  const text = disassemble(readInput(positionals[0]!), { pcs: values.pcs === true });
  out(text.replace(/\n$/, ''));
  return 0;
}
