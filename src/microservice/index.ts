export * from './image';
export * from './props';
export * from './microservice';
export * from './service-stacks';
export * from './workload';
export * from './probes';
export * from './container';
