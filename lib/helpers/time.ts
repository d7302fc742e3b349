// The clock helpers: ktime_get_ns (5), jiffies64 (118), ktime_get_boot_ns
// (125). The clocks belong to the Vm's HelperEnv (env.ts), which a test can
// replace with fixed ones.

import { helper, type StandardHelper } from './common.js';

export const timeHelpers: readonly StandardHelper[] = Object.freeze([
  helper(5, 'ktime_get_ns', (_1, _2, _3, _4, _5, ctx) => ctx.run.env.ktimeNs()),
  helper(118, 'jiffies64', (_1, _2, _3, _4, _5, ctx) => ctx.run.env.jiffies()),
  helper(125, 'ktime_get_boot_ns', (_1, _2, _3, _4, _5, ctx) => ctx.run.env.bootNs()),
]);
