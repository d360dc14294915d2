export * from './database';
export * from './props';
