// Source maps of JIT code (codegen/source-map.ts): positions in the
// generated JavaScript map back to BPF lines (NAME.bpf, line pc + 1) and,
// with sourceLines, to C lines. The mappings are decoded here by a decoder
// of its own; code compiled without the option is unchanged; hostile file
// names and source text cannot escape the JSON or the comment.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jitSource } from '../codegen/compile.js';
import { vlq, type SourceMapV3 } from '../codegen/source-map.js';
import { jitCommand } from '../lib/cli/jit.js';
import { loadObject } from '../lib/elf/index.js';
import { EbpfError, MemoryAccessError } from '../lib/errors.js';
import { AVAILABLE_ENGINES, LoadedProgram, Vm, type SourceLine } from '../lib/vm.js';

const ELF = fileURLToPath(new URL('../fixtures/elf', import.meta.url));
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * One decoded segment, absolute values: generated line/column (0-based),
 * source index, original line/column (0-based); source -1 for a segment of
 * one field (generated code with no source).
 */
interface Segment { line: number; col: number; source: number; origLine: number; origCol: number }

/** An independent decoder of the `mappings` field (v3: `;` per line, `,` per segment, relative base64 VLQ fields). */
function decodeMappings(mappings: string): Segment[] {
  const out: Segment[] = [];
  let source = 0;
  let origLine = 0;
  let origCol = 0;
  mappings.split(';').forEach((text, line) => {
    let col = 0;
    if (text === '') return;
    for (const seg of text.split(',')) {
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = B64.indexOf(ch);
        if (digit < 0) throw new Error(`bad VLQ character ${ch}`);
        value += (digit & 31) * 2 ** shift;
        shift += 5;
        if ((digit & 32) === 0) {
          fields.push(value % 2 === 1 ? -Math.floor(value / 2) : value / 2);
          value = 0;
          shift = 0;
        }
      }
      expect([1, 4]).toContain(fields.length);
      col += fields[0]!;
      if (fields.length === 1) {
        out.push({ line, col, source: -1, origLine: -1, origCol: -1 });
        continue;
      }
      source += fields[1]!;
      origLine += fields[2]!;
      origCol += fields[3]!;
      out.push({ line, col, source, origLine, origCol });
    }
  });
  return out;
}

/** The segment covering a generated position: the last at or before it. */
function covering(segments: readonly Segment[], line: number, col: number): Segment | undefined {
  let found: Segment | undefined;
  for (const s of segments) {
    if (s.line < line || (s.line === line && s.col <= col)) found = s;
    else break;
  }
  return found;
}

/** Line/column (0-based) of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; col: number } {
  const at = text.indexOf(needle);
  expect(at, needle).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, at).split('\n');
  return { line: before.length - 1, col: before[before.length - 1]!.length };
}

/** The map inlined in generated code: its comments, checked, and the JSON decoded. */
function inlineMap(code: string): { text: string; url: string; map: SourceMapV3 } {
  const m = /\n\/\/# sourceURL=(ebpf-js\/[A-Za-z0-9_.-]+\.js)\n\/\/# sourceMappingURL=data:application\/json;charset=utf-8;base64,([A-Za-z0-9+/=]+)\n$/.exec(code);
  expect(m, 'source map comments at the end').not.toBeNull();
  const json = new TextDecoder().decode(Uint8Array.from(atob(m![2]!), (c) => c.charCodeAt(0)));
  return { text: code.slice(0, m!.index), url: m![1]!, map: JSON.parse(json) as SourceMapV3 };
}

// Distinct constants mark the statement of each pc; the input (r1's word)
// keeps them from being folded away.
const PROGRAM = `
ldxw r2, [r1+0]
add r2, 22222
lddw r3, 0x1234567890
xor r2, 44444
jgt r2, 33333, +2
mov r0, 55555
exit
mov r0, 66666
add r0, r3
exit
`;
/** Constant -> pc of the instruction it belongs to (lddw takes pcs 2 and 3). */
const MARKS: ReadonlyArray<[string, number]> = [['22222', 1], ['44444', 4], ['33333', 5], ['55555', 6], ['66666', 8]];

function input(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

describe('source maps of JIT code', () => {
  it('VLQ encoding round-trips through the independent decoder', () => {
    expect([vlq(0), vlq(1), vlq(-1), vlq(15), vlq(16), vlq(-16)]).toEqual(['A', 'C', 'D', 'e', 'gB', 'hB']);
    for (const v of [0, 1, -1, 31, 32, -33, 1000, -123456, 0x3fffffff, -0x3fffffff]) {
      const [seg] = decodeMappings(`${vlq(v)}${vlq(0)}${vlq(0)}${vlq(0)}`);
      expect(seg!.col).toBe(v);
    }
  });

  it('compiled code maps each marked statement to its BPF line, and runs the same on both engines', () => {
    const vm = new Vm({ sourceMaps: true });
    const prog = vm.load(PROGRAM, { name: 'marks' });
    const plain = new Vm().load(PROGRAM);
    for (const engine of AVAILABLE_ENGINES) {
      // (22222 + 22222) ^ 44444 = 0: not above 33333.
      expect(prog.run(input(22222), { engine })).toBe(55555n);
      expect(prog.run(input(1), { engine })).toBe(66666n + 0x1234567890n);
      expect(plain.run(input(22222), { engine })).toBe(55555n);
    }
    const code = prog.compiled(false).source;
    const { text, url, map } = inlineMap(code);
    expect(url).toBe('ebpf-js/marks.js');
    // Without the option, the compiled code is the same text with nothing appended.
    expect(plain.compiled(false).source).toBe(text);
    expect(prog.compiled(false).sourceMap).toEqual(map);
    expect(prog.sourceMap()).toEqual(map);
    expect(map.version).toBe(3);
    expect(map.sources).toEqual(['marks.bpf']);
    const listing = map.sourcesContent[0]!.split('\n');
    // Line pc + 1 is pc's disassembly; the second slot of the lddw (pc 3) gets a line of its own.
    expect(listing[3]).toBe('; second slot of pc 2');
    expect(listing[5]).toBe('jgt %r2, 33333, +2');
    expect(listing.filter((l) => !l.startsWith(';')).join('\n')).toBe(prog.disassemble());
    const segments = decodeMappings(map.mappings);
    expect(segments.length).toBeGreaterThan(5);
    // The script V8 runs: `new Function` puts two lines before the body.
    const script = `function anonymous(rt\n) {\n${text}`;
    for (const [mark, pc] of MARKS) {
      const { line, col } = positionOf(script, mark);
      const seg = covering(segments, line, col);
      expect(seg, mark).toBeDefined();
      expect({ mark, source: seg!.source, line: seg!.origLine }).toEqual({ mark, source: 0, line: pc });
    }
    // Code of no instruction (the module's head, the entry) maps to nothing, not to the nearest pc before it.
    for (const needle of ['rt.V', 'return [']) {
      const { line, col } = positionOf(script, needle);
      expect(covering(segments, line, col)?.source ?? -1, needle).toBe(-1);
    }
  });

  it('functions split into pieces keep their mappings', () => {
    const prog = new Vm().load(PROGRAM);
    const options = { ...prog.vm.compileOptions(false), splitLimit: 1 };
    const { text, map } = inlineMap(jitSource(prog.program, options, { name: 'pieces' }));
    expect(text).toBe(jitSource(prog.program, options));
    expect(text).toContain('piece 2 of');
    const segments = decodeMappings(map.mappings);
    const lines = text.split('\n');
    for (const [mark, pc] of MARKS) {
      const line = lines.findIndex((l) => l.includes(mark) && !l.trim().startsWith('//'));
      expect(line, mark).toBeGreaterThanOrEqual(0);
      expect({ mark, line: covering(segments, line, lines[line]!.indexOf(mark))?.origLine }).toEqual({ mark, line: pc });
    }
  });

  it('a run-time fault inside compiled code is reported at the named script', () => {
    const vm = new Vm({ sourceMaps: true });
    const prog = vm.load('mov r1, 0\nldxw r0, [r1+0]\nexit', { name: 'faulty' });
    for (const engine of AVAILABLE_ENGINES) expect(() => prog.run(undefined, { engine })).toThrow(MemoryAccessError);
    let stack = '';
    try {
      prog.run(undefined, { engine: 'jit' });
    } catch (e) {
      stack = (e as Error).stack ?? '';
    }
    expect(stack).toContain('ebpf-js/faulty.js');
    // The fault call, nested in the bounds check of the load at pc 1, maps to that pc (not to "no source").
    const { text, map } = inlineMap(prog.compiled(false).source);
    const script = `function anonymous(rt\n) {\n${text}`;
    const { line, col } = positionOf(script, 'FAULT(1,');
    expect(covering(decodeMappings(map.mappings), line, col)).toMatchObject({ source: 0, origLine: 1 });
  });

  it('readable jitSource with sourceMap is the same text plus a map of it', () => {
    const prog = new Vm().load(PROGRAM, { name: 'readable' });
    for (const budget of [false, true]) {
      const { text, url, map } = inlineMap(prog.jitSource({ budget, sourceMap: true }));
      expect(url).toBe('ebpf-js/readable.js');
      expect(text).toBe(prog.jitSource({ budget }));
      const segments = decodeMappings(map.mappings);
      for (const [mark, pc] of MARKS) {
        // The code's occurrence, not the block comment's disassembly: the first after the last comment line before it.
        const lines = text.split('\n');
        const line = lines.findIndex((l) => l.includes(mark) && !l.trim().startsWith('//'));
        expect(line, mark).toBeGreaterThanOrEqual(0);
        const seg = covering(segments, line, lines[line]!.indexOf(mark));
        expect({ mark, line: seg?.origLine }).toEqual({ mark, line: pc });
      }
    }
  });

  it('fixture objects: statements map to the C line of their pc, else to its BPF line', () => {
    let checked = 0;
    for (const file of readdirSync(ELF).filter((f) => f.endsWith('.o')).sort()) {
      const vm = new Vm();
      let obj;
      try {
        obj = loadObject(vm, readFileSync(join(ELF, file)));
      } catch (e) {
        expect(e).toBeInstanceOf(EbpfError); // kconfig.o needs kconfig values
        continue;
      }
      for (const p of obj.programs.values()) {
        const lines = p.prog.sourceLines;
        if (lines === undefined) continue;
        const cMap = p.prog.sourceMap();
        // The same program without line info: the same code, mapped to pcs only.
        const bpfMap = new LoadedProgram(vm, p.prog.program).sourceMap();
        expect(bpfMap.sources).toEqual(['prog.bpf']);
        const pcs = decodeMappings(bpfMap.mappings);
        const cs = decodeMappings(cMap.mappings);
        expect(cs.length).toBe(pcs.length);
        let cLines = 0;
        for (let i = 0; i < cs.length; i++) {
          const pc = pcs[i]!.origLine;
          const c = cs[i]!;
          expect([c.line, c.col]).toEqual([pcs[i]!.line, pcs[i]!.col]);
          if (pcs[i]!.source === -1) {
            expect(c.source).toBe(-1);
            continue;
          }
          const want: SourceLine | undefined = lines[pc];
          if (want === undefined) {
            expect([c.source, c.origLine]).toEqual([0, pc]);
            continue;
          }
          cLines++;
          expect(cMap.sources[c.source]).toBe(want.file);
          expect(c.origLine).toBe(want.lineNum - 1);
          // The map carries the line's text, and it is that line of the fixture's C file.
          const content = cMap.sourcesContent[c.source]!.split('\n');
          expect(content[want.lineNum - 1]).toBe(want.line.replace(/\n$/, ''));
          const real = readFileSync(join(ELF, basename(want.file)), 'utf8').split('\n');
          expect(real[want.lineNum - 1]!.trim(), `${file} ${p.name} pc ${pc}`).toBe(want.line.trim());
        }
        expect(cLines, `${file} ${p.name}`).toBeGreaterThan(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });

  it('hostile names and source text stay inside the JSON and the base64 comment', () => {
    const evil = '*/\n//# sourceURL=evil.js\n"\\</script>\u2028';
    const sourceLines: SourceLine[] = [0, 1, 2, 3].map((i) => ({ file: `${evil}${i % 2}`, line: `x ${evil} ${i}`, lineNum: i === 3 ? 2 ** 40 : i + 1, col: -5 }));
    const asm = 'mov r0, 7\nadd r0, 12345\nmov r1, 1\nexit';
    const vm = new Vm({ sourceMaps: true });
    const prog = vm.load(asm, { sourceLines, name: `../${evil}` });
    for (const engine of AVAILABLE_ENGINES) expect(prog.run(undefined, { engine })).toBe(12352n);
    const code = prog.compiled(false).source;
    const { text, url, map } = inlineMap(code);
    expect(url).toMatch(/^ebpf-js\/[A-Za-z0-9_.-]+\.js$/);
    expect(text).toBe(new Vm().load(asm).compiled(false).source);
    expect(code.split('//# sourceURL=').length).toBe(2);
    expect(map.sources.slice(1)).toEqual([`${evil}0`, `${evil}1`]);
    // A line number far out of range: no content built for that file, the mapping clamped.
    expect(map.sourcesContent[2]).toBeNull();
    expect(map.sourcesContent[1]!.split('\n')[0]).toBe(`x ${evil.replace(/[\n\u2028]/g, ' ')} 0`);
    const segs = decodeMappings(map.mappings);
    expect(segs.every((s) => s.source === -1 || (s.origLine >= 0 && s.origCol === 0))).toBe(true);
    const readable = inlineMap(prog.jitSource({ sourceMap: true }));
    expect(readable.text).toBe(prog.jitSource());
  });

  it('`ebpf-js jit --source-map` appends the map comments; without it, nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ebpf-srcmap-'));
    const file = join(dir, 'filter.s');
    writeFileSync(file, PROGRAM);
    const plain: string[] = [];
    const mapped: string[] = [];
    try {
      expect(jitCommand([file], (s) => plain.push(s))).toBe(0);
      expect(jitCommand([file, '--source-map'], (s) => mapped.push(s))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(plain.join('\n')).not.toContain('sourceMappingURL');
    const { text, url, map } = inlineMap(`${mapped.join('\n')}\n`);
    // jitSource ends with a newline, which the command drops when it prints without a map.
    expect(text).toBe(`${plain.join('\n')}\n`);
    expect(url).toBe('ebpf-js/filter.js');
    expect(map.sources).toEqual(['filter.bpf']);
  });
});
