/** moto server for the tests: moved to src/providers/aws/local/moto.ts (the demo uses it too). */
export * from '../../src/providers/aws/local/moto';
