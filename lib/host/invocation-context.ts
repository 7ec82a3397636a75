/**
 * The InvocationContext `watchdog serve` hands a handler: the official type, as
 * the Functions host builds it, with its log lines going to the host's logger
 * under the function's name.
 */
import { randomUUID } from "node:crypto";
import azureFunctions, { type InvocationContext } from "@azure/functions";
import type { Logger } from "../logger.js";
import { errorMessage } from "../errors.js";

const { InvocationContext: Context } = azureFunctions;

export function contextFor(functionName: string, logger: Logger): InvocationContext {
  return new Context({
    functionName,
    invocationId: randomUUID(),
    logHandler: (level, ...args) => {
      const text = args.map((a) => (typeof a === "string" ? a : errorMessage(a))).join(" ");
      if (level === "error" || level === "critical") logger.error(`[${functionName}] ${text}`);
      else if (level === "warning") logger.warn(`[${functionName}] ${text}`);
      else if (level === "debug" || level === "trace") logger.debug(`[${functionName}] ${text}`);
      else logger.info(`[${functionName}] ${text}`);
    },
  });
}
