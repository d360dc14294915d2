export * from './compliance';
export * from './recording';
export * from './rules';
