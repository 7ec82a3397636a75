/**
 * The state store's side of the redaction choke point: every value written is
 * passed through the process's redactor first. Records hold error texts and
 * incident details that came from services; a service that echoes a request
 * (a bearer token, an API key) must not get it written to durable storage,
 * where it would outlive the process and every log retention rule.
 */
import { outputRedactor, type Redactor } from "../redaction.js";
import type { StateStore } from "./store.js";

/**
 * A Proxy rather than a wrapper object, so the store is still what it was (`instanceof`, its own
 * members such as a table store's client) and only `put` changes. Methods are bound to the store
 * itself: its private fields are not reachable through a proxy.
 */
export function redactingStore<S extends StateStore>(inner: S, redactor: Redactor = outputRedactor): S {
  const put: StateStore["put"] = (collection, key, value, options) =>
    inner.put(collection, key, redactor.redactValue(value), options);
  return new Proxy(inner, {
    get(target, property) {
      if (property === "put") return put;
      const member: unknown = Reflect.get(target, property, target);
      return typeof member === "function" ? (member as (...a: unknown[]) => unknown).bind(target) : member;
    },
  });
}
