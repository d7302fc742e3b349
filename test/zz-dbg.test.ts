import { generate } from 'astring';
import { it } from 'vitest';
import { assembleSlots } from '../lib/asm.js';
import { validateSlots } from '../lib/validate.js';
import { expr, fn, method, num, ret, index, bin, member } from '../codegen/ast.js';
import { buildFunctionCfgs } from '../codegen/cfg.js';
import { structureFunction } from '../codegen/structure.js';
it('dbg', () => {
  const text = process.env.PROG!;
  const [cfg] = buildFunctionCfgs(validateSlots(assembleSlots(text), { helperExists: () => true }));
  const body = structureFunction(cfg!, { body: (b) => [expr(method('trace', 'push', [num(b.id)]))], test: (b) => index('d', num(b.id)), backwardJump: (i) => [expr(method('back', 'push', [num(i.pc)]))], exit: (b) => [ret(num(b.id))] });
  console.log(generate(fn('f', ['d'], body)));
});
