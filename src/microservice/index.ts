export * from './image';
export * from './props';
export * from './microservice';
