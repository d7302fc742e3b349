// Graphviz DOT output of a CfgGraph: one cluster per BPF function, one box per
// basic block (pc range, marks, disassembly left-justified), edges styled by
// kind; back edges bold blue, calls dashed to the callee's entry block.

import { blockHeader, type CfgGraph, type EdgeKind, type GraphBlock } from './model.js';

/**
 * Text inside a DOT double-quoted string. Backslash and quote are escaped so
 * the string cannot end early; control characters (newlines included) become
 * spaces, since the only line break we want is our own `\l`.
 */
export function dotString(text: string): string {
  let s = '';
  for (const ch of text) {
    if (ch === '\\' || ch === '"') s += '\\' + ch;
    else if (ch < ' ' || ch === '\u007f') s += ' ';
    else s += ch;
  }
  return `"${s}"`;
}

const EDGE_STYLE: Record<EdgeKind, string> = {
  fall: 'color="black"',
  jump: 'color="black"',
  taken: 'color="darkgreen", label="T", fontcolor="darkgreen"',
  'not-taken': 'color="red3", label="F", fontcolor="red3"',
};

function nodeLabel(b: GraphBlock): string {
  // Each line ends in \l (left-justified line break): escape first, then add the separators.
  const body = [blockHeader(b), ...b.lines].map((l) => dotString(l).slice(1, -1) + '\\l').join('');
  return `"${body}"`;
}

function nodeStyle(b: GraphBlock): string {
  if (b.tailCall || b.callx) return ', color="darkorange", penwidth=2';
  if (b.loopHeader) return ', color="blue", penwidth=2';
  if (b.unreachable) return ', style="dashed", fontcolor="gray40"';
  return '';
}

export function renderDot(g: CfgGraph): string {
  const out: string[] = [];
  out.push(`digraph ${dotString(g.title)} {`);
  out.push('  node [shape=box, fontname="monospace", fontsize=10];');
  out.push('  edge [fontname="monospace", fontsize=9];');
  for (const f of g.functions) {
    out.push(`  subgraph cluster_f${f.index} {`);
    out.push(`    label=${dotString(`${f.name} (pc ${f.entry})${f.reducible ? '' : ' irreducible'}`)};`);
    for (const b of f.blocks) out.push(`    ${b.id} [label=${nodeLabel(b)}${nodeStyle(b)}];`);
    for (const e of f.edges) {
      const style = e.back ? `${EDGE_STYLE[e.kind]}, color="blue", penwidth=2, xlabel="back"` : EDGE_STYLE[e.kind];
      out.push(`    ${e.from} -> ${e.to} [${style}];`);
    }
    out.push('  }');
  }
  for (const c of g.calls) out.push(`  ${c.from} -> ${c.to} [style="dashed", color="purple", label="call"];`);
  out.push('}');
  return out.join('\n') + '\n';
}
