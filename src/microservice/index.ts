export * from './image';
export * from './props';
export * from './microservice';
export * from './service-stacks';
