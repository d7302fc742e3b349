// C source lines in the JIT's readable output (LoadOptions.sourceLines,
// which the ELF loader fills from .BTF.ext line info): each new line shows as
// `// file:line: text` before its code, hostile text cannot leave its
// comment, and `ebpf-js jit` prints them for an object's program.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, tokenizer } from 'acorn';
import { describe, expect, it } from 'vitest';
import { jitCommand } from '../lib/cli/jit.js';
import { loadObject } from '../lib/elf/index.js';
import { EbpfError, UsageError } from '../lib/errors.js';
import { LoadedProgram, Vm, type SourceLine } from '../lib/vm.js';

const ELF = fileURLToPath(new URL('../fixtures/elf', import.meta.url));
const objects = readdirSync(ELF).filter((f) => f.endsWith('.o')).sort();

/**
 * The comments of a generated module, and its tokens without them (and
 * without semicolons: a line starting at a branch or exit stands on an empty
 * statement of its own).
 */
function scan(source: string): { comments: string[]; tokens: string[] } {
  const comments: string[] = [];
  parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true, onComment: (_block, text) => comments.push(text.trim()) });
  const tokens = [...tokenizer(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true })].map((t) => `${t.type.label}:${String((t as { value?: unknown }).value)}`)
    .filter((t) => t !== ';:undefined');
  return { comments, tokens };
}

describe('JIT source with C lines', () => {
  it('every C line of every program of the fixture objects shows in its JIT source', () => {
    let programs = 0;
    for (const file of objects) {
      const vm = new Vm();
      let obj;
      try {
        obj = loadObject(vm, readFileSync(join(ELF, file)));
      } catch (e) {
        // kconfig.o needs kconfig values: not this test's subject.
        expect(e).toBeInstanceOf(EbpfError);
        continue;
      }
      for (const p of obj.programs.values()) {
        if (p.lineInfo === undefined) continue;
        expect(p.prog.sourceLines).toEqual(p.lineInfo);
        const { comments } = scan(p.prog.jitSource());
        const lines = new Set(p.lineInfo.filter((l): l is SourceLine => l !== undefined).map((l) => `${l.file}:${l.lineNum}: ${l.line.trim()}`));
        expect(lines.size, `${file} ${p.name}`).toBeGreaterThan(0);
        for (const line of lines) expect(comments, `${file} ${p.name}`).toContain(line);
        programs++;
      }
    }
    expect(programs).toBeGreaterThanOrEqual(10);
  });

  it('compiled code is the same with or without source lines', () => {
    const vm = new Vm();
    const obj = loadObject(vm, readFileSync(join(ELF, 'xdp_firewall.o')));
    const p = obj.program('xdp_firewall');
    const bare = new LoadedProgram(vm, p.prog.program);
    expect(bare.sourceLines).toBeUndefined();
    expect(scan(p.prog.jitSource()).tokens).toEqual(scan(bare.jitSource()).tokens);
    expect(p.prog.jitSource()).not.toBe(bare.jitSource());
  });

  it('a hostile source line cannot leave its comment', () => {
    const vm = new Vm();
    const asm = 'mov %r0, 1\nadd %r0, 2\nexit';
    const hostile: SourceLine[] = [
      { file: 'a.c */ evil(); /*', line: 'x = 1; */ throw new Error("out"); /*\nevil();\r\nevil2();', lineNum: 1, col: 1 },
      { file: 'b.c', line: '\u2028evil3();\u2029evil4(); // -->\n<!-- x', lineNum: 2, col: 1 },
      { file: 'c.c', line: `${'y'.repeat(10_000)}\nevil5();`, lineNum: 3, col: 1 },
    ];
    const plain = vm.load(asm).jitSource();
    const source = vm.load(asm, { sourceLines: hostile }).jitSource();
    const a = scan(source), b = scan(plain);
    // Only comments differ: the same tokens, and the hostile text inside comments.
    expect(a.tokens).toEqual(b.tokens);
    expect(a.comments.filter((c) => c.startsWith('a.c'))).toHaveLength(1);
    expect(a.comments.some((c) => c.includes('evil4();'))).toBe(true);
    // A huge line is cut short.
    expect(Math.max(...a.comments.map((c) => c.length))).toBeLessThan(400);
    // And the module still runs: the comments are inert.
    expect(vm.load(asm, { sourceLines: hostile }).run()).toBe(3n);
  });

  it('sourceLines must be an array of lines', () => {
    const vm = new Vm();
    for (const bad of ['x', [{ file: 'a.c' }], [{ file: 1, line: '', lineNum: 1, col: 0 }], [null]]) {
      expect(() => vm.load('exit', { sourceLines: bad as never }), JSON.stringify(bad)).toThrow(UsageError);
    }
    expect(vm.load('mov %r0, 0\nexit', { sourceLines: [undefined, { file: 'a.c', line: 'return 0;', lineNum: 4, col: 2 }] })
      .jitSource()).toContain('// a.c:4: return 0;');
  });

  it('ebpf-js jit prints an object program with its C lines', () => {
    const out: string[] = [];
    expect(jitCommand([join(ELF, 'socket_filter.o'), '--program', 'tc_http'], (s) => out.push(s))).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/\/\/ \S*socket_filter\.c:\d+: /);
    expect(() => scan(text)).not.toThrow();
    const bySection: string[] = [];
    expect(jitCommand([join(ELF, 'xdp_firewall.o'), '--section', 'xdp'], (s) => bySection.push(s))).toBe(0);
    expect(bySection.join('\n')).toMatch(/xdp_firewall\.c:\d+: /);
    expect(() => jitCommand([join(ELF, 'socket_filter.o')], () => {})).toThrow(/give --section or --program/);
    expect(() => jitCommand([join(ELF, '..', 'golden', 'calls.asm'), '--program', 'x'], () => {})).toThrow(UsageError);
  });
});
