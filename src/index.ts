export * from './core';
export * from './delivery';
export * from './cluster';
export * from './database';
export * from './compliance';
export * from './observability';
export * from './microservice';
