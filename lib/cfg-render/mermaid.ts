// Mermaid flowchart output of a CfgGraph: one subgraph per BPF function, one
// node per basic block; back edges thick (==>), calls dotted (-.->), marks as
// classes.

import { blockHeader, type CfgGraph, type GraphEdge } from './model.js';

/**
 * Text inside a Mermaid quoted label. Mermaid decodes `#name;` / `#code;`
 * entities in labels and treats the label as HTML, so every character that
 * could end the string, start markup or an entity, or turn the label into a
 * markdown string is written as a numeric entity: " < > & # `. Brackets and
 * parentheses are plain text inside a quoted label and stay readable.
 * Control characters become spaces.
 */
export function mermaidText(text: string): string {
  let s = '';
  for (const ch of text) {
    if ('"<>&#`'.includes(ch)) s += `#${ch.codePointAt(0)!};`;
    else if (ch < ' ' || ch === '\u007f') s += ' ';
    else s += ch;
  }
  return s;
}

function arrow(e: GraphEdge): string {
  const label = e.kind === 'taken' ? 'T' : e.kind === 'not-taken' ? 'F' : '';
  const tag = e.back ? (label === '' ? 'back' : `${label} back`) : label;
  const op = e.back ? '==>' : '-->';
  return tag === '' ? op : `${op}|${tag}|`;
}

export function renderMermaid(g: CfgGraph): string {
  const out: string[] = ['flowchart TD'];
  const classes: string[] = [];
  for (const f of g.functions) {
    out.push(`  subgraph f${f.index}["${mermaidText(`${f.name} (pc ${f.entry})`)}"]`);
    out.push('    direction TB');
    for (const b of f.blocks) {
      const label = [blockHeader(b), ...b.lines].map(mermaidText).join('<br/>');
      out.push(`    ${b.id}["${label}"]`);
      if (b.tailCall || b.callx) classes.push(`  class ${b.id} tailcall`);
      else if (b.loopHeader) classes.push(`  class ${b.id} loop`);
      else if (b.unreachable) classes.push(`  class ${b.id} unreachable`);
    }
    for (const e of f.edges) out.push(`    ${e.from} ${arrow(e)} ${e.to}`);
    out.push('  end');
  }
  for (const c of g.calls) out.push(`  ${c.from} -.->|call| ${c.to}`);
  out.push('  classDef tailcall stroke:#d2691e,stroke-width:3px');
  out.push('  classDef loop stroke:#1e5bd2,stroke-width:3px');
  out.push('  classDef unreachable stroke-dasharray:4 3,color:#777');
  out.push(...classes);
  return out.join('\n') + '\n';
}
