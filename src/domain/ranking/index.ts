/** Ranking: assessment, urgency, tiers, dependency blocks and reasons. The planner assembles them. */
export * from './affected';
export * from './assessment';
export * from './context';
export * from './graph';
export * from './reasons';
export * from './tiers';
export * from './urgency';
