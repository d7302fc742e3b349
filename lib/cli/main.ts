#!/usr/bin/env node
// The ebpf-js command line. Each subcommand lives in its own module; this
// one dispatches and turns errors into one line on stderr and an exit code.

import { EbpfError } from '../errors.js';
import { asmCommand, disasmCommand } from './asm.js';
import { CFG_USAGE, cfgCommand } from './cfg.js';
import { conformanceCommand, conformancePluginCommand, readStdin } from './conformance.js';
import { FILTER_USAGE, filterCommand } from './filter.js';
import { INSPECT_USAGE, inspectCommand } from './inspect.js';
import { jitCommand } from './jit.js';
import { PLAYGROUND_USAGE, playgroundCommand } from './playground.js';
import { RUN_USAGE, runCommand } from './run.js';
import { OutputClosed, lineWriter, printable } from './stdout.js';

const USAGE = `ebpf-js: a userspace eBPF runtime

usage: ebpf-js <command> [options]

commands:
  run FILE [--mem FILE | --mem-hex HEX] [--engine interp|jit] [--helpers linux|conformance]
      [--repeat N] [--budget N] [--json] [--trace] [--section NAME | --program NAME] [--ctx xdp|skb|raw]
      [--kconfig NAME=VALUE]... [--kconfig-file FILE]
                           run a program (assembly .asm/.s, raw bytecode or an ELF .o), print r0
  run FILE.o --pcap CAPTURE [--write-pass OUT] [--write-drop OUT] [--verbose] [--json]
      [--dump-maps] [--workers N] [--engine interp|jit] [--trace [--packet N,M...]]
                           run a program over every packet of a capture: verdicts, maps
  filter "EXPR" CAPTURE [-w OUT] [--engine interp|jit] [--json]
  filter --cbpf FILE CAPTURE [-w OUT] ...
                           classic BPF (a tcpdump expression or -ddd/-dd output) over a
                           capture: print or write the packets it accepts
  inspect FILE.o [--json] [--kconfig NAME=VALUE]... [--kconfig-file FILE]
                           list an ELF object's programs, maps, global data, externs, BTF
  asm FILE [-o OUT.bin]    assemble to raw bytecode
  disasm FILE [--pcs]      disassemble raw bytecode
  jit FILE [--budget] [--source-map] [--helpers linux|conformance] [--section NAME | --program NAME]
                           print the JavaScript the JIT generates for a program
  cfg FILE [--program NAME | --section NAME] [--format dot|svg|mermaid] [-o OUT]
                           draw the control-flow graph (basic blocks, loops, tail calls)
  playground [--port N] [--host H]
                           serve the playground page on http://127.0.0.1:8119/ (assemble or load
                           a .o, run on either engine, step, see registers, maps, JS, CFG)
  conformance [--engine interp|jit] PATH...
                           run .data test cases (files or folders)
  conformance-plugin [MEMHEX] [--jit|--interpret]
                           bpf_conformance plugin: program as hex on stdin
  help                     this text

${RUN_USAGE}

${FILTER_USAGE}

${INSPECT_USAGE}

${CFG_USAGE}

${PLAYGROUND_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const out = lineWriter(1);
  const err = (s: string) => process.stderr.write(printable(s) + '\n');
  const [command, ...rest] = argv;
  // `ebpf-js run --help` and the like: the full usage names every command's options.
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    out(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, out, err, process.stderr);
      case 'filter':
        return await filterCommand(rest, out, err);
      case 'inspect':
        return inspectCommand(rest, out);
      case 'asm':
        return asmCommand(rest, (b) => process.stdout.write(b));
      case 'disasm':
        return disasmCommand(rest, out);
      case 'cfg':
        return cfgCommand(rest, out);
      case 'jit':
        return jitCommand(rest, out);
      case 'playground':
        return await playgroundCommand(rest, out);
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
    if (e instanceof OutputClosed) return 0;
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof Error && typeof code === 'string' && (e as NodeJS.ErrnoException).syscall === 'write') {
      err(`ebpf-js: cannot write the output: ${code}${code === 'ENOSPC' ? ' (no space left on device)' : ''}`);
      return 1;
    }
    if (e instanceof EbpfError) {
      err(`ebpf-js: ${e.message}`);
      return e.code === 'USAGE' ? 2 : 1;
    }
    err(`ebpf-js: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return 70;
  }
}

// A reader that goes away (`ebpf-js run ... --verbose | head`) ends the
// output quietly with status 0 (the reader got what it asked for; a shell
// would report 141 for a C tool killed by SIGPIPE, but with pipefail that
// fails scripts that only wanted the first lines). Any other failure to write
// the output (`> /dev/full`: ENOSPC, EIO, ...) is one line on stderr and
// status 1: the output is incomplete.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`ebpf-js: cannot write the output: ${e.code ?? e.message}${e.code === 'ENOSPC' ? ' (no space left on device)' : ''}\n`);
  process.exit(1);
});
process.exitCode = await main(process.argv.slice(2));
