export * from './props';
export * from './observability';
