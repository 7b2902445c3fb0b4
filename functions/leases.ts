import { httpHandler } from '../lib/lambda/http-handler.js';

export const handler = httpHandler('leases');
