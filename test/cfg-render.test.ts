// `ebpf-js cfg`: the graph model (blocks, edges, back edges, marks) for
// programs whose meaning is known, the three renderers (DOT checked by
// Graphviz when installed, SVG checked for well-formed XML holding every
// block's text), escaping of hostile names, and the command line.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import { blockHeader, buildCfgGraph, renderDot, renderMermaid, renderSvg, type CfgGraph } from '../lib/cfg-render/index.js';
import { cfgCommand } from '../lib/cli/cfg.js';
import { UsageError } from '../lib/errors.js';
import { encodeSlots } from '../lib/isa.js';
import { validateSlots } from '../lib/validate.js';

const graph = (text: string, title = 'prog'): CfgGraph =>
  buildCfgGraph(validateSlots(assembleSlots(text), { helperExists: () => true }), title);

/** Blocks as [id, start, end, marks] and edges as "from->to kind[ back]": compact to compare. */
const blocks = (g: CfgGraph) => g.functions.flatMap((f) => f.blocks.map((b) => [b.id, b.start, b.end, blockHeader(b)]));
const edges = (g: CfgGraph) => g.functions.flatMap((f) => f.edges.map((e) => `${e.from}->${e.to} ${e.kind}${e.back ? ' back' : ''}`));

const LOOP = `
  mov %r0, 0
  mov %r1, 10
loop:
  add %r0, %r1
  sub %r1, 1
  jne %r1, 0, loop
  exit`;

const DIAMOND = `
  mov %r0, 0
  jeq %r1, 0, else
  mov %r0, 1
  ja end
else:
  mov %r0, 2
end:
  exit`;

// A loop whose header is below its body in pc order (jump to the test first):
// its back edge goes down the page.
const BOTTOM_TEST = `
  mov %r0, 0
  ja test
body:
  add %r0, 1
test:
  jlt %r0, 5, body
  exit`;

const CALLS = `
  mov %r1, 1
  call local twice
  call local twice
  exit
twice:
  mov %r0, %r1
  call local inner
  exit
inner:
  add %r0, %r0
  exit`;

const TAIL = `
  mov %r6, %r1
  lddw %r2, 0x100000000
  mov %r3, 0
  call 12
  mov %r0, 2
  exit`;

/**
 * A minimal well-formedness check (not a full XML parser): tags balance and
 * nest, attribute values are quoted and hold no '<', '&' only starts a known
 * entity, and there is exactly one root element. Returns the text content.
 */
function checkXml(xml: string): string {
  const stack: string[] = [];
  let roots = 0;
  let text = '';
  let i = 0;
  const entity = (at: number): number => {
    for (const e of ['&amp;', '&lt;', '&gt;', '&quot;', '&apos;']) if (xml.startsWith(e, at)) return e.length;
    // Character references (Graphviz writes &#39; and &#45;).
    const ref = /^&#(?:[0-9]{1,7}|x[0-9a-fA-F]{1,6});/.exec(xml.slice(at, at + 12));
    if (ref !== null) return ref[0].length;
    throw new Error(`bad entity at ${at}: ${xml.slice(at, at + 10)}`);
  };
  while (i < xml.length) {
    const ch = xml[i]!;
    if (ch === '&') {
      const n = entity(i);
      text += xml.slice(i, i + n);
      i += n;
    } else if (ch === '<') {
      if (xml.startsWith('<?', i)) { i = xml.indexOf('?>', i) + 2; continue; }
      // Comments (Graphviz's SVG names its nodes in them).
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i + 4);
        if (end < 0) throw new Error(`unterminated comment at ${i}`);
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let quote = '';
      for (; j < xml.length; j++) {
        const c = xml[j]!;
        if (quote !== '') {
          if (c === quote) quote = '';
          else if (c === '<') throw new Error(`'<' in an attribute value at ${j}`);
          else if (c === '&') j += entity(j) - 1;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
        else if (c === '<') throw new Error(`'<' inside a tag at ${j}`);
      }
      if (j >= xml.length) throw new Error(`unterminated tag at ${i}`);
      const tag = xml.slice(i + 1, j);
      if (tag.startsWith('/')) {
        const name = tag.slice(1).trim();
        if (stack.pop() !== name) throw new Error(`mismatched </${name}> at ${i}`);
      } else {
        const name = tag.split(/[\s/]/)[0]!;
        if (!/^[A-Za-z][\w:.-]*$/.test(name)) throw new Error(`bad tag name ${name} at ${i}`);
        if (stack.length === 0) roots++;
        if (!tag.endsWith('/')) stack.push(name);
      }
      i = j + 1;
    } else {
      if (stack.length === 0 && ch.trim() !== '') throw new Error(`text outside the root at ${i}`);
      text += ch;
      i++;
    }
  }
  if (stack.length !== 0) throw new Error(`unclosed ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return text;
}

/** XML text as a reader sees it (entities decoded), for comparing with labels. */
const unescapeXml = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) =>
  ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e]!);

function svgHoldsEveryLabel(g: CfgGraph, svg: string): void {
  const text = unescapeXml(checkXml(svg));
  for (const f of g.functions) for (const b of f.blocks) for (const l of [blockHeader(b), ...b.lines]) expect(text).toContain(l);
}

const HAS_DOT = spawnSync('dot', ['-V']).error === undefined;
if (!HAS_DOT) console.log('cfg-render: `dot` (Graphviz) is not installed: DOT output is checked by a quote/brace scan only');

/** The DOT text parses: by Graphviz when installed, else strings are closed and braces balance outside them. */
function checkDot(dot: string): void {
  if (HAS_DOT) {
    const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    checkXml(r.stdout.slice(r.stdout.indexOf('<svg')));
    return;
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < dot.length; i++) {
    const c = dot[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      else expect(c === '\n').toBe(false);
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    expect(depth).toBeGreaterThanOrEqual(0);
  }
  expect(inString).toBe(false);
  expect(depth).toBe(0);
}

describe('graph model', () => {
  it('a loop: the latch edge is a back edge, its target a loop header', () => {
    const g = graph(LOOP);
    expect(blocks(g)).toEqual([
      ['f0b0', 0, 2, 'pc 0..1'],
      ['f0b1', 2, 5, 'pc 2..4 [loop header]'],
      ['f0b2', 5, 6, 'pc 5..5'],
    ]);
    expect(edges(g)).toEqual(['f0b0->f0b1 fall', 'f0b1->f0b1 taken back', 'f0b1->f0b2 not-taken']);
    expect(g.functions[0]!.blocks[1]!.lines).toEqual(['2: add %r0, %r1', '3: sub %r1, 1', '4: jne %r1, 0, -3']);
    expect(g.functions[0]!.blocks[2]!.exit).toBe(true);
  });

  it('a loop tested at the bottom: the back edge goes down in pc order', () => {
    const g = graph(BOTTOM_TEST);
    expect(edges(g)).toEqual(['f0b0->f0b2 jump', 'f0b1->f0b2 fall back', 'f0b2->f0b1 taken', 'f0b2->f0b3 not-taken']);
    expect(g.functions[0]!.blocks.map((b) => b.loopHeader)).toEqual([false, false, true, false]);
  });

  it('a diamond: two forward branches, no back edge, no loop header', () => {
    const g = graph(DIAMOND);
    expect(edges(g)).toEqual(['f0b0->f0b2 taken', 'f0b0->f0b1 not-taken', 'f0b1->f0b3 jump', 'f0b2->f0b3 fall']);
    expect(g.functions[0]!.blocks.some((b) => b.loopHeader || b.tailCall || b.callx)).toBe(false);
  });

  it('local calls: one function per entry, a call edge per call site to the callee entry', () => {
    const g = graph(CALLS, 'main');
    expect(g.functions.map((f) => [f.entry, f.name, f.blocks.length])).toEqual([[0, 'main', 3], [4, 'fn@4', 2], [7, 'fn@7', 1]]);
    expect(g.calls).toEqual([
      { from: 'f0b0', to: 'f1b0', callee: 1 },
      { from: 'f0b1', to: 'f1b0', callee: 1 },
      { from: 'f1b0', to: 'f2b0', callee: 2 },
    ]);
    // Calls end blocks, and the call is not a control-flow edge inside the caller.
    expect(edges(g)).toEqual(['f0b0->f0b1 fall', 'f0b1->f0b2 fall', 'f1b0->f1b1 fall']);
  });

  it('a tail call and a callx mark their blocks', () => {
    const g = graph(TAIL);
    expect(g.functions[0]!.blocks.map((b) => [b.start, b.tailCall])).toEqual([[0, true], [5, false]]);
    expect(blockHeader(g.functions[0]!.blocks[0]!)).toBe('pc 0..4 [tail call]');
    expect(g.functions[0]!.blocks[0]!.lines[1]).toBe('1: lddw %r2, 0x100000000');
    const x = graph('mov %r3, 12\ncallx %r3\nexit');
    expect(x.functions[0]!.blocks.map((b) => b.callx)).toEqual([true, false]);
    // Helper calls other than 12 mark nothing.
    expect(graph('call 1\nexit').functions[0]!.blocks.some((b) => b.tailCall)).toBe(false);
  });

  it('scales: 15000 back edges to the entry of a long chain (dominance is not a chain walk)', () => {
    const n = 15000;
    const text = 'start:\n' + 'add %r0, 1\njgt %r0, 1000000, start\n'.repeat(n) + 'exit';
    const t0 = performance.now();
    const g = graph(text);
    const svg = renderSvg(g);
    const ms = performance.now() - t0;
    const all = g.functions[0]!.edges;
    expect(all.filter((e) => e.back)).toHaveLength(n);
    expect(all.filter((e) => e.back).every((e) => e.to === 'f0b0' && e.kind === 'taken')).toBe(true);
    expect(svg.split('class="edge taken back"').length - 1).toBe(n);
    // Overlapping edges share a bounded number of lanes: the picture stays narrow.
    expect(Number(/<svg [^>]*width="(\d+)"/.exec(svg)![1])).toBeLessThan(1000);
    console.log(`cfg-render: ${n + 1} blocks, model + SVG in ${ms.toFixed(0)} ms`);
  });

  it('unreachable blocks are marked and have no back edges', () => {
    const g = graph('ja +1\nja -2\nexit');
    expect(blocks(g)).toEqual([['f0b0', 0, 1, 'pc 0..0'], ['f0b1', 1, 2, 'pc 1..1 [unreachable]'], ['f0b2', 2, 3, 'pc 2..2']]);
    expect(edges(g)).toEqual(['f0b0->f0b2 jump', 'f0b1->f0b0 jump']);
  });
});

describe('renderers', () => {
  const programs: [string, string][] = [['loop', LOOP], ['bottom', BOTTOM_TEST], ['diamond', DIAMOND], ['calls', CALLS], ['tail', TAIL]];

  it.each(programs)('%s: DOT parses and names every block and edge', (_, text) => {
    const g = graph(text);
    const dot = renderDot(g);
    checkDot(dot);
    for (const f of g.functions) {
      expect(dot).toContain(`subgraph cluster_f${f.index} {`);
      for (const b of f.blocks) expect(dot).toContain(`    ${b.id} [label="${blockHeader(b)}\\l`);
      for (const e of f.edges) expect(dot).toContain(`    ${e.from} -> ${e.to} [`);
    }
    expect(dot.split('xlabel="back"').length - 1).toBe(g.functions.flatMap((f) => f.edges).filter((e) => e.back).length);
    expect(dot.split('style="dashed", color="purple"').length - 1).toBe(g.calls.length);
  });

  it.each(programs)('%s: SVG is well-formed and holds every block label', (_, text) => {
    const g = graph(text);
    const svg = renderSvg(g);
    svgHoldsEveryLabel(g, svg);
    const nEdges = g.functions.reduce((n, f) => n + f.edges.length, 0);
    expect(svg.split('<path class="edge ').length - 1).toBe(nEdges);
    expect(svg.split('<path class="call"').length - 1).toBe(g.calls.length);
    expect(svg.split('class="block"').length - 1).toBe(g.functions.reduce((n, f) => n + f.blocks.length, 0));
  });

  it('SVG: back edges are drawn as back edges; upward edges run left of the blocks, downward ones right', () => {
    const svg = renderSvg(graph(LOOP));
    const back = svg.split('\n').find((l) => l.includes('class="edge taken back"'))!;
    // The self loop leaves the box's left side (x = box x) and goes further left.
    const m = /d="M(\d+(?:\.\d+)?),[\d.]+ H(\d+(?:\.\d+)?)/.exec(back)!;
    expect(Number(m[2])).toBeLessThan(Number(m[1]));
    const down = renderSvg(graph(DIAMOND)).split('\n').find((l) => l.includes('class="edge taken"'))!;
    const d = /d="M(\d+(?:\.\d+)?),[\d.]+ H(\d+(?:\.\d+)?)/.exec(down)!;
    expect(Number(d[2])).toBeGreaterThan(Number(d[1]));
  });

  it.each(programs)('%s: Mermaid has one node per block and one arrow per edge', (_, text) => {
    const g = graph(text);
    const mm = renderMermaid(g);
    expect(mm.startsWith('flowchart TD\n')).toBe(true);
    for (const f of g.functions) {
      for (const b of f.blocks) expect(mm).toContain(`    ${b.id}["`);
      for (const e of f.edges) expect(mm).toMatch(new RegExp(`    ${e.from} (==>|-->)(\\|[^|]*\\|)? ${e.to}\n`));
    }
    expect(mm.split('-.->|call|').length - 1).toBe(g.calls.length);
    expect(mm.split('==>').length - 1).toBe(g.functions.flatMap((f) => f.edges).filter((e) => e.back).length);
  });
});

describe('hostile text cannot break out', () => {
  const HOSTILE = 'x" onload="alert(1)\'</text></svg><script>&amp;&#x3c;\\"]\n}{|`#;\u0000\ud800';
  const g = graph(LOOP, HOSTILE);

  it('SVG: still one well-formed document with no injected markup', () => {
    const svg = renderSvg(g);
    checkXml(svg);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('onload="');
    expect(svg).toContain('&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;&amp;amp;');
  });

  it('DOT: the name stays inside its strings', () => {
    const dot = renderDot(g);
    checkDot(dot);
    expect(dot.startsWith('digraph "x\\" onload=\\"alert(1)\'</text></svg><script>&amp;&#x3c;\\\\\\"] }{|`#; ')).toBe(true);
  });

  it('Mermaid: no quote or markup survives in the label', () => {
    const mm = renderMermaid(g);
    const line = mm.split('\n').find((l) => l.startsWith('  subgraph f0['))!;
    // Exactly the two delimiting quotes, and nothing that starts markup.
    expect(line.split('"').length - 1).toBe(2);
    expect(line).not.toMatch(/[<>`]/);
    expect(mm.split('\n').every((l) => !l.includes('\u0000'))).toBe(true);
  });
});

describe('ebpf-js cfg', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-cfg-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]): string => {
    const lines: string[] = [];
    expect(cfgCommand(args, (s) => lines.push(s))).toBe(0);
    return lines.join('\n');
  };

  it('draws an ELF program picked by --program: its subprograms and calls', () => {
    const dot = run(['fixtures/elf/calls.o', '--program', 'calls_xdp']);
    checkDot(dot);
    expect(dot).toContain('digraph "calls_xdp" {');
    // calls_xdp, sum_bytes, classify, mix: four functions, three call sites.
    expect(dot.split('subgraph cluster_f').length - 1).toBe(4);
    expect(dot.split('color="purple", label="call"').length - 1).toBe(3);
    // BTF line info: the C line before the instructions compiled from it.
    expect(dot).toContain('\\l; ./calls.c:42: return classify(sum_bytes(data, data_end));\\l2: call local +3\\l');
    const svgPath = join(dir, 'calls.svg');
    expect(run(['fixtures/elf/calls.o', '--program', 'calls_xdp', '--format', 'svg', '-o', svgPath])).toBe('');
    checkXml(readFileSync(svgPath, 'utf8'));
  });

  it('marks the loop of an ELF program (ringbuf.o packet_events copies bytes in a loop)', () => {
    const mm = run(['fixtures/elf/ringbuf.o', '--program', 'packet_events', '--format', 'mermaid']);
    expect(mm.split('==>').length - 1).toBe(1);
    expect(mm).toMatch(/class f0b\d+ loop/);
  });

  it('takes --kconfig values for objects with __kconfig externs', () => {
    expect(() => run(['fixtures/elf/kconfig.o'])).toThrow(/kconfig extern/);
    const kconfig = ['--kconfig', 'CONFIG_BPF_JIT=y', '--kconfig', 'CONFIG_BPF_SYSCALL=y', '--kconfig', 'CONFIG_HZ=250', '--kconfig', 'CONFIG_DEFAULT_HOSTNAME="x"'];
    expect(run(['fixtures/elf/kconfig.o', ...kconfig])).toMatch(/^digraph /);
  });

  it('marks the tail call of an ELF object', () => {
    const mm = run(['fixtures/elf/tail_dispatch.o', '--program', 'dispatch', '--format', 'mermaid']);
    expect(mm).toContain('tail call');
    expect(mm).toMatch(/class f\d+b\d+ tailcall/);
  });

  it('reads assembly (a hostile file name included) and raw bytecode', () => {
    const asm = join(dir, 'a"<b>&.asm');
    writeFileSync(asm, LOOP);
    const svg = run([asm, '--format', 'svg']);
    checkXml(svg);
    expect(svg).toContain('<title>a&quot;&lt;b&gt;&amp;.asm</title>');
    const bin = join(dir, 'loop.bin');
    writeFileSync(bin, encodeSlots(assembleSlots(LOOP)));
    expect(run([bin, '--format', 'mermaid'])).toContain('f0b1 ==>|T back| f0b1');
  });

  it('rejects bad usage with a UsageError', () => {
    expect(() => run([])).toThrow(UsageError);
    expect(() => run(['fixtures/elf/calls.o', '--format', 'png'])).toThrow(/--format must be one of dot, svg, mermaid/);
    expect(() => run(['fixtures/elf/calls.o'])).toThrow(/give --section or --program/);
    expect(() => run([join(dir, 'missing.asm')])).toThrow(UsageError);
    expect(() => run(['fixtures/elf/calls.o', '--program', 'calls_xdp', '-o', join(dir, 'no/such/dir.dot')])).toThrow(/cannot write/);
  });
});
