// One fastify server factory for Fjord's HTTP side (Schema Registry, REST Proxy): pino logs,
// Confluent-style JSON error bodies, JSON parsing for every vendor content type they use.
import { Server as TlsServer } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

export interface HttpServerOptions {
  /** pino log level; 'silent' by default so tests stay quiet. */
  logLevel?: string;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  /** HTTPS key and certificate (PEM); plain HTTP when absent. */
  https?: { key: string; cert: string };
}

/** An error that becomes `{"error_code": code, "message": message}` with HTTP `status`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function createHttpServer(options: HttpServerOptions = {}): FastifyInstance {
  const opts: FastifyServerOptions = {
    logger: { level: options.logLevel ?? 'silent' },
    bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024,
    // Confluent clients send "subjects/a%2Fb"; keep routing on the decoded path segments.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    forceCloseConnections: true,
    ...(options.https ? { https: options.https } : {}),
  };
  const app = Fastify(opts) as unknown as FastifyInstance;
  // JSON bodies under every content type the registry and proxy accept; other types are left
  // to the plugins (the proxy answers 415 itself). An empty body is allowed (some clients POST
  // without one).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(/^application\/(.+\+)?json/, { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HttpError(422, 422, `Unrecognized JSON body: ${(err as Error).message}`), undefined);
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof HttpError) {
      void reply.status(err.status).send({ error_code: err.errorCode, message: err.message });
      return;
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      void reply.status(413).send({ error_code: 413, message: 'Request body is too large' });
      return;
    }
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      void reply.status(415).send({ error_code: 415, message: `Unsupported media type: ${e.message}` });
      return;
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      void reply.status(e.statusCode).send({ error_code: e.statusCode, message: e.message });
      return;
    }
    reply.log.error(err);
    void reply.status(500).send({ error_code: 50001, message: `Error in the backend data store: ${e.message}` });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error_code: 404, message: `HTTP 404 Not Found: ${req.method} ${req.url}` });
  });
  return app;
}

/** Listens on host:port; a taken port becomes an Error whose message says which. */
export async function listen(app: FastifyInstance, host: string, port: number, what: string): Promise<string> {
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new Error(`${what}: port ${port} on ${host} is already in use`);
    throw err;
  }
  const addr = app.server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  const scheme = app.server instanceof TlsServer ? 'https' : 'http';
  return `${scheme}://${host}:${actual}`;
}
