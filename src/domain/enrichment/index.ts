export * from './cvss';
export * from './epss';
export * from './kev';
export * from './nvd';
