/** The Ids port from node:crypto: [a-z0-9] strings, uniformly random (randomInt has no modulo bias). */
import { randomInt } from 'node:crypto';
import type { Ids } from '../ports.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export const randomIds: Ids = {
  random: (n) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''),
};
