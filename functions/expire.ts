export { expireHandler as handler } from '../lib/lambda/expire-handler.js';
