export * from './profile';
export * from './versions';
