// The compact printer (codegen/print.ts): whatever tree it is given, the text
// it prints parses back (acorn) to the same tree, as astring's readable
// output does: no precedence mistake, no tokens glued together (`a - -b`,
// `a < !b`). Random trees from the JIT's own builders, then every module the
// JIT generates for the fixtures, printed both ways.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import fc from 'fast-check';
import type * as ES from 'estree';
import { describe, expect, it } from 'vitest';
import {
  assignExpr, big, bin, block, bool, brk, call, cond, cont, expr, fn, id, ifStmt, index, labeled, letDecl, logical, loop, member,
  num, ret, seq, str, switchStmt, unary, type Expr, type Stmt,
} from '../codegen/ast.js';
import { emitModule } from '../codegen/emit.js';
import { Sink, printInto } from '../codegen/print.js';
import { conformanceVm, findDataFiles } from '../lib/conformance.js';
import { parseDataFile } from '../lib/datafile.js';

function print(node: ES.Program, style: 'compact' | 'readable'): string {
  const sink = new Sink();
  printInto(sink, node, style);
  return sink.text();
}

/** The parts of a tree that make its meaning (no positions, raw texts or comments). */
function normalize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normalize);
  if (node === null || typeof node !== 'object') return typeof node === 'bigint' ? `${node}n` : node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (['start', 'end', 'loc', 'range', 'raw', 'comments', 'sourceType', 'directive', 'bigint'].includes(k)) continue;
    if (k === 'optional' && v === false) continue;
    if ((k === 'generator' || k === 'async' || k === 'expression') && v === false) continue;
    out[k] = normalize(v);
  }
  return out;
}

function parsed(source: string): unknown {
  return normalize(parse(source, { ecmaVersion: 2022, allowReturnOutsideFunction: true }));
}


// ---------------------------------------------------------------------------
// Random trees

const BINARY: ES.BinaryOperator[] = [
  '+', '-', '*', '/', '%', '**', '|', '&', '^', '<<', '>>', '>>>', '==', '!=', '===', '!==', '<', '<=', '>', '>=', 'in', 'instanceof',
];
const UNARY: ES.UnaryOperator[] = ['-', '+', '!', '~', 'typeof', 'void'];
const NAMES = ['a', 'r0', 'r0h', 'V', 'RET', 'x1'];

const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.constantFrom(...NAMES).map((n) => id(n)),
  fc.integer({ min: -0x80000000, max: 0xffffffff }).map((v) => num(v)),
  fc.constantFrom(-0, 0.5, 1e21, 2 ** 53).map((v) => num(v)),
  fc.string({ maxLength: 6 }).map((s) => str(s)),
  fc.boolean().map((b) => bool(b)),
  fc.bigInt({ min: 0n, max: 1n << 64n }).map((v) => big(v)),
);

const { tree } = fc.letrec<{ tree: Expr }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.tuple(fc.constantFrom(...BINARY), tie('tree'), tie('tree')).map(([op, l, r]) => bin(op, l, r)),
    fc.tuple(fc.constantFrom<ES.LogicalOperator>('&&', '||'), tie('tree'), tie('tree')).map(([op, l, r]) => logical(op, l, r)),
    fc.tuple(fc.constantFrom(...UNARY), tie('tree')).map(([op, a]) => unary(op, a)),
    fc.tuple(tie('tree'), tie('tree'), tie('tree')).map(([t, c, a]) => cond(t, c, a)),
    fc.tuple(tie('tree'), fc.array(tie('tree'), { maxLength: 3 })).map(([f, args]) => call(f, args)),
    fc.tuple(tie('tree'), fc.constantFrom('getInt32', 'x')).map(([o, name]) => member(o, name)),
    fc.tuple(tie('tree'), tie('tree')).map(([o, i]) => index(o, i)),
    fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom<ES.AssignmentOperator>('=', '+=', '-=', '|='), tie('tree'))
      .map(([n, op, v]) => assignExpr(n, v, op)),
    fc.array(tie('tree'), { minLength: 2, maxLength: 3 }).map((es) => seq(es)),
  ),
}));

const statement: fc.Arbitrary<Stmt> = fc.oneof(
  tree.map((e) => expr(e)),
  fc.tuple(tree, fc.array(tree.map(expr), { maxLength: 2 }), fc.array(tree.map(expr), { maxLength: 2 }))
    .map(([t, a, b]) => ifStmt(t, a, b)),
  tree.map((e) => ret(e)),
  fc.constant(ret()),
  fc.tuple(fc.array(tree.map(expr), { maxLength: 2 })).map(([body]) => labeled('L_b1', loop([...body, brk('L_b1'), cont('L_b1')]))),
  fc.tuple(tree, fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }))
    .map(([d, cases]) => switchStmt(d, [...cases.map((c) => ({ test: num(c), body: [brk()] })), { test: null, body: [ret(num(0))] }])),
  // Named v<i> by position below: two `let`s of one name would not parse.
  tree.map((e) => letDecl(['v'], e)),
  fc.array(tree.map(expr), { maxLength: 2 }).map((body) => block(body)),
);

describe('compact printing', () => {
  it('random expressions and statements parse back to the tree they came from', () => {
    fc.assert(fc.property(fc.array(statement, { minLength: 1, maxLength: 4 }), (statements) => {
      const body = statements.map((st, i) => (st.type === 'VariableDeclaration' ? letDecl([`v${i}`], st.declarations[0]!.init!) : st));
      const program: ES.Program = { type: 'Program', sourceType: 'script', body: [fn('f', ['a', 'b'], body)] };
      const compact = print(program, 'compact');
      const want = parsed(print(program, 'readable'));
      expect(parsed(compact), compact).toEqual(want);
      // And the readable text says what the tree says.
      expect(want).toEqual(normalize({ ...program, body: program.body }));
    }), { numRuns: 3000, seed: 0x9e1 });
  });

  it('keeps apart the tokens that would glue together', () => {
    const cases: [Expr, string][] = [
      [bin('-', id('a'), num(-1)), 'a- -1'],
      [bin('+', id('a'), unary('+', id('b'))), 'a+ +b'],
      [bin('-', id('a'), bin('*', unary('-', id('b')), id('c'))), 'a- -b*c'],
      [bin('<', id('a'), unary('!', id('b'))), 'a< !b'],
      [unary('-', unary('-', id('a'))), '- -a'],
      [unary('-', num(-1)), '- -1'],
      [bin('+', id('a'), num(-1)), 'a+-1'],
      [unary('typeof', id('a')), 'typeof a'],
      [bin('in', id('a'), id('b')), '(a in b)'],
      [member(num(1), 'x'), '(1).x'],
      // A literal not made by num(): a negative value.
      [bin('-', id('a'), { type: 'Literal', value: -2 }), 'a- -2'],
    ];
    for (const [e, text] of cases) {
      expect(print({ type: 'Program', sourceType: 'script', body: [expr(e)] }, 'compact')).toBe(`${text};\n`);
    }
  });
});

describe('every module the JIT generates prints the same tree compact and readable', () => {
  const files = findDataFiles([fileURLToPath(new URL('../fixtures', import.meta.url))]);
  for (const budget of [false, true]) {
    it(`${files.length} fixtures${budget ? ', budget checks on' : ''}`, () => {
      let count = 0;
      for (const file of files) {
        const c = parseDataFile(readFileSync(file, 'utf8'));
        if (c.raw === undefined && c.asm === undefined) continue;
        const vm = conformanceVm('jit');
        let program;
        try {
          program = vm.load(c.raw ?? c.asm!).program;
        } catch {
          continue; // a case about a validation error
        }
        // The same trees (no comments), printed both ways; and split into one piece per block.
        for (const limit of [undefined, 1]) {
          const [compact, readable] = (['compact', 'readable'] as const).map((style) => {
            const sink = new Sink();
            emitModule(program, { ...vm.compileOptions(budget), comments: false }, sink, limit, style);
            return sink.text();
          });
          expect(parsed(compact!), file).toEqual(parsed(readable!));
        }
        count++;
      }
      expect(count).toBeGreaterThan(50);
    });
  }
});
