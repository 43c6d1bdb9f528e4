/**
 * The availability cap: the one number no policy may raise, and what it means for a cluster of a
 * given size (the planner, the window and the policy check all use it).
 */

/** The availability cap no policy may exceed: product.md §4. */
export const MAX_UNAVAILABLE_FRACTION = 0.25;

/** Nodes of a cluster allowed out of service at once: floor(fraction × size), never below one. */
export function clusterCap(clusterSize: number, fraction: number = MAX_UNAVAILABLE_FRACTION): number {
  const bounded = Math.min(fraction, MAX_UNAVAILABLE_FRACTION);
  return Math.max(1, Math.floor(bounded * clusterSize + 1e-9));
}
