/** The emulated SSM Agent / OS behind the fault layer: moved to src/providers/aws/local/node-emulator.ts (the demo uses it too). */
export * from '../../src/providers/aws/local/node-emulator';
