// SVG output of a CfgGraph, laid out here without Graphviz. The layout is
// deliberately simple: one column per BPF function, side by side; its blocks
// stacked top to bottom in pc order. An edge into the block directly below is
// a short vertical line; any other edge going down runs in a lane on the
// right of the column, any edge going up (or to itself) in a lane on the
// left, as orthogonal polylines. Lanes are shared by edges whose vertical
// spans do not overlap (greedy interval colouring), so a column is only as
// wide as its busiest stretch needs. Calls are dashed lines between columns.
// Sizes assume a monospace font of FONT px whose advance is about 0.6 em.

import { blockHeader, type CfgGraph, type GraphBlock, type GraphEdge, type GraphFunction } from './model.js';

const FONT = 12;
const CHAR_W = FONT * 0.6;
const LINE_H = FONT + 4;
const PAD = 6;
const GAP = 30;
const LANE = 10;
const TOP = 36;
const COLUMN_GAP = 40;

/**
 * Text for XML content or a double-quoted attribute: the five markup
 * characters become entities; characters XML 1.0 cannot hold at all (control
 * characters, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so the document
 * stays well-formed whatever the input names contain.
 */
export function xmlText(text: string): string {
  let s = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '&') s += '&amp;';
    else if (ch === '<') s += '&lt;';
    else if (ch === '>') s += '&gt;';
    else if (ch === '"') s += '&quot;';
    else if (ch === "'") s += '&apos;';
    else if ((c < 0x20 && c !== 0x09) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) s += '\ufffd';
    else s += ch;
  }
  return s;
}

interface Box { readonly block: GraphBlock; readonly x: number; readonly y: number; readonly w: number; readonly h: number }

interface Routed { readonly edge: GraphEdge; readonly side: 'down' | 'up' | 'next'; lane: number }

interface Column { readonly fn: GraphFunction; readonly x: number; readonly width: number; readonly height: number;
  readonly boxes: ReadonlyMap<string, Box>; readonly routed: readonly Routed[]; readonly leftLanes: number }

/**
 * Most lanes on one side of a column. Past it, edges share lanes (lines may
 * overlap): a function with thousands of overlapping loops would otherwise
 * make the picture, and the lane search, grow with the square of its size.
 */
const MAX_LANES = 32;

/** Gives each edge the lowest lane free over its span of block indexes; returns the lane count. */
function assignLanes(edges: Routed[], span: (r: Routed) => [number, number]): number {
  const sorted = [...edges].sort((a, b) => span(a)[0] - span(b)[0] || span(a)[1] - span(b)[1]);
  const laneEnd: number[] = [];
  let overflow = 0;
  for (const r of sorted) {
    const [lo, hi] = span(r);
    let lane = laneEnd.findIndex((end) => end < lo);
    if (lane < 0 && laneEnd.length < MAX_LANES) lane = laneEnd.push(hi) - 1;
    else if (lane < 0) lane = overflow++ % MAX_LANES;
    laneEnd[lane] = Math.max(laneEnd[lane]!, hi);
    r.lane = lane;
  }
  return laneEnd.length;
}

function layoutColumn(fn: GraphFunction, x: number): Column {
  const index = new Map(fn.blocks.map((b, i) => [b.id, i]));
  const routed: Routed[] = fn.edges.map((edge) => {
    const from = index.get(edge.from)!;
    const to = index.get(edge.to)!;
    return { edge, side: to === from + 1 ? 'next' : to > from ? 'down' : 'up', lane: 0 };
  });
  const span = (r: Routed): [number, number] => {
    const a = index.get(r.edge.from)!;
    const b = index.get(r.edge.to)!;
    return [Math.min(a, b), Math.max(a, b)];
  };
  const leftLanes = assignLanes(routed.filter((r) => r.side === 'up'), span);
  const rightLanes = assignLanes(routed.filter((r) => r.side === 'down'), span);
  let widest = fn.name.length + 12;
  for (const b of fn.blocks) for (const l of [blockHeader(b), ...b.lines]) widest = Math.max(widest, l.length);
  const w = Math.ceil(widest * CHAR_W) + 2 * PAD;
  const boxX = x + PAD + (leftLanes + 1) * LANE;
  const boxes = new Map<string, Box>();
  let y = TOP;
  for (const block of fn.blocks) {
    const h = (block.lines.length + 1) * LINE_H + PAD;
    boxes.set(block.id, { block, x: boxX, y, w, h });
    y += h + GAP;
  }
  const width = boxX - x + w + (rightLanes + 1) * LANE + PAD;
  return { fn, x, width, height: y, boxes, routed, leftLanes };
}

function edgeColor(e: GraphEdge): string {
  if (e.back) return '#1e5bd2';
  return e.kind === 'taken' ? '#1a7f1a' : e.kind === 'not-taken' ? '#c62828' : '#333';
}

function edgePath(col: Column, r: Routed): string {
  const a = col.boxes.get(r.edge.from)!;
  const b = col.boxes.get(r.edge.to)!;
  if (r.side === 'next') {
    const cx = a.x + Math.min(a.w, 40);
    return `M${cx},${a.y + a.h} V${b.y}`;
  }
  // Leave near the source's bottom, arrive near the target's top, so lines
  // into and out of one block do not share a height.
  const y1 = a.y + a.h - PAD;
  const y2 = b.y + LINE_H / 2;
  if (r.side === 'down') {
    const lx = a.x + a.w + (r.lane + 1) * LANE;
    return `M${a.x + a.w},${y1} H${lx} V${y2} H${b.x + b.w}`;
  }
  const lx = a.x - (r.lane + 1) * LANE;
  return `M${a.x},${y1} H${lx} V${y2} H${b.x}`;
}

function blockSvg(box: Box, out: string[]): void {
  const b = box.block;
  const stroke = b.tailCall || b.callx ? '#d2691e' : b.loopHeader ? '#1e5bd2' : '#333';
  const width = b.tailCall || b.callx || b.loopHeader ? 2.5 : 1;
  const dash = b.unreachable ? ' stroke-dasharray="4 3"' : '';
  out.push(`<g class="block" id="${b.id}">`);
  out.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="#fff" stroke="${stroke}" stroke-width="${width}"${dash}/>`);
  const lines = [blockHeader(b), ...b.lines];
  lines.forEach((line, i) => {
    const weight = i === 0 ? ' font-weight="bold"' : '';
    out.push(`<text x="${box.x + PAD}" y="${box.y + (i + 1) * LINE_H}"${weight}>${xmlText(line)}</text>`);
  });
  out.push('</g>');
}

export function renderSvg(g: CfgGraph): string {
  const columns: Column[] = [];
  let x = 0;
  for (const fn of g.functions) {
    const col = layoutColumn(fn, x);
    columns.push(col);
    x += col.width + COLUMN_GAP;
  }
  const width = Math.max(x - COLUMN_GAP, 100);
  const height = columns.reduce((m, c) => Math.max(m, c.height), TOP) + PAD;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT}">`);
  out.push(`<title>${xmlText(g.title)}</title>`);
  out.push('<defs>');
  for (const [name, color] of [['arrow', '#333'], ['arrow-taken', '#1a7f1a'], ['arrow-not-taken', '#c62828'], ['arrow-back', '#1e5bd2'], ['arrow-call', '#7b1fa2']]) {
    out.push(`<marker id="${name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`);
  }
  out.push('</defs>');
  const boxOf = new Map<string, Box>();
  for (const col of columns) {
    out.push(`<g class="function" id="fn${col.fn.index}">`);
    out.push(`<rect x="${col.x}" y="4" width="${col.width}" height="${col.height - 4}" fill="#f6f6f6" stroke="#bbb"/>`);
    out.push(`<text x="${col.x + PAD}" y="${4 + LINE_H}" font-weight="bold">${xmlText(`${col.fn.name} (pc ${col.fn.entry})${col.fn.reducible ? '' : ' irreducible'}`)}</text>`);
    for (const box of col.boxes.values()) {
      blockSvg(box, out);
      boxOf.set(box.block.id, box);
    }
    for (const r of col.routed) {
      const e = r.edge;
      const marker = e.back ? 'arrow-back' : e.kind === 'taken' ? 'arrow-taken' : e.kind === 'not-taken' ? 'arrow-not-taken' : 'arrow';
      const cls = `edge ${e.kind}${e.back ? ' back' : ''}`;
      out.push(`<path class="${cls}" d="${edgePath(col, r)}" fill="none" stroke="${edgeColor(e)}" stroke-width="${e.back ? 2 : 1.2}" marker-end="url(#${marker})"/>`);
    }
    out.push('</g>');
  }
  for (const c of g.calls) {
    const a = boxOf.get(c.from)!;
    const b = boxOf.get(c.to)!;
    const rightward = b.x > a.x;
    const x1 = rightward ? a.x + a.w : a.x;
    const x2 = rightward ? b.x : b.x + b.w;
    out.push(`<path class="call" d="M${x1},${a.y + a.h / 2} L${x2},${b.y + LINE_H / 2}" fill="none" stroke="#7b1fa2" stroke-width="1.2" stroke-dasharray="6 4" marker-end="url(#arrow-call)"/>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
