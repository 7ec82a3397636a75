/** The rotation's named steps, what it needs, and what it reports. */
import type { SecretCheck, SecretCheckInput } from "../clients/entra-token.js";
import type { RotationPorts } from "./ports.js";

export type RotationStep =
  | "inflight-recorded"
  | "password-added"
  | "key-recorded"
  | "secret-proven"
  | "key-sent"
  | "connector-patched"
  | "key-installed"
  | "others-superseded"
  | "inflight-cleared";

export const ROTATION_STEPS: readonly RotationStep[] = [
  "inflight-recorded",
  "password-added",
  "key-recorded",
  "secret-proven",
  "key-sent",
  "connector-patched",
  "key-installed",
  "others-superseded",
  "inflight-cleared",
];

export interface RotationDeps extends RotationPorts {
  checkSecret: (input: SecretCheckInput) => Promise<SecretCheck>;
  /** This store's installation: written into every key's marker. */
  installationId: string;
  /** Test seam: runs after each step; throwing there is a crash at that point. */
  afterStep?: (step: RotationStep) => Promise<void> | void;
}

export type RotationOutcome =
  | {
      status: "rotated";
      rotationId: string;
      keyId: string;
      endDateTime: string;
      lifetimeDays: number;
      propagationMs: number;
      superseded: string[];
      warnings: string[];
    }
  | {
      status: "failed";
      rotationId: string;
      reason: string;
      /** What a person must do, when waiting will not fix it. */
      instructions?: string;
      /** The PATCH may or may not have reached Nylas: the new key is kept, marked ambiguous. */
      ambiguous?: boolean;
      warnings: string[];
    };
