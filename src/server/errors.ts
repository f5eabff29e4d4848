import { CatalogError } from "../engine/errors.js";

/**
 * A request the API refuses because of what it asked for (a bad parameter, a
 * path that climbs out of its folder, a body too large). Carries the HTTP
 * status; the message is shown to the caller as is.
 *
 * @example
 * throw new RequestError(400, "query parameter 'limit' must be an integer from 1 to 500");
 */
export class RequestError extends CatalogError {
  constructor(
    readonly status: 400 | 404 | 413 | 415,
    message: string,
    options?: ErrorOptions & {
      /** Fields the answer carries beside `error`, e.g. what an upload stored before it was refused. */
      fields?: Record<string, unknown>;
    },
  ) {
    super(message, options);
    this.name = "RequestError";
    this.fields = options?.fields ?? {};
  }

  readonly fields: Record<string, unknown>;
}
