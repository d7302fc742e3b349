// Small ESTree builders. The JIT builds every piece of generated code with
// these; astring prints the result. Identifiers are only ever names the JIT
// made itself (r0..r10, block labels, runtime bindings); values from input
// appear as numeric Literals or string Literals that astring escapes.

import type * as ES from 'estree';

export type Expr = ES.Expression;
export type Stmt = ES.Statement;

export function id(name: string): ES.Identifier {
  return { type: 'Identifier', name };
}

/**
 * Literals 0..1023, built once and shared (an expression node is never
 * changed once built; only statements get comments attached), so that the
 * commonest numbers cost no allocation.
 */
const SMALL: readonly ES.Literal[] = Object.freeze(
  Array.from({ length: 1024 }, (_, v) => Object.freeze({ type: 'Literal' as const, value: v })),
);

/**
 * A numeric literal; negative numbers become unary minus (ESTree has no
 * negative literals). No `raw` text (one string less per literal): printers
 * write the value.
 */
export function num(value: number): Expr {
  if (value >= 0 && value < 1024 && (value | 0) === value && (value !== 0 || !Object.is(value, -0))) return SMALL[value]!;
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  if (value < 0 || Object.is(value, -0)) return { type: 'UnaryExpression', operator: '-', prefix: true, argument: num(-value) };
  return { type: 'Literal', value };
}

/** A string literal: astring escapes it, so any text is safe here. */
export function str(value: string): Expr {
  return { type: 'Literal', value };
}

export function bool(value: boolean): Expr {
  return { type: 'Literal', value };
}

export function big(value: bigint): Expr {
  return { type: 'Literal', value, bigint: value.toString(), raw: `${value}n` } as ES.BigIntLiteral;
}

export function bin(operator: ES.BinaryOperator, left: Expr, right: Expr): Expr {
  return { type: 'BinaryExpression', operator, left, right };
}

export function logical(operator: ES.LogicalOperator, left: Expr, right: Expr): Expr {
  return { type: 'LogicalExpression', operator, left, right };
}

export function unary(operator: ES.UnaryOperator, argument: Expr): Expr {
  return { type: 'UnaryExpression', operator, prefix: true, argument };
}

export function cond(test: Expr, consequent: Expr, alternate: Expr): Expr {
  return { type: 'ConditionalExpression', test, consequent, alternate };
}

export function call(callee: Expr | string, args: Expr[]): Expr {
  return { type: 'CallExpression', callee: typeof callee === 'string' ? id(callee) : callee, arguments: args, optional: false };
}

/** obj.name */
export function member(object: Expr | string, name: string): ES.MemberExpression {
  return { type: 'MemberExpression', object: typeof object === 'string' ? id(object) : object, property: id(name), computed: false, optional: false };
}

/** obj[index] */
export function index(object: Expr | string, idx: Expr): ES.MemberExpression {
  return { type: 'MemberExpression', object: typeof object === 'string' ? id(object) : object, property: idx, computed: true, optional: false };
}

/** obj.method(args) */
export function method(object: Expr | string, name: string, args: Expr[]): Expr {
  return call(member(object, name), args);
}

export function assignExpr(target: string | ES.MemberExpression, value: Expr, operator: ES.AssignmentOperator = '='): Expr {
  return { type: 'AssignmentExpression', operator, left: typeof target === 'string' ? id(target) : target, right: value };
}

export function seq(expressions: Expr[]): Expr {
  return expressions.length === 1 ? expressions[0]! : { type: 'SequenceExpression', expressions };
}

// --- statements -------------------------------------------------------------

export function expr(expression: Expr): Stmt {
  return { type: 'ExpressionStatement', expression };
}

/** `target = value;` */
export function assign(target: string | ES.MemberExpression, value: Expr, operator: ES.AssignmentOperator = '='): Stmt {
  return expr(assignExpr(target, value, operator));
}

export function letDecl(names: readonly string[], init?: Expr): Stmt {
  return {
    type: 'VariableDeclaration',
    kind: 'let',
    declarations: names.map((n) => ({ type: 'VariableDeclarator', id: id(n), init: init ?? null })),
  };
}

export function constDecl(name: string | ES.Pattern, init: Expr): Stmt {
  return {
    type: 'VariableDeclaration',
    kind: 'const',
    declarations: [{ type: 'VariableDeclarator', id: typeof name === 'string' ? id(name) : name, init }],
  };
}

export function block(body: Stmt[]): ES.BlockStatement {
  return { type: 'BlockStatement', body };
}

export function ifStmt(test: Expr, consequent: Stmt[], alternate?: Stmt[]): Stmt {
  return {
    type: 'IfStatement',
    test,
    consequent: block(consequent),
    alternate: alternate === undefined || alternate.length === 0 ? null : block(alternate),
  };
}

export function ret(argument?: Expr): Stmt {
  return { type: 'ReturnStatement', argument: argument ?? null };
}

export function throwStmt(argument: Expr): Stmt {
  return { type: 'ThrowStatement', argument };
}

export function brk(label?: string): Stmt {
  return { type: 'BreakStatement', label: label === undefined ? null : id(label) };
}

export function cont(label?: string): Stmt {
  return { type: 'ContinueStatement', label: label === undefined ? null : id(label) };
}

export function labeled(label: string, body: Stmt): Stmt {
  return { type: 'LabeledStatement', label: id(label), body };
}

/** `while (true) { body }` */
export function loop(body: Stmt[]): Stmt {
  return { type: 'WhileStatement', test: bool(true), body: block(body) };
}

export function switchStmt(discriminant: Expr, cases: { test: Expr | null; body: Stmt[] }[]): Stmt {
  return {
    type: 'SwitchStatement',
    discriminant,
    cases: cases.map((c) => ({ type: 'SwitchCase', test: c.test, consequent: c.body })),
  };
}

export function fn(name: string, params: readonly string[], body: Stmt[]): ES.FunctionDeclaration {
  return {
    type: 'FunctionDeclaration',
    id: id(name),
    params: params.map(id),
    body: block(body),
    generator: false,
    async: false,
  };
}

/**
 * Attaches line comments before a statement (astring prints `comments` on
 * statements when asked to). The text is ours (pc ranges, disassembly).
 */
export function withComments<T extends Stmt>(stmt: T, lines: readonly string[]): T {
  (stmt as T & { comments?: unknown[] }).comments = lines.map(lineComment);
  return stmt;
}

/**
 * Adds line comments after those a statement has. The text may be input (C
 * source lines): a line comment ends only at a line terminator, and
 * lineComment turns every one into a space, so no text can end it early.
 */
export function appendComments<T extends Stmt>(stmt: T, lines: readonly string[]): T {
  const s = stmt as T & { comments?: unknown[] };
  s.comments = [...(s.comments ?? []), ...lines.map(lineComment)];
  return stmt;
}

/** A line comment of `text`, its line terminators (all four of JavaScript's) made spaces. */
function lineComment(text: string): { type: 'Line'; value: string } {
  return { type: 'Line', value: ` ${text.replace(/[\r\n\u2028\u2029]/g, ' ')}` };
}
