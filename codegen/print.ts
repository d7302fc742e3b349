// Printing generated ESTree with astring, in two styles:
//
// - readable (`jitSource`, golden files): astring's own generator, indented,
//   with the comments the emitter attached;
// - compact (the compile path): astring driven by a generator that extends
//   astring's GENERATOR, overriding the node types the JIT emits (statements,
//   operators, calls, member accesses, names, numbers) to print them without
//   indentation or optional spaces: less text to build, and less for V8 to
//   scan when `new Function` parses it. The overrides share one function
//   that switches on the node type: V8 optimizes it as one piece, where
//   astring's lookup of a method per node is a megamorphic load and call at
//   every node (the largest single cost in profiles of the compile path).
//   Any other node type goes back to astring's own method.
//
// Dropping spaces must never merge two tokens: `a - -b` must not become
// `a--b`, nor `a < !b` the HTML comment opener `<!`. Where an operator ending
// in `+`, `-` or `<` is followed by an operand whose first token starts with
// `+`, `-` or `!` (found by walking down the operand's left edge), a space
// separates them. Operators that are words (`in`, `typeof`) keep their
// spaces. Parentheses follow astring's precedence rules, copied from its
// generator (its tables are exported by its code but not by its types).
//
// What it does not do: comments in the compact style.
//
// Source maps (source-map.ts), only when asked: a MappedSink tracks the line
// and column of what it is given, and statements are marked as they start
// (in the compact printer's statement lists; in the readable style by
// astring's statement methods wrapped in MAPPED_READABLE). A plain Sink has
// no recorder: the cost on the usual path is one field read per statement.

import { GENERATOR, generate, type Generator, type State } from 'astring';
import type * as ES from 'estree';
import { MapRecorder } from './source-map.js';

/**
 * Where printed text goes. Tokens are appended to a string: V8 builds a rope
 * (one small heap object per token), which `cut` flattens after each
 * top-level function so that its nodes die young instead of piling up, a
 * million-instruction program's worth, until the end. (Measured against
 * collecting tokens in an array and joining it, which was several times
 * slower, and against copying characters into a byte buffer decoded at each
 * cut, which executed more instructions for no gain in time.)
 */
export class Sink {
  readonly #done: string[] = [];
  #text = '';
  /** astring's state while it prints into this sink: node types printed by astring's own methods need it. */
  state: State | undefined;
  /** Where statements start, when a source map is being made (MappedSink); undefined otherwise. */
  readonly map: MapRecorder | undefined = undefined;

  /** Called by astring (as its `output` stream) and by the printer below. */
  write(code: string): void {
    this.#text += code;
  }

  /** A number, in decimal. */
  writeNumber(value: number): void {
    this.#text += value;
  }

  /** Flattens what was written since the last cut (reading a character flattens a rope in V8; a no-op elsewhere). */
  cut(): void {
    const text = this.#text;
    if (text.length === 0) return;
    text.charCodeAt(0);
    this.#done.push(text);
    this.#text = '';
  }

  /** Everything written. */
  text(): string {
    this.cut();
    return this.#done.join('');
  }
}

/** A Sink that also follows the position of what is written, for a source map. */
export class MappedSink extends Sink {
  override readonly map = new MapRecorder();

  override write(code: string): void {
    super.write(code);
    this.map.advance(code);
  }

  override writeNumber(value: number): void {
    this.write(String(value));
  }
}

/**
 * Prints `node` (a statement or a Program) into `sink`: compact, or readable
 * with the comments attached to statements.
 */
export function printInto(sink: Sink, node: ES.Node, style: 'compact' | 'readable'): void {
  const compact = style === 'compact';
  const generator = compact ? COMPACT : sink.map === undefined ? GENERATOR : MAPPED_READABLE;
  generate(node, { output: sink as never, generator, comments: !compact });
}

// ---------------------------------------------------------------------------
// Precedence (astring's EXPRESSIONS_PRECEDENCE and OPERATOR_PRECEDENCE).

const NEEDS_PARENTHESES = 17;

function precedence(type: string): number {
  switch (type) {
    case 'Identifier': case 'ArrayExpression': case 'TaggedTemplateExpression': case 'ThisExpression':
    case 'PrivateIdentifier': case 'TemplateLiteral': case 'Super': case 'SequenceExpression':
      return 20;
    case 'MemberExpression': case 'ChainExpression': case 'CallExpression': case 'NewExpression': return 19;
    case 'Literal': return 18;
    case 'ArrowFunctionExpression': case 'ClassExpression': case 'FunctionExpression': case 'ObjectExpression':
      return NEEDS_PARENTHESES;
    case 'UpdateExpression': return 16;
    case 'UnaryExpression': case 'AwaitExpression': return 15;
    case 'BinaryExpression': return 14;
    case 'LogicalExpression': return 13;
    case 'ConditionalExpression': return 4;
    case 'AssignmentExpression': return 3;
    case 'YieldExpression': return 2;
    case 'RestElement': return 1;
    // Not in astring's table, which then never parenthesizes it.
    default: return 20;
  }
}

function operatorPrecedence(op: string): number {
  switch (op) {
    case '||': return 2;
    case '??': return 3;
    case '&&': return 4;
    case '|': return 5;
    case '^': return 6;
    case '&': return 7;
    case '==': case '!=': case '===': case '!==': return 8;
    case '<': case '>': case '<=': case '>=': case 'in': case 'instanceof': return 9;
    case '<<': case '>>': case '>>>': return 10;
    case '+': case '-': return 11;
    case '*': case '%': case '/': return 12;
    default: return 13; // '**'
  }
}

type Operation = ES.BinaryExpression | ES.LogicalExpression;

/** astring's rule (expressionNeedsParenthesis), unchanged. */
function needsParens(node: ES.Node, parent: ES.Node, rightHand: boolean): boolean {
  const p = precedence(node.type);
  if (p === NEEDS_PARENTHESES) return true;
  const pp = precedence(parent.type);
  if (p !== pp) {
    return (!rightHand && p === 15 && pp === 14 && (parent as Operation).operator === '**') || p < pp;
  }
  if (p !== 13 && p !== 14) return false;
  const op = (node as Operation).operator;
  const parentOp = (parent as Operation).operator;
  if (op === '**' && parentOp === '**') return !rightHand;
  if (p === 13 && pp === 13 && (op === '??' || parentOp === '??')) return true;
  return rightHand
    ? operatorPrecedence(op) <= operatorPrecedence(parentOp)
    : operatorPrecedence(op) < operatorPrecedence(parentOp);
}

// ---------------------------------------------------------------------------
// The compact printer.

/**
 * The first character `n` prints as, as far as token merging goes: a prefix
 * operator's sign, a literal's first character, or '' for anything that
 * cannot start with `+`, `-` or `!`.
 */
function leadingSign(n: ES.Node): string {
  for (;;) {
    switch (n.type) {
      case 'UnaryExpression': case 'UpdateExpression':
        return n.prefix ? n.operator[0]! : leadingSignOf(n.argument, n);
      case 'Literal': {
        // A number prints from its value: a negative one starts with a sign (num() makes unary minus instead).
        if (typeof n.value === 'number') return n.value < 0 ? '-' : '';
        const raw = (n as { raw?: string }).raw;
        return raw === undefined ? '' : raw[0] ?? '';
      }
      case 'BinaryExpression': case 'LogicalExpression':
        if (needsParens(n.left, n, false)) return '';
        n = n.left;
        break;
      case 'AssignmentExpression': n = n.left; break;
      case 'ConditionalExpression':
        if (precedence(n.test.type) <= 4 || precedence(n.test.type) === NEEDS_PARENTHESES) return '';
        n = n.test;
        break;
      case 'CallExpression': case 'MemberExpression': {
        const inner = n.type === 'CallExpression' ? n.callee : n.object;
        if (precedence(inner.type) < 19 || precedence(inner.type) === NEEDS_PARENTHESES) return '';
        n = inner;
        break;
      }
      default: return '';
    }
  }
}

function leadingSignOf(argument: ES.Node, parent: ES.Node): string {
  return needsParens(argument, parent, false) ? '' : leadingSign(argument);
}

/** Would an operator ending in `last` glue onto a token starting with `first`? */
function merges(last: string, first: string): boolean {
  return first !== '' && (((first === '+' || first === '-') && last === first) || (first === '!' && last === '<'));
}

function isWord(operator: string): boolean {
  const c = operator.charCodeAt(0);
  return c >= 97 && c <= 122;
}

/** An operand of `parent`, parenthesized when precedence requires. */
function operand(n: ES.Node, parent: ES.Node, rightHand: boolean, o: Sink): void {
  // Most operands are names: never parenthesized.
  if (n.type === 'Identifier') {
    o.write(n.name);
    return;
  }
  if (needsParens(n, parent, rightHand)) {
    o.write('(');
    print(n, o);
    o.write(')');
  } else {
    print(n, o);
  }
}

/** An operand that must be parenthesized below `min` precedence (callee, member object, conditional test). */
function operandAbove(n: ES.Node, min: number, o: Sink): boolean {
  const p = precedence(n.type);
  if (p === NEEDS_PARENTHESES || p < min) {
    o.write('(');
    print(n, o);
    o.write(')');
    return true;
  }
  print(n, o);
  return false;
}

/** `(a,b,c)` */
function list(nodes: readonly ES.Node[], o: Sink): void {
  o.write('(');
  for (let i = 0; i < nodes.length; i++) {
    if (i > 0) o.write(',');
    print(nodes[i]!, o);
  }
  o.write(')');
}

/** `{` statements, one per line, `}` */
function block(body: readonly ES.Node[], o: Sink): void {
  o.write('{\n');
  const map = o.map;
  for (let i = 0; i < body.length; i++) {
    if (map !== undefined) mapped(body[i]!, o, map);
    else print(body[i]!, o);
    o.write('\n');
  }
  o.write('}');
}

function binary(n: Operation, o: Sink): void {
  const { operator, right } = n;
  // astring parenthesizes `in` everywhere (it would be ambiguous in a for-initializer).
  if (operator === 'in') o.write('(');
  operand(n.left, n, false, o);
  if (isWord(operator)) {
    o.write(` ${operator} `);
  } else {
    o.write(operator);
    if (merges(operator[operator.length - 1]!, needsParens(right, n, true) ? '' : leadingSign(right))) o.write(' ');
  }
  operand(right, n, true, o);
  if (operator === 'in') o.write(')');
}

function unary(n: ES.UnaryExpression, o: Sink): void {
  const { operator, argument } = n;
  o.write(operator);
  if (needsParens(argument, n, false)) {
    o.write('(');
    print(argument, o);
    o.write(')');
    return;
  }
  if (isWord(operator) || merges(operator, leadingSign(argument))) o.write(' ');
  print(argument, o);
}

/** A number from its value (its `raw`, if any, is not read); anything else as astring prints it. */
function literal(n: ES.Literal, o: Sink): void {
  const { value } = n;
  if (typeof value === 'number') {
    o.writeNumber(value);
    return;
  }
  const raw = (n as { raw?: string }).raw;
  if (raw !== undefined) o.write(raw);
  else GENERATOR.Literal.call(COMPACT, n as never, o.state!);
}

/** Prints a statement with its start marked for a source map. */
function mapped(n: ES.Node, o: Sink, map: MapRecorder): void {
  const marked = map.mark(n);
  print(n, o);
  map.leave(marked);
}

/** Prints any node the JIT emits; others go to astring's method for their type. */
function print(n: ES.Node, o: Sink): void {
  switch (n.type) {
    case 'Identifier':
      o.write(n.name);
      return;
    case 'Literal':
      literal(n, o);
      return;
    case 'BinaryExpression': case 'LogicalExpression':
      binary(n, o);
      return;
    case 'AssignmentExpression':
      print(n.left, o);
      o.write(n.operator);
      print(n.right, o);
      return;
    case 'ExpressionStatement': {
      const e = n.expression;
      // As astring: a function/object first, or an object pattern assigned, needs parentheses.
      if (precedence(e.type) === NEEDS_PARENTHESES || (e.type === 'AssignmentExpression' && e.left.type === 'ObjectPattern')) {
        o.write('(');
        print(e, o);
        o.write(');');
      } else {
        print(e, o);
        o.write(';');
      }
      return;
    }
    case 'MemberExpression':
      // A literal object is parenthesized too (18 < 19): `(1).x`, never the decimal point of `1.x`.
      operandAbove(n.object, 19, o);
      if (n.computed) {
        o.write(n.optional ? '?.[' : '[');
        print(n.property, o);
        o.write(']');
      } else {
        o.write(n.optional ? '?.' : '.');
        print(n.property, o);
      }
      return;
    case 'CallExpression':
      operandAbove(n.callee, 19, o);
      if (n.optional) o.write('?.');
      list(n.arguments, o);
      return;
    case 'UnaryExpression':
      unary(n, o);
      return;
    case 'ConditionalExpression':
      operandAbove(n.test, 5, o);
      o.write('?');
      print(n.consequent, o);
      o.write(':');
      print(n.alternate, o);
      return;
    case 'IfStatement':
      o.write('if(');
      print(n.test, o);
      o.write(')');
      print(n.consequent, o);
      if (n.alternate != null) {
        // `else if`, `else return`: a keyword or name must not touch `else`.
        o.write(n.alternate.type === 'BlockStatement' ? 'else' : 'else ');
        if (o.map !== undefined) mapped(n.alternate, o, o.map);
        else print(n.alternate, o);
      }
      return;
    case 'BlockStatement':
      block(n.body, o);
      return;
    case 'VariableDeclaration': {
      o.write(n.kind);
      o.write(' ');
      const ds = n.declarations;
      for (let i = 0; i < ds.length; i++) {
        if (i > 0) o.write(',');
        const d = ds[i]!;
        print(d.id, o);
        if (d.init != null) {
          o.write('=');
          print(d.init, o);
        }
      }
      o.write(';');
      return;
    }
    case 'ReturnStatement':
      if (n.argument == null) {
        o.write('return;');
      } else {
        o.write('return ');
        print(n.argument, o);
        o.write(';');
      }
      return;
    case 'BreakStatement': case 'ContinueStatement':
      o.write(n.type === 'BreakStatement' ? 'break' : 'continue');
      if (n.label != null) {
        o.write(' ');
        o.write(n.label.name);
      }
      o.write(';');
      return;
    case 'LabeledStatement':
      o.write(n.label.name);
      o.write(':');
      print(n.body, o);
      return;
    case 'WhileStatement':
      o.write('while(');
      print(n.test, o);
      o.write(')');
      print(n.body, o);
      return;
    case 'SwitchStatement':
      o.write('switch(');
      print(n.discriminant, o);
      o.write('){\n');
      for (const c of n.cases) {
        if (c.test == null) {
          o.write('default:\n');
        } else {
          o.write('case ');
          print(c.test, o);
          o.write(':\n');
        }
        for (const s of c.consequent) {
          if (o.map !== undefined) mapped(s, o, o.map);
          else print(s, o);
          o.write('\n');
        }
      }
      o.write('}');
      return;
    case 'ThrowStatement':
      o.write('throw ');
      print(n.argument, o);
      o.write(';');
      return;
    case 'EmptyStatement':
      o.write(';');
      return;
    case 'FunctionDeclaration':
      if (n.async || n.generator) break;
      o.write('function ');
      o.write(n.id.name);
      list(n.params, o);
      block(n.body.body, o);
      return;
    case 'Program':
      for (const s of n.body) {
        if (o.map !== undefined) mapped(s, o, o.map);
        else print(s, o);
        o.write('\n');
      }
      return;
    default:
      break;
  }
  (GENERATOR as unknown as Record<string, (node: ES.Node, state: State) => void>)[n.type]!.call(COMPACT, n, o.state!);
}

/** The node types `print` handles; astring's methods for them are replaced by it. */
const OWN = [
  'Identifier', 'Literal', 'BinaryExpression', 'LogicalExpression', 'AssignmentExpression', 'ExpressionStatement',
  'MemberExpression', 'CallExpression', 'UnaryExpression', 'ConditionalExpression', 'IfStatement', 'BlockStatement',
  'VariableDeclaration', 'ReturnStatement', 'BreakStatement', 'ContinueStatement', 'LabeledStatement',
  'WhileStatement', 'SwitchStatement', 'ThrowStatement', 'EmptyStatement', 'FunctionDeclaration',
] as const;

/**
 * astring's generator with `print` in place of its methods for the types
 * above. astring calls `generator[type](node, state)`, and its remaining
 * methods call `this[type]` for their children, so printing comes back here.
 */
const COMPACT: Generator = Object.freeze({
  ...GENERATOR,
  ...Object.fromEntries(['Program', ...OWN].map((type) => [type, enter])),
}) as unknown as Generator;

/** astring's way in: remember its state (for the types it prints itself), then print. */
function enter(n: ES.Node, state: State): void {
  const sink = (state as State & { output: Sink }).output;
  sink.state = state;
  print(n, sink);
}

/** Statement types astring prints whose start a readable source map records. */
const STATEMENTS = [
  'ExpressionStatement', 'IfStatement', 'BlockStatement', 'VariableDeclaration', 'ReturnStatement', 'BreakStatement',
  'ContinueStatement', 'LabeledStatement', 'WhileStatement', 'DoWhileStatement', 'ForStatement', 'SwitchStatement',
  'ThrowStatement', 'EmptyStatement', 'FunctionDeclaration',
] as const;

/**
 * astring's own generator (the readable style), with each statement's start
 * marked in the sink's recorder: astring writes the indentation, then calls
 * the statement's method, so the position is that of the statement's code.
 */
const MAPPED_READABLE: Generator = Object.freeze({
  ...GENERATOR,
  ...Object.fromEntries(STATEMENTS.map((type) => {
    const method = (GENERATOR as unknown as Record<string, (node: ES.Node, state: State) => void>)[type]!;
    return [type, function (this: Generator, n: ES.Node, state: State): void {
      const map = (state as State & { output: Sink }).output.map!;
      const marked = map.mark(n);
      method.call(this, n, state);
      map.leave(marked);
    }];
  })),
}) as unknown as Generator;
