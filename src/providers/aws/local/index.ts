/**
 * The local AWS sandbox — moto server, the fault layer, the node emulator — for the provider's tests
 * and `patchwave demo --provider aws`. Never used against a real account. See docs/aws.md.
 */
export { ensureMoto, freePort, MOTO_REQUIREMENT, startMoto, type MotoServer } from './moto';
export { AwsFaultLayer, parseAwsRequest, render, xmlEscape, type AwsProtocol, type AwsRequest, type FaultAnswer, type FaultRule, type Forward, type RawAnswer, type RecordedCall, type Responder } from './fault-layer';
export { PATCH_PLUGINS, sha256, SsmAgentEmulator, type EmulatorOptions, type NodeOs } from './node-emulator';
export { memberList, SANDBOX_CREDENTIALS, SANDBOX_REGION, sandboxClients, standbyHistory, startLocalAwsSandbox, type LocalAwsSandbox, type LocalAwsSandboxOptions, type StandbyHistory } from './sandbox';
export { moveLaunchTemplateDuringPatch, readSandboxEndState, type SandboxEndState, type SandboxSnapshot } from './scenario';
