// The generated source comes only from the AST: whatever the input, it parses
// and names nothing but the JIT's own identifiers and the runtime bindings.
import { parse } from 'acorn';
import { simple } from 'acorn-walk';
import { describe, expect, it } from 'vitest';
import { RT, STACK_OFFSET, STATE, TEMPS } from '../codegen/context.js';
import { conformanceVm } from '../lib/conformance.js';

const OWN = new Set<string>([
  ...Object.values(RT), ...Object.values(STATE), ...TEMPS, STACK_OFFSET, 'R', 'rt', 'entry', 'budget', 'blk',
  // Standard methods the lowering uses.
  'Math', 'imul', 'getInt8', 'getUint8', 'getInt16', 'getUint16', 'getInt32', 'getUint32',
  'setInt8', 'setUint8', 'setInt16', 'setUint16', 'setInt32', 'setUint32', 'clz32',
]);
const GENERATED = /^(r\d+h?|f\d+(_\d+)?|[A-Z]_b\d+|[a-z])$/;

function foreignNames(source: string): string[] {
  const ast = parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true });
  const names = new Set<string>();
  simple(ast, {
    Identifier(node) { names.add((node as unknown as { name: string }).name); },
  });
  return [...names].filter((n) => !OWN.has(n) && !GENERATED.test(n));
}

function strings(source: string): unknown[] {
  const ast = parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true });
  const out: unknown[] = [];
  simple(ast, { Literal(node) { const v = (node as unknown as { value: unknown }).value; if (typeof v === 'string') out.push(v); } });
  return out;
}

describe('generated source', () => {
  // Labels are the only names an assembly file chooses; they must not reach the code.
  const hostile = [
    'mov %r0, 0',
    'ja evil_alert_1',
    'evil_alert_1:',
    'jeq %r0, 0, constructor',
    'constructor:',
    'mov %r1, 1',
    'exit',
  ].join('\n');

  it('contains only the JIT\'s own identifiers, whatever the labels', () => {
    const source = conformanceVm('jit').load(hostile).jitSource({ budget: true });
    expect(foreignNames(source)).toEqual([]);
    expect(strings(source)).toEqual(['use strict']);
    expect(source).not.toMatch(/evil|constructor/);
  });

  it('turns comments into line comments that cannot break out', () => {
    const vm = conformanceVm('jit');
    const source = vm.load('lddw %r0, 0x2a2f2f0a0d\nexit').jitSource();
    expect(() => parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true })).not.toThrow();
    expect(vm.load('lddw %r0, 0x2a2f2f0a0d\nexit').run()).toBe(0x2a2f2f0a0dn);
  });
});
