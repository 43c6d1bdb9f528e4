/** The AWS fleet provider: see docs/aws.md. */
export { AwsFleetProvider, PATCH_DOCUMENT, SHELL_DOCUMENT, type AwsProviderOptions } from './provider';
export { createAwsClients, DEFAULT_MAX_ATTEMPTS, type AwsClientOptions, type AwsClients } from './clients';
export { createAwsProvider, type AwsProviderConfig } from './factory';
export { seedFleet, DEMO_PACKAGES, DEMO_FIXED_PACKAGES, type SeedOptions, type SeededFleet } from './seed';
export { READ_TAGS, WRITE_TAGS } from './tags';
export type { PackageSource } from './inventory';
