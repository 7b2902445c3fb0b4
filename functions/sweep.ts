export { sweepHandler as handler } from '../lib/lambda/sweep-handler.js';
