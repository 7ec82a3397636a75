/**
 * What a sandbox chapter is handed: the simulator, the story's clock, the
 * settings, and how to speak. In its own file so chapters and the story that
 * runs them do not import each other.
 */
import type { ManualClock } from "../clock.js";
import type { Deps } from "../deps.js";
import type { Logger } from "../logger.js";
import type { Simulator } from "../sim/index.js";

export interface StoryContext {
  sim: Simulator;
  clock: ManualClock;
  env: Record<string, string>;
  say: (text?: string) => void;
  heading: (text: string) => void;
  deps: () => Deps;
  logger: Logger;
}

/**
 * Where the story is told: stdout for the story, stderr for verbose progress.
 * The CLI's CliIo fits; declared here so the sandbox does not import the CLI
 * that runs it.
 */
export interface StoryIo {
  out(text: string): void;
  err(text: string): void;
}
