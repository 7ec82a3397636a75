import { describe, expect, it } from "vitest";
import { HttpError } from "../../../lib/errors.js";
import { isTransient } from "../../../lib/clients/retry.js";

const error = (statusCode: number, code?: string) =>
  new HttpError("x", { service: "nylas", statusCode, code });

describe("isTransient", () => {
  it.each([0, 429, 502, 503, 504])("retries status %i", (status) => {
    expect(isTransient(error(status))).toBe(true);
  });

  it.each(["rate_limit_error", "nylas_rate_limit_exceeded"])(
    "retries Nylas's rate-limit type %s whatever the status",
    (type) => {
      expect(isTransient(error(400, type))).toBe(true);
    },
  );

  it.each([400, 401, 403, 404, 500])("does not retry status %i without a rate-limit type", (status) => {
    expect(isTransient(error(status, "invalid_request_error"))).toBe(false);
  });
});
