#!/usr/bin/env node
// The ebpf-js command line. Each subcommand lives in its own module; this
// one dispatches and turns errors into one line on stderr and an exit code.

import { EbpfError } from '../errors.js';
import { asmCommand, disasmCommand } from './asm.js';
import { conformanceCommand, conformancePluginCommand, readStdin } from './conformance.js';
import { INSPECT_USAGE, inspectCommand } from './inspect.js';
import { jitCommand } from './jit.js';
import { RUN_USAGE, runCommand } from './run.js';

const USAGE = `ebpf-js: a userspace eBPF runtime

usage: ebpf-js <command> [options]

commands:
  run FILE [--mem FILE | --mem-hex HEX] [--engine interp|jit] [--helpers linux|conformance]
      [--repeat N] [--budget N] [--json] [--section NAME | --program NAME] [--ctx xdp|skb|raw]
                           run a program (assembly .asm/.s, raw bytecode or an ELF .o), print r0
  inspect FILE.o [--json]  list an ELF object's programs, maps and global data
  asm FILE [-o OUT.bin]    assemble to raw bytecode
  disasm FILE [--pcs]      disassemble raw bytecode
  jit FILE [--budget] [--helpers linux|conformance]
                           print the JavaScript the JIT generates for a program
  conformance [--engine interp|jit] PATH...
                           run .data test cases (files or folders)
  conformance-plugin [MEMHEX] [--jit|--interpret]
                           bpf_conformance plugin: program as hex on stdin
  help                     this text

${RUN_USAGE}

${INSPECT_USAGE}`;

function main(argv: string[]): number {
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(s + '\n');
  const [command, ...rest] = argv;
  // `ebpf-js run --help` and the like: the full usage names every command's options.
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    out(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'run':
        return runCommand(rest, out, err);
      case 'inspect':
        return inspectCommand(rest, out);
      case 'asm':
        return asmCommand(rest, (b) => process.stdout.write(b));
      case 'disasm':
        return disasmCommand(rest, out);
      case 'jit':
        return jitCommand(rest, out);
      case 'conformance':
        return conformanceCommand(rest, out);
      case 'conformance-plugin':
        return conformancePluginCommand(rest, readStdin, out);
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      case undefined:
        err(USAGE);
        return 2;
      default:
        err(`ebpf-js: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof EbpfError) {
      err(`ebpf-js: ${e.message}`);
      return e.code === 'USAGE' ? 2 : 1;
    }
    err(`ebpf-js: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 70;
  }
}

process.exitCode = main(process.argv.slice(2));
