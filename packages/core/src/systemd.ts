/**
 * The systemd helpers: unit-file quoting (`systemd/quote.ts`) and the service → unit mapping
 * (`systemd/service.ts`, one function per aspect), shared by render-systemd and render-nixos.
 */

export { emptyRecord, setEntry } from "./record.js";
export type {
  SystemdService,
  SystemdServiceOptions,
} from "./systemd/context.js";
export { isOneshotService } from "./systemd/deployment-index.js";
export { healthcheckBudget } from "./systemd/health.js";
export {
  checkUnitLineLength,
  environmentLine,
  execLine,
  MAX_UNIT_LINE_BYTES,
  parseExecLine,
  rawUnitText,
  SystemdQuoteError,
  type SystemdRefResolver,
  systemdMemory,
  systemdTimespan,
  type UnitSpecifierText,
  unitEscape,
  unitPlainValue,
  unitQuote,
  unitValueProblem,
} from "./systemd/quote.js";
export { systemdServiceOf } from "./systemd/service.js";
