import { describe, expect, it } from 'vitest';
import { isKernelPackage } from '../../../src/domain/ranking/kernel';

describe('kernel packages', () => {
  it.each(['linux-image-aws', 'linux-image-5.15.0-1019-aws', 'linux-modules-5.15.0-1019-aws', 'linux-aws', 'linux-generic', 'linux-image-generic', 'kernel', 'kernel-core', 'kernel-modules-extra', 'kernel-default', 'kernel-uek', 'kernel-rt-core'])(
    '%s is the running kernel',
    (name) => expect(isKernelPackage(name)).toBe(true),
  );
  it.each(['linux-headers-5.15.0-1019-aws', 'linux-libc-dev', 'linux-firmware', 'linux-tools-common', 'kernel-headers', 'kernel-devel', 'kernel-tools', 'kernel-livepatch-5_14_21', 'openssh-server', 'linuxptp', 'kernelshark'])(
    '%s is not',
    (name) => expect(isKernelPackage(name)).toBe(false),
  );
});
