/**
 * Gathers what a pass decides about incidents, applies it (or, in a dry run,
 * lists it), and resolves incidents of a kind that this pass no longer raised.
 */
import type { IncidentManager } from "./incident-manager.js";
import type { Announcement, Signal } from "./incident.js";

/** An incident that no longer holds, and the note it is resolved with. */
export interface Resolution {
  key: string;
  note: string;
}

export class AlertCollector {
  readonly #raised = new Map<string, Signal>();
  readonly #resolved = new Map<string, string>();
  readonly #announced: Announcement[] = [];
  firingCritical = false;

  constructor(
    private readonly incidents: IncidentManager,
    private readonly dryRun: boolean,
    private readonly note: (line: string) => void,
  ) {}

  raise(signal: Signal): void {
    this.#raised.set(signal.key, signal);
    this.#resolved.delete(signal.key);
    if (signal.severity === "critical") this.firingCritical = true;
  }

  resolve(key: string, note: string): void {
    if (!this.#raised.has(key)) this.#resolved.set(key, note);
  }

  announce(a: Announcement): void {
    this.#announced.push(a);
  }

  async resolveStale(
    kind: string,
    note: string,
    applies: (incident: { details: Record<string, unknown> }) => boolean,
  ): Promise<void> {
    for await (const incident of this.incidents.open()) {
      if (incident.kind === kind && !this.#raised.has(incident.key) && applies(incident))
        this.resolve(incident.key, note);
    }
  }

  async flush(): Promise<void> {
    for (const signal of this.#raised.values()) {
      if (this.dryRun) {
        const existing = await this.incidents.get(signal.key);
        if (existing?.status !== "firing")
          this.note(`raise ${signal.severity} incident ${signal.key}: ${signal.summary}`);
      } else await this.incidents.raise(signal);
    }
    for (const [key, note] of this.#resolved) {
      const existing = await this.incidents.get(key);
      if (existing?.status !== "firing") continue;
      if (this.dryRun) this.note(`resolve incident ${key}: ${note}`);
      else await this.incidents.resolve(key, note);
    }
    for (const a of this.#announced) {
      if (this.dryRun) this.note(`announce ${a.event}: ${a.summary}`);
      else await this.incidents.announce(a);
    }
  }
}
