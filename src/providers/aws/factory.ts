/**
 * The AWS provider as the worker builds it from CLI flags and environment. Production leaves
 * `endpoint` unset and gets everything from the standard AWS chain; an `endpoint` (moto, the fault
 * layer) is a test peer, so a region and dummy credentials are filled in when the chain has none.
 */
import { AwsFleetProvider, type AwsProviderOptions } from './provider';
import type { PackageSource } from './inventory';

export interface AwsProviderConfig {
  region?: string;
  endpoint?: string;
  /** Default: `PATCHWAVE_AWS_PACKAGE_SOURCE`, else `ssm-inventory`. */
  packageSource?: PackageSource;
  maxAttempts?: number;
  /** Anything else the provider takes (timeouts, poll interval, config files). */
  provider?: Omit<AwsProviderOptions, 'clients' | 'clientOptions' | 'packageSource'>;
}

export function createAwsProvider(config: AwsProviderConfig = {}): AwsFleetProvider {
  const testPeer = Boolean(config.endpoint);
  const source = config.packageSource ?? process.env.PATCHWAVE_AWS_PACKAGE_SOURCE;
  if (source !== undefined && source !== 'ssm-inventory' && source !== 'tags') {
    throw new Error(`package source must be ssm-inventory or tags, got ${JSON.stringify(source)} (PATCHWAVE_AWS_PACKAGE_SOURCE)`);
  }
  const overrideBucket = config.provider?.baselineOverrideBucket ?? process.env.PATCHWAVE_AWS_OVERRIDE_BUCKET;
  const bundleBucket = config.provider?.bundleBucket ?? process.env.PATCHWAVE_AWS_BUNDLE_BUCKET;
  return new AwsFleetProvider({
    ...config.provider,
    ...(overrideBucket && { baselineOverrideBucket: overrideBucket }),
    ...(bundleBucket && { bundleBucket }),
    packageSource: source,
    clientOptions: {
      region: config.region ?? (testPeer ? (process.env.AWS_REGION ?? 'us-east-1') : undefined),
      endpoint: config.endpoint,
      maxAttempts: config.maxAttempts,
      // moto accepts any signature; never invent credentials for a real endpoint.
      credentials: testPeer && !process.env.AWS_ACCESS_KEY_ID ? { accessKeyId: 'testing', secretAccessKey: 'testing' } : undefined,
    },
  });
}
