/**
 * The validation policy: loaded once from configuration, applied before and after detection.
 *
 * @example
 * import { loadPolicy, precheck, evaluate } from "./policy/index.js";
 */
export {
  DEFAULT_POLICY,
  evaluate,
  loadPolicy,
  type Policy,
  PolicyError,
  parsePolicy,
  precheck,
} from "./policy.js";
