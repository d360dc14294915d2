export * from './database';
export * from './props';
export * from './service-role';
export * from './service-role-options';
