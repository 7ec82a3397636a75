/**
 * Directory fsyncs shared by writers (group commit). A rename, link or unlink
 * is durable once its directory is fsynced by a sync that *started* after it.
 * Under load many writers land in the same directory (`deliveries`, `outbox`)
 * at once: each one waiting for a sync of its own queued the disk's slowest
 * operation once per write. Here a writer joins the next sync of its directory
 * to start: at most one runs and one waits per directory, whoever asks.
 * Imports only `node:` modules and its siblings (see file-store.ts).
 */
import { syncDir } from "./file-record.js";

interface Queued {
  promise: Promise<void>;
  start(): void;
}

interface DirState {
  running: Promise<void> | undefined;
  /** The sync that starts when the running one ends: everyone who asked since it started. */
  queued: Queued | undefined;
}

export class DirSyncs {
  readonly #dirs = new Map<string, DirState>();
  readonly #sync: (dir: string) => Promise<void>;

  constructor(sync: (dir: string) => Promise<void> = syncDir) {
    this.#sync = sync;
  }

  /** Resolves once `dir` has been fsynced by a sync that started after this call. */
  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (state === undefined) {
      state = { running: undefined, queued: undefined };
      this.#dirs.set(dir, state);
    }
    // The running sync may have started before the caller's rename: it cannot count for it.
    if (state.running === undefined) return this.#start(dir, state);
    state.queued ??= this.#queue(dir, state);
    return state.queued.promise;
  }

  #queue(dir: string, state: DirState): Queued {
    let start!: () => void;
    const promise = new Promise<void>((resolve, reject) => {
      start = () => {
        this.#start(dir, state).then(resolve, reject);
      };
    });
    return { promise, start };
  }

  #start(dir: string, state: DirState): Promise<void> {
    const run = this.#sync(dir).finally(() => {
      state.running = undefined;
      const next = state.queued;
      state.queued = undefined;
      if (next !== undefined) next.start();
      else this.#dirs.delete(dir);
    });
    state.running = run;
    return run;
  }
}
