// Control-flow graph rendering: the graph model and its three output formats.

export { blockHeader, blockMarks, buildCfgGraph, type CallEdge, type CfgGraph, type EdgeKind, type GraphBlock, type GraphEdge, type GraphFunction } from './model.js';
export { dotString, renderDot } from './dot.js';
export { mermaidText, renderMermaid } from './mermaid.js';
export { renderSvg, xmlText } from './svg.js';

import { renderDot } from './dot.js';
import { renderMermaid } from './mermaid.js';
import type { CfgGraph } from './model.js';
import { renderSvg } from './svg.js';

export const CFG_FORMATS = ['dot', 'svg', 'mermaid'] as const;
export type CfgFormat = (typeof CFG_FORMATS)[number];

export function renderCfg(g: CfgGraph, format: CfgFormat): string {
  switch (format) {
    case 'dot': return renderDot(g);
    case 'svg': return renderSvg(g);
    case 'mermaid': return renderMermaid(g);
  }
}
