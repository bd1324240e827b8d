// Documented exit codes (README § CLI). Stable contract: scripts and harnesses depend on them.
export const EXIT = {
  ok: 0,
  /** invalid input or an operation that failed; nothing of the input took effect */
  failed: 1,
  /** bad command line */
  usage: 2,
  /** applied, but some objects were rejected (a pod annotation that does not parse fails closed) */
  applied_with_rejections: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
