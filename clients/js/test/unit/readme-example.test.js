import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

test("README's example is the one the type check compiles", () => {
  const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## JavaScript clients')))?.[1];
  const checked = readFileSync(new URL('../types/readme-example.ts', import.meta.url), 'utf8').replace(/^(\/\/.*\n)+/, '');
  assert.equal(example, checked);
});
