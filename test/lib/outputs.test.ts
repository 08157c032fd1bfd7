import { strict as assert } from 'node:assert';
import { OUTPUT_KEYS } from '../../automation/adapters/aws/topology';
import { PEER_OUTPUTS, STACK_OUTPUTS } from '../../lib/outputs';
import { PRIMARY_OUTPUTS, runStack, SECONDARY_OUTPUTS } from '../helpers/stacks';

describe('lib/outputs: the stack output names, once', () => {
  it('every name is its own value', () => {
    for (const [k, v] of Object.entries(STACK_OUTPUTS)) assert.equal(v, k);
  });

  it('the primary program exports exactly these outputs', async () => {
    const run = await runStack('primary');
    assert.deepEqual(Object.keys(run.outputs).sort(), Object.keys(STACK_OUTPUTS).sort());
  });

  it('the peer outputs and the fixtures standing in for a peer stack are stack outputs', () => {
    const names = Object.values(STACK_OUTPUTS) as string[];
    for (const n of Object.values(PEER_OUTPUTS)) assert.ok(names.includes(n), n);
    for (const n of [...Object.keys(PRIMARY_OUTPUTS), ...Object.keys(SECONDARY_OUTPUTS)]) assert.ok(names.includes(n), n);
  });

  it('the dr CLI reads the same names (automation/adapters/aws/topology.ts)', () => {
    assert.equal(OUTPUT_KEYS, STACK_OUTPUTS);
  });
});
