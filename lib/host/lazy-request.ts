/**
 * The HttpRequest `watchdog serve` hands a handler: the real `@azure/functions`
 * class, built on a request that makes undici's `Request` only when a handler
 * asks for what only it has (the body as a stream, a Blob, form data, a clone).
 *
 * Why: a `Request` with a body sets up a web stream and an AbortSignal per
 * request, and that was most of serve's cost under load (bench/RESULTS.md,
 * "serve"). A webhook reads its raw bytes once (`arrayBuffer()`), so those are
 * answered from the buffer already read. The class takes such a request through
 * its `nativeRequest` init, the way the Functions worker itself builds one
 * around a streamed body (`createStreamRequest` in @azure/functions 4.x).
 */
import azureFunctions, { type HttpRequest, type HttpRequestInit } from "@azure/functions";

const { HttpRequest: AzureHttpRequest } = azureFunctions;

/** undici's own message for a second read, so a handler sees the same TypeError either way. */
const BODY_UNUSABLE = "Body is unusable: Body has already been read";

/** What HttpRequest reads of its native request: the members of `Request` it delegates to. */
type NativeRequest = Pick<
  Request,
  "url" | "method" | "headers" | "body" | "bodyUsed" | "arrayBuffer" | "blob" | "formData" | "json" | "text"
> & { clone(): NativeRequest };

class LazyNativeRequest implements NativeRequest {
  readonly url: string;
  readonly method: string;
  readonly #headerInit: Record<string, string>;
  readonly #bytes: Buffer | undefined;
  #headers: Headers | undefined;
  #real: Request | undefined;
  #used = false;

  constructor(url: string, method: string, headers: Record<string, string>, bytes: Buffer | undefined) {
    this.url = url;
    this.method = method;
    this.#headerInit = headers;
    this.#bytes = bytes;
  }

  get headers(): Headers {
    // One Headers object for the request's life, whether or not the Request is made later.
    this.#headers ??= this.#real?.headers ?? new Headers(this.#headerInit);
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#bytes === undefined ? null : this.#request().body;
  }

  get bodyUsed(): boolean {
    return this.#real?.bodyUsed ?? this.#used;
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real !== undefined) return this.#real.arrayBuffer();
    const bytes = this.#take();
    // A copy, as undici gives: the handler may keep or change it.
    return Promise.resolve(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer,
    );
  }

  text(): Promise<string> {
    if (this.#real !== undefined) return this.#real.text();
    // UTF-8 with the BOM dropped and bad sequences replaced: the decoding undici's text() uses.
    return Promise.resolve(new TextDecoder().decode(this.#take()));
  }

  async json(): Promise<unknown> {
    if (this.#real !== undefined) return this.#real.json();
    return JSON.parse(await this.text()) as unknown;
  }

  blob(): Promise<Blob> {
    return this.#request().blob();
  }

  formData(): Promise<FormData> {
    return this.#request().formData();
  }

  clone(): NativeRequest {
    if (this.#real !== undefined) return this.#real.clone();
    if (this.#used) throw new TypeError("Request.clone: Body has already been consumed.");
    return new LazyNativeRequest(this.url, this.method, Object.fromEntries(this.headers), this.#bytes);
  }

  /** The bytes, once: a request without a body reads as empty any number of times, as undici's does. */
  #take(): Buffer {
    if (this.#bytes === undefined) return Buffer.alloc(0);
    if (this.#used) throw new TypeError(BODY_UNUSABLE);
    this.#used = true;
    return this.#bytes;
  }

  #request(): Request {
    if (this.#real === undefined) {
      const init: RequestInit = { method: this.method, headers: this.headers };
      if (this.#bytes !== undefined) init.body = this.#bytes;
      this.#real = new Request(this.url, init);
      // Read already through the fast path: the stream must look consumed too.
      if (this.#used) void this.#real.arrayBuffer().catch(() => undefined);
    }
    return this.#real;
  }
}

/** `nativeRequest` is an init the class reads but its typings do not list. */
interface NativeRequestInit extends HttpRequestInit {
  nativeRequest: NativeRequest;
}

/**
 * An HttpRequest a handler cannot tell from `new HttpRequest({ method, url,
 * headers, body: { bytes } })`: same url, method, headers, query and body
 * reads (test/lib/host/lazy-request.test.ts compares the two).
 */
export function lazyHttpRequest(options: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Buffer | undefined;
}): HttpRequest {
  const { method, url, headers, body } = options;
  const init: NativeRequestInit = {
    method,
    url: url.href,
    // GET and HEAD carry no body, as HttpRequest itself ensures.
    nativeRequest: new LazyNativeRequest(
      url.href,
      method,
      headers,
      method === "GET" || method === "HEAD" ? undefined : body,
    ),
  };
  return new AzureHttpRequest(init);
}
