// Configuration of the agent's HTTP listeners and of the state directory, as zod schemas that config.ts
// composes. Credentials are only ever read from files the user supplies (Secret mounts): nothing here
// generates a token, a password or a certificate.
import { z } from 'zod';

const address = z.union([z.ipv4(), z.ipv6()]);
const port = z.number().int().min(1).max(65535);
const absolutePath = z.string().startsWith('/');

export const healthSchema = z.strictObject({
  address: address.default('127.0.0.1'),
  port: port.default(9876),
});

export const metricsSchema = z.strictObject({
  address: address.default('127.0.0.1'),
  port: port.default(9877),
  /** Serve an open (no authentication, no TLS) listener on a non-loopback address anyway. */
  insecureMetrics: z.boolean().default(false),
  tls: z
    .strictObject({
      certFile: absolutePath,
      keyFile: absolutePath,
    })
    .optional(),
  auth: z
    .strictObject({
      /** Bearer tokens checked with TokenReview, then SubjectAccessReview (get on nonResourceURL /metrics). */
      tokenReview: z
        .strictObject({
          /** Audiences the token must be bound to; empty = the API server's default audience. */
          audiences: z.array(z.string().min(1)).default([]),
          /** How long a review answer is reused for the same token. */
          cacheSeconds: z.number().int().min(0).max(600).default(60),
        })
        .optional(),
      /** File with one accepted bearer token per line ('#' comments and blank lines ignored). */
      tokensFile: absolutePath.optional(),
      /** File with one `user:password` per line, for HTTP basic authentication. */
      basicAuthFile: absolutePath.optional(),
    })
    .optional(),
});

export type HealthConfig = z.infer<typeof healthSchema>;
export type MetricsConfig = z.infer<typeof metricsSchema>;

/** Where the agent and `moat apply` leave state for other commands (the name table for flows and advise). */
export const stateDirSchema = absolutePath.default('/var/run/moat');
