/**
 * Kernel packages: a fix to one of them is live only after the node boots the new kernel (or a
 * livepatch, which the node's verification reports). On a tier the policy patches without reboot
 * (`noRebootRoles`: databases, queues, caches) the running kernel therefore stays vulnerable until
 * a maintenance reboot — the plan says so, naming the nodes (docs/ranking.md §3).
 *
 * The names are the kernel image packages of Debian/Ubuntu (`linux-image-*`, `linux-modules-*`, the
 * `linux-aws`/`linux-generic` metapackages) and of the rpm family (`kernel`, `kernel-core`,
 * `kernel-modules*`, SUSE `kernel-default`, Oracle `kernel-uek`, `kernel-rt`). Headers, tools,
 * firmware and `linux-libc-dev` are not the running kernel.
 */
const KERNEL_PACKAGE =
  /^(linux-image(-.+)?|linux-modules(-.+)?|linux-(aws|azure|gcp|oracle|kvm|generic|virtual|lowlatency)(-.+)?|linux-signed(-.+)?|linux-hwe(-.+)?|kernel|kernel-(core|modules(-.+)?|default|uek(-core)?|rt(-core)?|64k(-core)?|aws|azure|zfcpdump))$/;
const NOT_THE_KERNEL = /^(linux-(headers|tools|libc-dev|firmware|source|doc)|kernel-(headers|devel|tools|doc|firmware|livepatch))/;

export function isKernelPackage(name: string): boolean {
  const n = name.trim().toLowerCase();
  return KERNEL_PACKAGE.test(n) && !NOT_THE_KERNEL.test(n);
}

/** What the plan says when a kernel fix lands on a tier that must not reboot. */
export const KERNEL_NO_REBOOT_PHRASE = 'the running kernel stays vulnerable until a maintenance reboot';
