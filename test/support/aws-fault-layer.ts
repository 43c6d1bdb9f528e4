/** The fault-injecting HTTP layer in front of moto: moved to src/providers/aws/local/fault-layer.ts (the demo uses it too). */
export * from '../../src/providers/aws/local/fault-layer';
